from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanImport
from schema.types.imports import ExistingUserAction
from schema.types.results import ImportBatchResult


@strawberry.type
class SetImportRowAction:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="While IN_REVIEW, what the commit does with EXISTING rows (all of them "
        "when rowNumbers is null). Refused whole (InvalidState naming the rows) when a row "
        "is not EXISTING or the action does not fit its user's status.",
    )
    async def set_import_row_action(
        self,
        info: Info,
        batch_id: strawberry.ID,
        row_numbers: list[int] | None,
        action: ExistingUserAction,
    ) -> ImportBatchResult:
        return await batch_outcome(
            info,
            lambda imports, actor: imports.choose_row_action(
                parse_id(batch_id, field="batchId", noun="import batch"),
                row_numbers,
                action,
                actor=actor,
            ),
        )
