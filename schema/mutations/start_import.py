from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from domain.imports.invalid_file import InvalidFileError
from projections import import_queries
from schema.errors import bad_user_input, problem_for
from schema.permissions import CanImport
from schema.types.import_batches import ImportBatch
from schema.types.imports import InvalidFile
from schema.types.results import StartImportResult

#: A file's name as kept and shown: the last part of whatever path the client sent.
MAX_FILENAME_LENGTH = 255
DEFAULT_FILENAME = "upload.csv"
NOT_A_FILE = (
    "file must be the uploaded CSV file: send startImport as a multipart request (the GraphQL "
    "multipart request spec: operations, map, then the file), not as JSON."
)


@strawberry.type
class StartImport:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Step 3: upload the filled-in template. Returns at once in VALIDATING or "
        "IN_REVIEW.",
    )
    async def start_import(self, info: Info, file: Upload) -> StartImportResult:
        ctx = info.context
        actor = ctx.caller().subject
        if not isinstance(file, UploadFile):  # a value in a JSON request, not a file part
            raise bad_user_input(NOT_A_FILE, argument="file")
        filename = shown_filename(file.filename)
        # Spooled to disk past 1 MiB by the multipart parser.
        stream = file.file
        try:
            saved = await ctx.command(
                lambda: ctx.services.intake.accept(stream, filename, actor=actor)
            )
        except InvalidFileError as error:
            problem = problem_for(error)
            assert isinstance(problem, InvalidFile)
            return problem
        row = await ctx.read(import_queries.batch, str(saved.id))
        return ImportBatch.from_row(row)


def shown_filename(given: str | None) -> str:
    """The name without any directories, control characters or excess length."""
    name = PureWindowsPath(PurePosixPath(given or "").name).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:MAX_FILENAME_LENGTH] or DEFAULT_FILENAME
