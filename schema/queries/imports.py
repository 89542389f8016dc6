from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.imports.columns import (
    TEMPLATE_COLUMNS,
    TEMPLATE_CONTENT_TYPE,
    TEMPLATE_FILENAME,
    template_bytes,
)
from projections import import_queries
from schema.errors import id_or_none, page_size
from schema.permissions import CanReadUsers
from schema.types.common import PageInfo
from schema.types.import_batches import ImportBatch, ImportBatchConnection, ImportBatchEdge
from schema.types.imports import CsvTemplate

TEMPLATE_URL = "/imports/template.csv"


@strawberry.type
class ImportQueries:
    @strawberry.field(permission_classes=[CanReadUsers])
    def import_template(self) -> CsvTemplate:
        """Step 2: the file to fill in; GET on `url` serves the same bytes."""
        return CsvTemplate(
            filename=TEMPLATE_FILENAME,
            content_type=TEMPLATE_CONTENT_TYPE,
            columns=list(TEMPLATE_COLUMNS),
            content=template_bytes().decode("utf-8"),
            url=TEMPLATE_URL,
        )

    @strawberry.field(permission_classes=[CanReadUsers])
    async def import_batch(self, info: Info, id: strawberry.ID) -> ImportBatch | None:
        batch_id = id_or_none(id)
        row = await info.context.read(import_queries.batch, batch_id) if batch_id else None
        return ImportBatch.from_row(row) if row else None

    @strawberry.field(permission_classes=[CanReadUsers], description="Newest first.")
    async def import_batches(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> ImportBatchConnection:
        size = page_size(first, default=20)
        page = await info.context.read(import_queries.batches, size, after)
        return ImportBatchConnection(
            edges=[ImportBatchEdge(cursor=c, node=ImportBatch.from_row(b)) for c, b in page.items],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


def is_uuid(value: str) -> bool:
    """Whether `value` could be a batch's id (a UUID)."""
    try:
        UUID(value)
    except ValueError:
        return False
    return True
