from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import Saved
from domain.imports.commands import ImportCommands
from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanManageUsers
from schema.types.results import ImportBatchResult


@strawberry.type
class RevertImport:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Undoes a COMPLETED import: every user it registered who has not accepted "
        "their invitation is DEACTIVATED (source IMPORT_REVERT, with the reason), so their "
        "invitations stop working and unsent mails are not sent; users who accepted stay "
        "(the batch's revert lists them). Returns at once in REVERTING (follow it with "
        "importProgress) until REVERTED. A batch reverting or reverted already is returned "
        "as it is.",
    )
    async def revert_import(
        self, info: Info, batch_id: strawberry.ID, reason: str
    ) -> ImportBatchResult:
        services = info.context.services

        def revert(_: ImportCommands, actor: str) -> Saved:
            saved: Saved = services.bulk.revert_import(
                parse_id(batch_id, field="batchId", noun="import batch"),
                actor=actor,
                reason=reason,
            )
            services.bulk_worker.wake()
            return saved

        return await batch_outcome(info, revert)
