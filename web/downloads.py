"""Files served over plain HTTP: the import template and a batch's error report."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bootstrap import Services
from domain.errors import NotFoundError
from domain.imports.columns import (
    TEMPLATE_COLUMNS,
    TEMPLATE_CONTENT_TYPE,
    TEMPLATE_FILENAME,
    template_bytes,
)
from domain.profiles import Profile
from projections import import_queries
from projections.database import Cursor
from projections.import_queries import ImportRowRow
from projections.paging import Page
from schema.queries.imports import is_uuid
from web.csv_files import FILE_PAGE, caller_with_any, csv_file, csv_lines, header, pages, read

READERS = frozenset(Profile)  # read users, groups, import batches: every profile


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
    await caller_with_any(request, READERS, "read import batches")
    found = None
    if is_uuid(batch_id):  # no batch has another id (and PostgreSQL refuses a NUL in text)
        found = await run_in_threadpool(read, services, import_queries.batch, batch_id)
    if found is None:
        raise NotFoundError(f"No import batch has the id {batch_id}.")
    return csv_file(f"errors-{batch_id}.csv", _report(services, batch_id))


async def _report(services: Services, batch_id: str) -> AsyncIterator[bytes]:
    yield header(["row", *TEMPLATE_COLUMNS, "errors"])

    def page(cursor: Cursor, after: str | None) -> Page[ImportRowRow]:
        return import_queries.rows(cursor, batch_id, ("INVALID", "FAILED"), FILE_PAGE, after)

    async for rows in pages(services, page):
        yield csv_lines(_cells(row) for row in rows)


def _cells(row: ImportRowRow) -> list[str]:
    errors = "; ".join(f"{column or 'row'}: {message}" for column, _, message in row.errors)
    values = [row.first_name, row.last_name, row.email, row.username or "", errors]
    return [str(row.row_number), *values]
