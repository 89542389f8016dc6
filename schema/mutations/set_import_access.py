from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import Saved
from domain.imports.batch import AccessMode, RowAccess
from domain.imports.commands import ImportCommands
from schema.errors import parse_id
from schema.mutations.outcomes import batch_outcome
from schema.permissions import CanImport
from schema.types.imports import ImportAccessInput
from schema.types.results import ImportBatchResult


@strawberry.type
class SetImportAccess:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Step 4: how the new users receive permissions. Required before commit.",
    )
    async def set_import_access(
        self, info: Info, batch_id: strawberry.ID, access: ImportAccessInput
    ) -> ImportBatchResult:
        def choose(imports: ImportCommands, actor: str) -> Saved:
            mirrored = access.mirror_user_id
            return imports.choose_access(
                parse_id(batch_id, field="batchId", noun="import batch"),
                AccessMode(access.mode.name),
                actor=actor,
                group_ids=[
                    parse_id(g, field=f"access.groupIds[{i}]", noun="group")
                    for i, g in enumerate(access.group_ids or [])
                ],
                mirror_user_id=(
                    parse_id(mirrored, field="access.mirrorUserId", noun="user")
                    if mirrored
                    else None
                ),
                rows=_rows(access) if access.rows is not None else None,
            )

        return await batch_outcome(info, choose)


def _rows(access: ImportAccessInput) -> dict[int, RowAccess]:
    return {
        row.row_number: RowAccess(
            group_ids=[
                parse_id(g, field=f"access.rows[{i}].groupIds[{j}]", noun="group")
                for j, g in enumerate(row.group_ids)
            ],
            permissions=list(row.permissions),
        )
        for i, row in enumerate(access.rows or [])
    }
