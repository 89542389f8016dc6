from __future__ import annotations

import strawberry

from schema.errors import not_available
from schema.permissions import CanReadUsers
from schema.types.imports import CsvTemplate, ImportBatch, ImportBatchConnection

IMPORT_ISSUE = "the CSV import arrives with issue 4"


@strawberry.type
class ImportQueries:
    @strawberry.field(permission_classes=[CanReadUsers])
    def import_template(self) -> CsvTemplate:
        raise not_available("importTemplate", IMPORT_ISSUE)

    @strawberry.field(permission_classes=[CanReadUsers])
    def import_batch(self, id: strawberry.ID) -> ImportBatch | None:
        raise not_available("importBatch", IMPORT_ISSUE)

    @strawberry.field(permission_classes=[CanReadUsers], description="Newest first.")
    def import_batches(
        self, first: int | None = 20, after: str | None = None
    ) -> ImportBatchConnection:
        raise not_available("importBatches", IMPORT_ISSUE)
