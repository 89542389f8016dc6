from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import Saved
from domain.imports.commands import ImportCommands
from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanImport
from schema.types.results import ImportBatchResult


@strawberry.type
class CommitImport:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Register every VALID row. Refused (InvalidState) while any row is "
        "INVALID,\nunless excludeInvalidRows is true, which excludes them first. Returns at "
        "once\nin COMMITTING; committing the same batch twice registers nobody twice.",
    )
    async def commit_import(
        self, info: Info, batch_id: strawberry.ID, exclude_invalid_rows: bool | None = False
    ) -> ImportBatchResult:
        def commit(imports: ImportCommands, actor: str) -> Saved:
            saved = imports.commit(
                parse_id(batch_id, field="batchId", noun="import batch"),
                exclude_invalid=bool(exclude_invalid_rows),
                actor=actor,
            )
            info.context.services.worker.wake()
            return saved

        return await batch_outcome(info, commit)
