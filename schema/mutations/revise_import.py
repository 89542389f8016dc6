from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from domain.errors import DomainError
from projections import import_queries
from schema.errors import bad_user_input, parse_id, problem_for
from schema.mutations.start_import import shown_filename
from schema.permissions import CanImport
from schema.types.import_batches import ImportBatch
from schema.types.imports import InvalidFile
from schema.types.problems import InvalidInput, InvalidState, NotFound
from schema.types.results import ReviseImportResult

NOT_A_FILE = (
    "file must be the corrected CSV file: send reviseImport as a multipart request (the "
    "GraphQL multipart request spec: operations, map, then the file), not as JSON."
)


@strawberry.type
class ReviseImport:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Upload corrected rows into a batch IN_REVIEW: the template's columns plus "
        "`row` (the error report as downloaded is taken as it is; its `errors` column is "
        "ignored). A line with a row number replaces that row, one without is added as a new "
        "row; they and the rows sharing an email or username with them are validated again. "
        "A file startImport would refuse is InvalidFile, an unknown row number InvalidInput "
        "naming the line; either way nothing changes.",
    )
    async def revise_import(
        self, info: Info, batch_id: strawberry.ID, file: Upload
    ) -> ReviseImportResult:
        ctx = info.context
        actor = ctx.caller().subject
        if not isinstance(file, UploadFile):  # a value in a JSON request, not a file part
            raise bad_user_input(NOT_A_FILE, argument="file")
        filename = shown_filename(file.filename)
        stream = file.file  # spooled to disk past 1 MiB by the multipart parser
        services = ctx.services
        try:
            batch = parse_id(batch_id, field="batchId", noun="import batch")
            saved = await ctx.command(
                lambda: services.imports.revise_file(
                    batch, stream, services.intake.limits, filename=filename, actor=actor
                )
            )
        except DomainError as error:
            problem = problem_for(error)
            assert isinstance(problem, NotFound | InvalidState | InvalidInput | InvalidFile)
            return problem
        row = await ctx.read(import_queries.batch, str(saved.id))
        return ImportBatch.from_row(row)
