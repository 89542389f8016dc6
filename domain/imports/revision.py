"""A corrected file taken back into a batch under review (reviseImport).

People fix a batch's errors in a spreadsheet: they download its error report, correct
the cells and upload the sheet again. The file has the template's columns plus `row`,
the row of the batch a line replaces (`row_number`, the report's heading before, is
taken too); a line without one is a new row, added after the batch's last. The report's
`errors` column is ignored, so the report is taken back as it was downloaded.

The file passes the checks of `open_csv` whole before anything else is looked at; then
every line's row number is checked, and the first fault is refused naming its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from domain.errors import InvalidInputError
from domain.imports.columns import MANDATORY_COLUMNS, TEMPLATE_COLUMNS, ColumnSet
from domain.imports.invalid_file import InvalidFileError, InvalidFileReason
from domain.imports.reading import CsvRow, open_csv
from domain.imports.registered import HeldKeys
from domain.imports.review import CHUNK_ROWS, Review, RowKeys
from domain.imports.rows import CheckedRow, RowInput, check_columns, neutralised
from domain.uniqueness import UniqueKeys

#: A corrected file's columns: the error report's (`errors` is read and ignored).
REVISION = ColumnSet(
    ("row", *TEMPLATE_COLUMNS, "errors"), MANDATORY_COLUMNS, aliases=(("row_number", "row"),)
)
#: The encoded size of the rows one event of a revision holds at most (as a file's
#: rows are recorded: far under the 1 MiB an event may have).
EVENT_BYTES = 768 * 1024
#: Digits of a row number at most: ROSTER_MAX_ROWS is below 16,777,216.
_MAX_DIGITS = 9


@dataclass(frozen=True, slots=True)
class RevisedLine:
    """A line of a corrected file: the row of the batch it replaces (None for a new row)
    and the row's values."""

    line: int
    number: int | None
    row: RowInput


def read_revision(stream: IO[bytes], *, max_bytes: int, max_rows: int) -> list[RevisedLine]:
    """Every line of a corrected file that holds a row. InvalidFileError for a file that
    startImport would refuse; InvalidInputError (field `file`) for the first line whose
    row value is no row number or names a row another line names."""
    read = open_csv(stream, max_bytes=max_bytes, max_rows=max_rows, columns=REVISION)
    rows = [row for row in read if not _blank(row)]  # the whole file is checked first
    if not rows:
        raise InvalidFileError(
            InvalidFileReason.EMPTY,
            "The file has no rows with values: correct the rows of the error report and "
            "upload it again.",
        )
    lines = [RevisedLine(row.line, _number(row), _input(row)) for row in rows]
    _refuse_repeats(lines)
    return lines


def check_numbers(lines: Iterable[RevisedLine], total_rows: int) -> None:
    """InvalidInputError (UNKNOWN_ROW) naming the first line whose row the batch lacks."""
    for line in lines:
        if line.number is not None and not 1 <= line.number <= total_rows:
            raise InvalidInputError(
                f"Line {line.line}: there is no row {line.number} in this import (it has "
                f"{total_rows:,} rows). Give the row number as the error report has it, or "
                "leave it empty to add the line as a new row, and upload the file again.",
                field="file",
                code="UNKNOWN_ROW",
            )


