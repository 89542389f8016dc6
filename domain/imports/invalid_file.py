"""An upload that cannot be read as a list of users: no batch is made of it.

One exception for every way a file can fail, told apart by its `reason` (the
`InvalidFileCode` of the contract), with a message that says what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from domain.errors import DomainError


class InvalidFileReason(StrEnum):
    """Why a file cannot be read; the same names as `InvalidFileCode` in the contract."""

    NOT_CSV = "NOT_CSV"
    EMPTY = "EMPTY"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    UNREADABLE_ENCODING = "UNREADABLE_ENCODING"
    MALFORMED = "MALFORMED"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    UNEXPECTED_COLUMNS = "UNEXPECTED_COLUMNS"


class InvalidFileError(DomainError):
    """The file as a whole cannot be used.

    `missing_columns` are template column names; `unexpected_columns` are headings as the
    file has them. `line` is the physical line at fault, when one is (MALFORMED, and an
    encoding error found in the middle of the file).
    """

    code = "INVALID_FILE"

    def __init__(
        self,
        reason: InvalidFileReason,
        message: str,
        missing_columns: Sequence[str] = (),
        unexpected_columns: Sequence[str] = (),
        *,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.missing_columns = list(missing_columns)
        self.unexpected_columns = list(unexpected_columns)
        self.line = line
