from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanImport
from schema.types.results import ImportBatchResult


@strawberry.type
class ExcludeImportRows:
    @strawberry.mutation(permission_classes=[CanImport])
    async def exclude_import_rows(
        self, info: Info, batch_id: strawberry.ID, row_numbers: list[int]
    ) -> ImportBatchResult:
        return await batch_outcome(
            info,
            lambda imports, actor: imports.exclude_rows(
                parse_id(batch_id, field="batchId", noun="import batch"),
                row_numbers,
                actor=actor,
            ),
        )
