"""The one place where failures become what clients see, on every route.

A failure is either an expected outcome of a mutation (a `Problem` member of its result
union: `problem_for`) or a refusal of the whole request (`refusal_for`): a top-level
GraphQL error with a stable `extensions.code` over HTTP and WebSocket, or an HTTP error
response with the same JSON body on the routes beside /graphql. Anything not listed
here is unexpected: it is logged and masked as INTERNAL_SERVER_ERROR (see
schema/extensions.py), never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    InvalidInvitationError,
    InvalidStateError,
    NotFoundError,
)
from domain.imports.invalid_file import InvalidFileError
from jobs.intake import LeaseLostError
from projections.paging import InvalidCursorError
from schema.types.imports import InvalidFile, InvalidFileCode
from schema.types.problems import (
    Conflict,
    InvalidInput,
    InvalidInvitation,
    InvalidState,
    NotFound,
)
from tokens import AuthenticationError

log = logging.getLogger("roster.errors")
T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """A request refused as a whole: `code` is the top-level `extensions.code`, `status`
    the HTTP status of a route that is not GraphQL."""

    code: str
    status: int
    message: str
    extensions: Mapping[str, Any] = field(default_factory=dict)
    #: Seconds a client should wait before trying again (Retry-After), when it can.
    retry_after: int | None = None

    def error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code, **self.extensions})

    def response(self) -> JSONResponse:
        body = {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
        headers = {"retry-after": str(self.retry_after)} if self.retry_after else None
        return JSONResponse({"errors": [body]}, self.status, headers=headers)


class ForbiddenError(Exception):
    """A valid token without a profile that may do what was asked."""


class PayloadTooLargeError(Exception):
    """A request body over its limit, refused before it was read."""


class QueryTooComplexError(Exception):
    """A document over one of the limits on what one request may ask for (depth, aliases,
    tokens, cost: schema/extensions.py), refused before it runs."""


class TooManySubscriptionsError(Exception):
    """One operation more on a WebSocket that runs as many as it may."""


class BusyError(Exception):
    """The server has as much of this work in hand as it takes: try again after
    `retry_after` seconds (sent as Retry-After)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def lacking_profile(profiles: Iterable[str], activity: str) -> ForbiddenError:
    """The refusal of a caller who has none of `profiles`, needed to do `activity`."""
    needed = " or ".join(sorted(profiles))
    return ForbiddenError(f"Only {needed} may {activity}; ask for one of these profiles.")


def _argument(error: Exception) -> dict[str, Any]:
    named = getattr(error, "field", None)
    return {"argument": named} if named else {}


#: Exception type → (code, HTTP status, extensions). A subclass takes its nearest
#: listed base; the order does not matter.
_REFUSALS: dict[type[Exception], tuple[str, int, Callable[[Exception], dict[str, Any]]]] = {
    AuthenticationError: ("UNAUTHENTICATED", 401, lambda _: {}),
    ForbiddenError: ("FORBIDDEN", 403, lambda _: {}),
    NotFoundError: ("NOT_FOUND", 404, lambda _: {}),
    InvalidInputError: ("BAD_USER_INPUT", 400, _argument),
    InvalidCursorError: ("BAD_USER_INPUT", 400, lambda _: {"argument": "after"}),
    InvalidFileError: ("BAD_USER_INPUT", 400, lambda _: {"argument": "file"}),
    InvalidInvitationError: ("BAD_USER_INPUT", 400, lambda _: {"argument": "token"}),
    InvalidStateError: ("INVALID_STATE", 409, lambda _: {}),
    ConflictError: ("CONFLICT", 409, lambda _: {}),
    LeaseLostError: ("TRY_AGAIN", 503, lambda _: {}),
    BusyError: ("TRY_AGAIN", 503, lambda _: {}),
    PayloadTooLargeError: ("PAYLOAD_TOO_LARGE", 413, lambda _: {}),
    QueryTooComplexError: ("QUERY_TOO_COMPLEX", 400, lambda _: {}),
    TooManySubscriptionsError: ("TOO_MANY_SUBSCRIPTIONS", 429, lambda _: {}),
}


def _nearest(kind: type[BaseException], table: Mapping[Any, T]) -> T | None:
    """The entry of `kind`'s nearest listed base class (or of `kind` itself)."""
    return next((table[base] for base in kind.__mro__ if base in table), None)


def refusal_code(kind: type[BaseException]) -> str | None:
    """The code an exception of this type refuses a request with; None for a fault."""
    listed = _nearest(kind, _REFUSALS)
    return listed[0] if listed else None


