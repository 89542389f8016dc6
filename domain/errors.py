"""The domain's expected failures, each with a stable code and a sentence a person can act on."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure of a command; raised before any event is recorded."""

    code = "ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class InvalidStateError(DomainError):
    code = "INVALID_STATE"


class InvalidInputError(DomainError):
    """Input that breaks a rule; `field` names the input at fault, e.g. 'email'."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: str | None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class ConflictError(DomainError):
    """A unique value (email, username, group name) is already held by someone else."""

    code = "CONFLICT"


class InvalidInvitationError(DomainError):
    """An invitation token that cannot be accepted; the message says why and what to do."""

    code = "INVALID_INVITATION"
