"""Files served over plain HTTP: the import template and a batch's error report."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bootstrap import Services
from domain.errors import NotFoundError
from domain.imports.columns import (
    TEMPLATE_COLUMNS,
    TEMPLATE_CONTENT_TYPE,
    TEMPLATE_FILENAME,
    template_bytes,
)
from domain.imports.rows import neutralised
from domain.profiles import Profile
from projections import import_queries
from projections.import_queries import ImportRowRow
from schema.errors import ForbiddenError

READERS = frozenset(Profile)  # read users, groups, import batches: every profile
REPORT_PAGE = 500
T = TypeVar("T")


async def import_template(request: Request) -> Response:
    """The import template (no data in it, so no token needed: a plain link downloads it)."""
    return Response(
        template_bytes(),
        media_type=TEMPLATE_CONTENT_TYPE,
        headers={"content-disposition": f'attachment; filename="{TEMPLATE_FILENAME}"'},
    )


async def error_report(request: Request) -> Response:
    """Every INVALID and FAILED row of a batch with its errors, as CSV (bearer token).
    Refusals are raised: the app's exception handlers answer them (schema/errors.py)."""
    services: Services = request.app.state.services
    batch_id = request.path_params["batch_id"]
    caller = await services.tokens.authenticate(request.headers.get("authorization"))
    if not caller.has_any(READERS):
        raise ForbiddenError("Ask for a profile that may read import batches.")
    found = await run_in_threadpool(_read, services, import_queries.batch, batch_id)
    if found is None:
        raise NotFoundError(f"No import batch has the id {batch_id}.")
    return StreamingResponse(
        _report(services, batch_id),
        media_type=TEMPLATE_CONTENT_TYPE,
        headers={"content-disposition": f'attachment; filename="errors-{batch_id}.csv"'},
    )


async def _report(services: Services, batch_id: str) -> AsyncIterator[bytes]:
    yield _line(["row", *TEMPLATE_COLUMNS, "errors"]).encode("utf-8-sig")
    after: str | None = None
    while True:
        page = await run_in_threadpool(
            _read,
            services,
            import_queries.rows,
            batch_id,
            ("INVALID", "FAILED"),
            REPORT_PAGE,
            after,
        )
        yield "".join(_line(_cells(row)) for _, row in page.items).encode()
        if not page.has_next_page:
            return
        after = page.end_cursor


def _cells(row: ImportRowRow) -> list[str]:
    errors = "; ".join(f"{column or 'row'}: {message}" for column, _, message in row.errors)
    values = [row.first_name, row.last_name, row.email, row.username or "", errors]
    return [str(row.row_number), *values]


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([neutralised(cell) for cell in cells])
    return out.getvalue()


def _read(services: Services, query: Callable[..., T], *args: Any) -> T:
    with services.database.reading() as cursor:
        return query(cursor, *args)
