"""Top-level errors with stable `extensions.code` values, and the mapping of domain
failures to `Problem` members: the one place where either is decided."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from graphql import GraphQLError

from domain.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)
from schema.types.problems import Conflict, InvalidInput, InvalidState, NotFound


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def bad_user_input(message: str, *, argument: str | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    if argument is not None:
        extensions["argument"] = argument
    return GraphQLError(message, extensions=extensions)


def problem_for(error: DomainError) -> NotFound | InvalidState | InvalidInput | Conflict:
    if isinstance(error, NotFoundError):
        return NotFound(code=error.code, message=error.message)
    if isinstance(error, InvalidStateError):
        return InvalidState(code=error.code, message=error.message)
    if isinstance(error, InvalidInputError):
        return InvalidInput(code=error.code, message=error.message, field=error.field)
    if isinstance(error, ConflictError):
        return Conflict(code=error.code, message=error.message)
    raise error


def parse_id(value: str, *, field: str, noun: str) -> UUID:
    """A client-given id; anything but a UUID is refused as input naming the field."""
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInputError(
            f"'{value}' is not {_article(noun)} {noun} id: ids are UUIDs.",
            field=field,
            code="INVALID_ID",
        ) from None


def page_size(first: int | None, *, default: int, maximum: int = 500) -> int:
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise bad_user_input(
            f"'first' must be between 0 and {maximum}; ask for the next page with 'after'.",
            argument="first",
        )
    return first


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
