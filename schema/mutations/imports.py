from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from schema.errors import not_available
from schema.permissions import CanImport
from schema.queries.imports import IMPORT_ISSUE
from schema.types.imports import ImportRowInput
from schema.types.results import ImportBatchResult, ImportRowResult, StartImportResult


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Step 3: upload the filled-in template. Returns at once in VALIDATING or "
        "IN_REVIEW.",
    )
    def start_import(self, file: Upload) -> StartImportResult:
        raise not_available("startImport", IMPORT_ISSUE)

    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Correct one row while IN_REVIEW; it is validated again.",
    )
    def update_import_row(
        self, batch_id: strawberry.ID, row_number: int, row: ImportRowInput
    ) -> ImportRowResult:
        raise not_available("updateImportRow", IMPORT_ISSUE)

    @strawberry.mutation(permission_classes=[CanImport])
    def exclude_import_rows(
        self, batch_id: strawberry.ID, row_numbers: list[int]
    ) -> ImportBatchResult:
        raise not_available("excludeImportRows", IMPORT_ISSUE)

    @strawberry.mutation(permission_classes=[CanImport])
    def include_import_rows(
        self, batch_id: strawberry.ID, row_numbers: list[int]
    ) -> ImportBatchResult:
        raise not_available("includeImportRows", IMPORT_ISSUE)

    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Register every VALID row. Refused (InvalidState) while any row is "
        "INVALID,\nunless excludeInvalidRows is true, which excludes them first. Returns at "
        "once\nin COMMITTING; committing the same batch twice registers nobody twice.",
    )
    def commit_import(
        self, batch_id: strawberry.ID, exclude_invalid_rows: bool | None = False
    ) -> ImportBatchResult:
        raise not_available("commitImport", IMPORT_ISSUE)
