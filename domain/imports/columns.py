"""The template's columns, and how the header line of a file is matched to them.

Matching is forgiving about form and strict about meaning: case, surrounding spaces and
the spaces, underscores or hyphens between words are ignored ("First Name", "first-name"
and " FIRST_NAME " are all first_name), the columns may come in any order, and a
heading that is not a template column is refused rather than guessed at.

Empty headings at the end of the line (Excel's `first_name;last_name;email;;;`) are
ignored, and so are the cells under them, as long as those cells are empty.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.imports.invalid_file import InvalidFileError, InvalidFileReason
from domain.values import clean

TEMPLATE_COLUMNS = ("first_name", "last_name", "email", "username")
MANDATORY_COLUMNS = ("first_name", "last_name", "email")
#: Comma, semicolon (Excel where the decimal separator is a comma) and tab.
DELIMITERS = (",", ";", "\t")

_SEPARATORS = re.compile(r"[\s_-]+")


TEMPLATE_FILENAME = "roster-import-template.csv"
TEMPLATE_CONTENT_TYPE = "text/csv; charset=utf-8"


def template_bytes() -> bytes:
    """The template file: the header alone, in UTF-8 with a BOM and a CRLF line end, so that
    Excel and LibreOffice open the accents people type into it correctly."""
    return codecs.BOM_UTF8 + (",".join(TEMPLATE_COLUMNS) + "\r\n").encode()


def column_key(heading: str) -> str:
    """What is left of a heading once its form is ignored: "First Name" gives "firstname"."""
    return _SEPARATORS.sub("", clean(heading)).casefold()


@dataclass(frozen=True)
class ColumnSet:
    """The columns a kind of file has, in order, and those it must have; `aliases` are
    other headings taken for a column (an older name of it)."""

    columns: tuple[str, ...]
    mandatory: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def by_key(self) -> dict[str, str]:
        found = {column_key(alias): column for alias, column in self.aliases}
        return found | {column_key(column): column for column in self.columns}

    @property
    def listed(self) -> str:
        """ "first_name, last_name, email and username"."""
        return ", ".join(self.columns[:-1]) + f" and {self.columns[-1]}"


#: The import template's columns.
TEMPLATE = ColumnSet(TEMPLATE_COLUMNS, MANDATORY_COLUMNS)


def detect_delimiter(header_line: str, columns: ColumnSet = TEMPLATE) -> str:
    """The delimiter that splits the header line into the most template columns; among
    those, the one found most often outside quotes. A comma when there is none."""
    outside_quotes = header_line.split('"')[::2]
    counts = {d: sum(part.count(d) for part in outside_quotes) for d in DELIMITERS}
    found = [delimiter for delimiter in DELIMITERS if counts[delimiter]]
    if not found:
        return DELIMITERS[0]
    return max(found, key=lambda d: (len(_columns_in(header_line, d, columns)), counts[d]))


def _columns_in(header_line: str, delimiter: str, columns: ColumnSet) -> set[str]:
    try:
        headings = next(csv.reader([header_line], delimiter=delimiter), [])
    except csv.Error:
        return set()
    by_key = columns.by_key
    return {by_key[key] for key in map(column_key, headings) if key in by_key}


@dataclass(frozen=True, slots=True)
class Header:
    """The template column of each of a file's columns, by position; None for a column
    without a heading, whose cells must be empty."""

    columns: tuple[str | None, ...]
    kind: ColumnSet = TEMPLATE

    @classmethod
    def match(cls, headings: Sequence[str], kind: ColumnSet = TEMPLATE) -> Header:
        """The header of these headings; MISSING_COLUMNS or UNEXPECTED_COLUMNS when they
        lack a mandatory column or have one the file's kind does not (or one twice)."""
        columns: list[str | None] = []
        unexpected: list[str] = []
        for heading in _without_empty_end(headings):
            column = kind.by_key.get(column_key(heading))
            if column in columns:
                column = None  # given a second time
            if column is None and clean(heading):
                unexpected.append(clean(heading))
            columns.append(column)
        missing = [column for column in kind.mandatory if column not in columns]
        if missing or unexpected:
            raise _refused(missing, unexpected, kind)
        return cls(tuple(columns), kind)

    def values(self, cells: Sequence[str], *, line: int) -> dict[str, str]:
        """A data row's cells by column, "" for the columns it lacks; MALFORMED when a
        cell under no heading is not empty."""
        found = dict.fromkeys(self.kind.columns, "")
        width = len(self.columns)
        for position, cell in enumerate(cells):
            column = self.columns[position] if position < width else None
            if column is not None:
                found[column] = cell
            elif cell.strip():
                raise _value_without_heading(line, position)
        return found


def _without_empty_end(headings: Sequence[str]) -> Sequence[str]:
    end = len(headings)
    while end and not clean(headings[end - 1]):
        end -= 1
    return headings[:end]


def _refused(missing: list[str], unexpected: list[str], kind: ColumnSet) -> InvalidFileError:
    if not missing:
        return InvalidFileError(
            InvalidFileReason.UNEXPECTED_COLUMNS,
            f"Remove {_columns(unexpected)} or rename {'them' if len(unexpected) > 1 else 'it'} "
            f"as in the template ({kind.listed}), and upload the file again.",
            unexpected_columns=unexpected,
        )
    also = f" and remove {_columns(unexpected)}" if unexpected else ""
    return InvalidFileError(
        InvalidFileReason.MISSING_COLUMNS,
        f"Add {_columns(missing, quoted=False)} to the first line of the file{also} "
        f"(the template's columns are {kind.listed}), and upload it again.",
        missing_columns=missing,
        unexpected_columns=unexpected,
    )


def _columns(names: list[str], *, quoted: bool = True) -> str:
    """Names the columns: "the 'Phone' column", "the last_name and email columns"."""
    shown = [f"'{name}'" if quoted else name for name in names]
    listed = " and ".join(filter(None, [", ".join(shown[:-1]), shown[-1]]))
    return f"the {listed} column{_s(names)}"


def _s(items: list[str]) -> str:
    return "s" if len(items) > 1 else ""


def _value_without_heading(line: int, position: int) -> InvalidFileError:
    return InvalidFileError(
        InvalidFileReason.MALFORMED,
        f"Line {line} has a value in column {_letter(position)}, which has no heading: delete "
        "it or move it under the right heading, and upload the file again.",
        line=line,
    )


def _letter(position: int) -> str:
    """The spreadsheet name of a column: A for the first, Z, AA, AB..."""
    letters = ""
    number = position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
