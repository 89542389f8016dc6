"""CSV exports: GET /users.csv (the `users` query's list, whole) and GET
/status-changes.csv (the `statusChanges` feed, whole), streamed page by page with the
queries' own keyset cursors (web/csv_files.py). Parameters are checked before the first
byte is sent: a bad one is refused with 400 as the API refuses bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import Enum
from typing import TypeVar

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from bootstrap import Services
from domain.errors import InvalidInputError
from projections import history_queries, user_queries
from projections.database import Cursor
from projections.history_queries import StatusChangeRow
from projections.paging import Page
from projections.user_queries import UserRow
from schema.permissions import CanAudit, CanReadUsers
from schema.queries.users import user_list
from schema.scalars import parse_moment, serialize_moment
from schema.types.enums import SortDirection, UserSortField, UserStatus
from schema.types.inputs import UserSort
from web.csv_files import FILE_PAGE, caller_with_any, csv_file, csv_lines, header, pages

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

USER_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "username",
    "status",
    "created_at",
    "status_changed_at",
    "import_batch_id",
)
CHANGE_COLUMNS = ("user_id", "from", "to", "at", "actor", "source", "reason", "version")


async def users_csv(request: Request) -> Response:
    """Every user the `users` query lists for the same search, status and sort."""
    await caller_with_any(request, CanReadUsers.profiles, CanReadUsers.activity)
    params = _checked(
        request.query_params, {"search", "status", "sort", "direction", "importBatchId"}
    )
    sort = None
    if "sort" in params or "direction" in params:
        field = _one_of(UserSortField, params.get("sort", "CREATED_AT"), "sort")
        direction = _one_of(SortDirection, params.get("direction", "ASC"), "direction")
        sort = UserSort(field=field, direction=direction)
    status = [_one_of(UserStatus, value, "status") for value in params.getlist("status")]
    where, order = user_list(
        params.get("search"), status or None, sort, params.get("importBatchId")
    )
    services: Services = request.app.state.services
    dialect = services.database.dialect

    def page(cursor: Cursor, after: str | None) -> Page[UserRow]:
        return user_queries.list_users(cursor, dialect, where, order, FILE_PAGE, after)

    return csv_file("users.csv", _lines(services, USER_COLUMNS, page, _user_cells))


async def status_changes_csv(request: Request) -> Response:
    """Every status change of the `statusChanges` feed from `since` (included) to `until`
    (excluded), oldest first."""
    await caller_with_any(request, CanAudit.profiles, CanAudit.activity)
    params = _checked(request.query_params, {"since", "until"})
    since = _moment(params, "since")
    until = _moment(params, "until")
    services: Services = request.app.state.services

    def page(cursor: Cursor, after: str | None) -> Page[StatusChangeRow]:
        return history_queries.changes(
            cursor, since=since, until=until, first=FILE_PAGE, after=after
        )

    return csv_file("status-changes.csv", _lines(services, CHANGE_COLUMNS, page, _change_cells))


async def _lines(
    services: Services,
    columns: tuple[str, ...],
    page: Callable[[Cursor, str | None], Page[T]],
    cells: Callable[[T], list[str]],
) -> AsyncIterator[bytes]:
    yield header(columns)
    async for rows in pages(services, page):
        yield csv_lines(cells(row) for row in rows)


def _user_cells(user: UserRow) -> list[str]:
    return [
        user.id,
        user.first_name,
        user.last_name,
        user.email,
        user.username,
        user.status,
        serialize_moment(user.created_at),
        serialize_moment(user.status_changed_at),
        user.import_batch_id or "",
    ]


def _change_cells(change: StatusChangeRow) -> list[str]:
    return [
        change.user_id,
        change.from_status or "",
        change.to_status,
        serialize_moment(change.at),
        change.actor,
        change.source,
        change.reason or "",
        str(change.version),
    ]


def _checked(params: QueryParams, known: set[str]) -> QueryParams:
    """The parameters, refused if one is unknown or a single one is given twice."""
    for name in params:
        if name not in known:
            raise InvalidInputError(
                f"Unknown parameter '{name}'; this file takes {', '.join(sorted(known))}.",
                field=name,
            )
        if name != "status" and len(params.getlist(name)) > 1:
            raise InvalidInputError(f"Give '{name}' once.", field=name)
    return params


def _one_of(kind: type[E], value: str, field: str) -> E:
    try:
        return kind[value]
    except KeyError:
        allowed = ", ".join(member.name for member in kind)
        raise InvalidInputError(
            f"'{value}' is not a {field}; give one of {allowed}.", field=field
        ) from None


def _moment(params: QueryParams, field: str) -> datetime | None:
    value = params.get(field)
    return None if value is None else parse_moment(value, field=field)
