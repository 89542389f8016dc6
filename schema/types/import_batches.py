"""Import batches as the API shows them, read from the import review tables."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from projections import bulk_queries, import_queries
from projections.import_queries import BatchRow
from schema.errors import page_size
from schema.types.bulk import ImportRevert
from schema.types.common import PageInfo
from schema.types.imports import (
    ImportAccess,
    ImportProgress,
    ImportRow,
    ImportRowConnection,
    ImportRowEdge,
    ImportRowStatus,
    ImportStatus,
)


@strawberry.type
class ImportBatch:
    id: strawberry.ID
    filename: str
    created_at: datetime
    created_by: str
    status: ImportStatus
    access: ImportAccess | None
    progress: ImportProgress
    error_report_url: str = strawberry.field(
        description="Relative URL of a CSV of every INVALID and FAILED row with its errors "
        "(GET, same bearer token)."
    )

    @classmethod
    def from_row(cls, row: BatchRow) -> ImportBatch:
        return cls(
            id=strawberry.ID(row.id),
            filename=row.filename,
            created_at=row.created_at,
            created_by=row.created_by,
            status=ImportStatus(row.status),
            access=ImportAccess.from_data(row.access) if row.access else None,
            progress=ImportProgress.from_row(row),
            error_report_url=f"/imports/{row.id}/errors.csv",
        )

    @strawberry.field(description="How the batch was reverted; null unless REVERTING or REVERTED.")
    async def revert(self, info: Info) -> ImportRevert | None:
        row = await info.context.read(bulk_queries.revert_of, str(self.id))
        return None if row is None else ImportRevert.from_row(row)

    @strawberry.field
    async def rows(
        self,
        info: Info,
        status: list[ImportRowStatus] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> ImportRowConnection:
        statuses = tuple(s.name for s in status or ())
        size = page_size(first, default=100)
        page = await info.context.read(import_queries.rows, str(self.id), statuses, size, after)
        ctx = info.context

        async def count() -> int:
            total: int = await ctx.read(import_queries.count_rows, str(self.id), statuses)
            return total

        return ImportRowConnection(
            edges=[
                ImportRowEdge(cursor=c, node=ImportRow.from_row(r, self.access))
                for c, r in page.items
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            count=count,
        )


@strawberry.type
class ImportBatchEdge:
    cursor: str
    node: ImportBatch


@strawberry.type
class ImportBatchConnection:
    edges: list[ImportBatchEdge]
    page_info: PageInfo