def refusal_for(error: BaseException) -> Refusal | None:
    """How `error` refuses a request, or None when it is unexpected (a fault)."""
    listed = _nearest(type(error), _REFUSALS)
    if listed is None or not isinstance(error, Exception):
        return None
    code, status, extensions = listed
    message = error.message if isinstance(error, DomainError) else str(error)
    retry_after = error.retry_after if isinstance(error, BusyError) else None
    return Refusal(code, status, message, extensions(error), retry_after)


#: The exceptions that refuse a request; the app answers each with `refusal_response`.
REFUSED = tuple(_REFUSALS)


async def refusal_response(request: Request, error: Exception) -> Response:
    """Starlette's exception handler for the routes beside /graphql."""
    refusal = refusal_for(error)
    assert refusal is not None, "registered for the refused exceptions only"
    return refusal.response()


async def internal_error_response(request: Request, error: Exception) -> Response:
    """A fault on a route beside /graphql: logged, and answered as GraphQL's are masked."""
    request_id = request.scope.get("state", {}).get("request_id", "unknown")
    log.error("Unexpected error in request %s at %s", request_id, request.url.path, exc_info=error)
    return Refusal(
        "INTERNAL_SERVER_ERROR",
        500,
        f"Unexpected error; quote request id {request_id} when you report it.",
        {"requestId": request_id},
    ).response()


def document_error_code(error: GraphQLError) -> str:
    """The code of graphql-core's own refusal of a request, before anything ran: a
    document that does not parse, one that does not fit the schema, or variables that do
    not fit the document (whose messages all begin "Variable '$")."""
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def refused(error: Exception) -> GraphQLError:
    """The top-level GraphQL error for an expected failure (a TypeError for a fault)."""
    refusal = refusal_for(error)
    if refusal is None:
        raise TypeError(f"{type(error).__name__} is not an expected failure") from error
    return refusal.error()


def unauthenticated(message: str) -> GraphQLError:
    return refused(AuthenticationError(message))


def bad_user_input(message: str, *, argument: str | None = None) -> GraphQLError:
    return refused(InvalidInputError(message, field=argument))


def _invalid_file(error: InvalidFileError) -> InvalidFile:
    return InvalidFile(
        code=error.code,
        message=error.message,
        reason=InvalidFileCode(error.reason.value),
        missing_columns=error.missing_columns,
        unexpected_columns=error.unexpected_columns,
    )


AnyProblem = NotFound | InvalidState | InvalidInput | Conflict | InvalidInvitation | InvalidFile

#: Domain error type → the result union member it becomes; a subclass takes its
#: nearest listed base. Every DomainError has one (a test checks each subclass).
_PROBLEMS: dict[type[DomainError], Callable[[Any], AnyProblem]] = {
    NotFoundError: lambda e: NotFound(code=e.code, message=e.message),
    InvalidStateError: lambda e: InvalidState(code=e.code, message=e.message),
    InvalidInputError: lambda e: InvalidInput(code=e.code, message=e.message, field=e.field),
    ConflictError: lambda e: Conflict(code=e.code, message=e.message),
    InvalidInvitationError: lambda e: InvalidInvitation(code=e.code, message=e.message),
    InvalidFileError: _invalid_file,
}


def has_problem(kind: type[DomainError]) -> bool:
    """Whether a mutation can answer an error of this type with a `Problem` member."""
    return _nearest(kind, _PROBLEMS) is not None


def problem_for(error: DomainError) -> AnyProblem:
    """The `Problem` member a mutation answers with for an expected failure; each
    mutation's union holds the members its command can meet."""
    make = _nearest(type(error), _PROBLEMS)
    if make is None:
        raise error  # unlisted: a fault, masked as INTERNAL_SERVER_ERROR and logged
    return make(error)


CommandProblem = NotFound | InvalidState | InvalidInput | Conflict


def command_problem(error: DomainError) -> CommandProblem:
    """The problem of a user, group or batch command: they read no invitation or file."""
    problem = problem_for(error)
    assert isinstance(problem, CommandProblem), f"{type(error).__name__} from a command"
    return problem


def id_or_none(value: str) -> str | None:
    """A client-given id as the read models hold ids, or None for anything but a UUID
    (which no row has; PostgreSQL refuses some such text, a NUL, outright)."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        return None


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


#: The largest page any connection gives (`first`).
MAX_PAGE = 500


def page_size(first: int | None, *, default: int, maximum: int = MAX_PAGE) -> int:
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