@dataclass(frozen=True)
class Revision:
    """A corrected file's lines as a batch of `total_rows` rows takes them: the rows
    replaced and the rows added (numbered on after the last), each as typed for the
    review, and as kept with its keys for the batch's event."""

    typed: dict[int, RowInput]
    replaced: dict[int, tuple[RowInput, RowKeys]]
    added: list[tuple[RowInput, RowKeys]]
    appended: list[tuple[int, RowInput]]
    checked: list[CheckedRow]

    @classmethod
    def of(cls, lines: Sequence[RevisedLine], total_rows: int) -> Revision:
        """InvalidInputError (UNKNOWN_ROW) naming the first line whose row the batch lacks."""
        check_numbers(lines, total_rows)
        checked = [check_columns(line.row) for line in lines]
        revision = cls({}, {}, [], [], checked)
        for line, row in zip(lines, checked, strict=True):
            kept = (row.kept(line.row), (row.email_key(), row.username_key()))
            if line.number is None:
                revision.appended.append((total_rows + 1 + len(revision.added), line.row))
                revision.added.append(kept)
            else:
                revision.typed[line.number] = line.row
                revision.replaced[line.number] = kept
        return revision

    def keys(self) -> list[RowKeys]:
        """The keys of every row of the file, by which it clashes with others."""
        return [keys for _, keys in [*self.replaced.values(), *self.added]]

    def registered(self, store: UniqueKeys) -> HeldKeys:
        """The keys of the file's rows registered already: one question per kind and
        chunk of rows."""
        found = [
            HeldKeys.look_up(self.checked[start : start + CHUNK_ROWS], store)
            for start in range(0, len(self.checked), CHUNK_ROWS)
        ]
        return HeldKeys(
            frozenset().union(*(held.emails for held in found)),
            frozenset().union(*(held.usernames for held in found)),
            {key: person for held in found for key, person in held.people.items()},
            {key: owner for held in found for key, owner in held.username_owners.items()},
        )

    def take_in(self, review: Review, registered: UniqueKeys) -> set[int]:
        """Applies the revision to a review; returns every row whose result changed, the
        added ones included. Meant for the small review of `edits.work_out`, which holds
        only the rows around the file's: all of them are compared, as an added row can
        change rows that no replaced one touches."""
        before = dict(review.results())
        for number, row in self.typed.items():
            review.update(number, row, registered)
        review.add(self.appended, registered)
        return {number for number, result in review.results() if before.get(number) != result}


def parts(entries: Sequence[tuple[int, Any]], max_bytes: int = EVENT_BYTES) -> Iterator[range]:
    """The ranges of `entries` (a row number and its event data each) that fill one event
    each: at most `max_bytes` of JSON, and at least one entry."""
    start, size = 0, 0
    for index, (_, data) in enumerate(entries):
        entry_size = len(json.dumps(data)) + 16  # the number as a key, punctuation
        if index > start and size + entry_size > max_bytes:
            yield range(start, index)
            start, size = index, 0
        size += entry_size
    if start < len(entries):
        yield range(start, len(entries))


def _blank(row: CsvRow) -> bool:
    return not any(row.values[column].strip() for column in ("row", *TEMPLATE_COLUMNS))


def _number(row: CsvRow) -> int | None:
    given = row.values["row"].strip()
    if not given:
        return None
    if not given.isdecimal() or not given.isascii():
        raise InvalidInputError(
            f"Line {row.line}: '{given[:20]}' in the row column is not a row number. Give the "
            "row number as the error report has it, or leave it empty to add the line as a "
            "new row, and upload the file again.",
            field="file",
            code="INVALID_ROW_NUMBER",
        )
    if len(given) > _MAX_DIGITS:  # no batch has so many rows (nor int() so many digits)
        raise InvalidInputError(
            f"Line {row.line}: there is no row {given[:20]}… in this import. Give the row "
            "number as the error report has it, or leave it empty to add the line as a new "
            "row, and upload the file again.",
            field="file",
            code="UNKNOWN_ROW",
        )
    return int(given)


def _refuse_repeats(lines: Sequence[RevisedLine]) -> None:
    first_line: dict[int, int] = {}
    for line in lines:
        if line.number is None:
            continue
        if line.number in first_line:
            raise InvalidInputError(
                f"Line {line.line}: row {line.number} is given again (line "
                f"{first_line[line.number]} gives it already). Keep one line per row and "
                "upload the file again.",
                field="file",
                code="DUPLICATE_ROW",
            )
        first_line[line.number] = line.line


def _input(row: CsvRow) -> RowInput:
    values = {column: _unescaped(row.values[column]) for column in TEMPLATE_COLUMNS}
    return RowInput(
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        username=values["username"] or None,
    )


def _unescaped(cell: str) -> str:
    """The cell without the ' the error report put before a value a spreadsheet would run
    as a formula (`rows.neutralised`): such a value comes back as it was, UNSAFE_VALUE."""
    if cell.startswith("'") and neutralised(cell[1:]) == cell:
        return cell[1:]
    return cell
