from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.errors import DomainError
from domain.imports.review import RowInput
from projections import import_queries
from schema.errors import command_problem, parse_id
from schema.permissions import CanImport
from schema.types.imports import ImportAccess, ImportRow, ImportRowInput
from schema.types.problems import Conflict
from schema.types.results import ImportRowResult


@strawberry.type
class UpdateImportRow:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Correct one row while IN_REVIEW; it is validated again.",
    )
    async def update_import_row(
        self, info: Info, batch_id: strawberry.ID, row_number: int, row: ImportRowInput
    ) -> ImportRowResult:
        ctx = info.context
        actor = ctx.caller().subject
        values = RowInput(row.first_name, row.last_name, row.email, row.username)
        try:
            batch = parse_id(batch_id, field="batchId", noun="import batch")
            saved = await ctx.command(
                lambda: ctx.services.imports.correct_row(batch, row_number, values, actor=actor)
            )
        except DomainError as error:
            problem = command_problem(error)
            assert not isinstance(problem, Conflict), "a review holds no unique values"
            return problem
        batch_row = await ctx.read(import_queries.batch, str(saved.id))
        [stored] = await ctx.read(import_queries.rows_numbered, str(saved.id), [row_number])
        access = ImportAccess.from_data(batch_row.access) if batch_row.access else None
        return ImportRow.from_row(stored, access)
