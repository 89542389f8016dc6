"""What every CSV file served beside /graphql shares: the caller's token and profile
checked before anything is read, keyset pages read one at a time in a worker thread (so
a file of a million rows holds one page in memory), UTF-8 with a BOM (spreadsheets then
read it as UTF-8), CRLF lines, and every cell neutralised against formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from bootstrap import Services
from domain.imports.columns import TEMPLATE_CONTENT_TYPE
from domain.imports.rows import neutralised
from domain.profiles import Caller, Profile
from projections.database import Cursor
from projections.paging import Page
from schema.errors import MAX_PAGE, lacking_profile

T = TypeVar("T")
#: Rows read per page (and per read transaction) of a streamed file: the API's largest
#: page, for which its queries are tuned (a short search sorted by name, for one, looks for
#: its page among the next 2,000 users of that order: projections/user_queries.py WALK).
FILE_PAGE = MAX_PAGE


async def caller_with_any(request: Request, profiles: frozenset[Profile], activity: str) -> Caller:
    """The caller of a request with one of `profiles`; refused as the API refuses (no or
    an invalid token: 401; no such profile: 403), answered by schema/errors.py."""
    services: Services = request.app.state.services
    caller = await services.tokens.authenticate(request.headers.get("authorization"))
    if not caller.has_any(profiles):
        raise lacking_profile(profiles, activity)
    return caller


def csv_file(filename: str, lines: AsyncIterator[bytes]) -> StreamingResponse:
    """A streamed download of `lines` (the first of them with the BOM: see `header`)."""
    return StreamingResponse(
        lines,
        media_type=TEMPLATE_CONTENT_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def header(columns: Iterable[str]) -> bytes:
    """The first line: the column names after the UTF-8 BOM."""
    return csv_line(columns).encode("utf-8-sig")


def csv_lines(rows: Iterable[Iterable[str]]) -> bytes:
    """Rows as CSV lines, every cell neutralised (see domain.imports.rows.neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue().encode()


def csv_line(cells: Iterable[str]) -> str:
    return csv_lines([cells]).decode()


async def pages(
    services: Services, page: Callable[[Cursor, str | None], Page[T]]
) -> AsyncIterator[list[T]]:
    """Every item of a keyset-paged query, one page at a time: `page(cursor, after)` reads
    the page after the cursor `after` (None: the first), each in its own read transaction
    in a worker thread. The next page is read only when the previous one has been taken
    (sent), so a slow client holds the server to its own pace."""
    after: str | None = None
    while True:
        found = await run_in_threadpool(read, services, page, after)
        yield [item for _, item in found.items]
        if not found.has_next_page:
            return
        after = found.end_cursor


def read(services: Services, query: Callable[..., T], *args: Any) -> T:
    """`query(cursor, *args)` in one read transaction (call it in a worker thread)."""
    with services.database.reading() as cursor:
        return query(cursor, *args)
