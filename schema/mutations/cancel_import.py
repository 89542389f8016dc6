from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanImport
from schema.types.results import ImportBatchResult


@strawberry.type
class CancelImport:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Stops a batch in review, or the rows not yet processed of one COMMITTING.",
    )
    async def cancel_import(self, info: Info, batch_id: strawberry.ID) -> ImportBatchResult:
        return await batch_outcome(
            info,
            lambda imports, actor: imports.cancel(
                parse_id(batch_id, field="batchId", noun="import batch"), actor=actor
            ),
        )
