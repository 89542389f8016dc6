from __future__ import annotations

import strawberry

from domain.imports.columns import (
    TEMPLATE_COLUMNS,
    TEMPLATE_CONTENT_TYPE,
    TEMPLATE_FILENAME,
    template_bytes,
)
from schema.errors import not_available
from schema.permissions import CanReadUsers
from schema.types.imports import CsvTemplate, ImportBatch, ImportBatchConnection

IMPORT_ISSUE = "the CSV import arrives with issue 4"
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
    def import_batch(self, id: strawberry.ID) -> ImportBatch | None:
        raise not_available("importBatch", IMPORT_ISSUE)

    @strawberry.field(permission_classes=[CanReadUsers], description="Newest first.")
    def import_batches(
        self, first: int | None = 20, after: str | None = None
    ) -> ImportBatchConnection:
        raise not_available("importBatches", IMPORT_ISSUE)
