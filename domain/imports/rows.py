"""One row of an import file, checked column by column with the rules of createUser.

Every column is checked even after another is at fault, so the review table can mark
each cell that needs a correction. The values kept are those createUser would keep
(`domain.values`); on top of its rules, a value that a spreadsheet would run as a
formula is refused, because the rows come from and go back to spreadsheets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from domain import values
from domain.errors import ConflictError, DomainError, InvalidInputError

#: What makes a spreadsheet run a cell as a formula (OWASP's CSV injection list). Tab and
#: CR are trimmed away with the other spaces, so the kept value never begins with them.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "access email",
    "username": "username",
}
#: Long values are cut short when a message names them.
_SHOWN_LENGTH = 40

_parse_first_name = functools.partial(values.parse_name, field="firstName")
_parse_last_name = functools.partial(values.parse_name, field="lastName")


@dataclass(frozen=True, slots=True)
class RowInput:
    """A row as typed: the cells of the template's columns, or a correction of them."""

    first_name: str
    last_name: str
    email: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """One fault of a row; `column` is the template column, or None for the whole row."""

    column: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CleanRow:
    """The values of a row as they will be registered."""

    first_name: str
    last_name: str
    email: str
    username: str | None


@dataclass(frozen=True, slots=True)
class CheckedRow:
    """A row's values as kept, column by column: None where the column is at fault (and
    for a username left out), with the faults of its columns in template order."""

    first_name: str | None
    last_name: str | None
    email: str | None
    username: str | None
    errors: tuple[RowError, ...]

    def clean(self) -> CleanRow | None:
        first_name, last_name, email = self.first_name, self.last_name, self.email
        if self.errors or first_name is None or last_name is None or email is None:
            return None
        return CleanRow(first_name, last_name, email, self.username)

    def kept(self, typed: RowInput) -> RowInput:
        """The row as the review table shows it: each column as kept where it is good
        (trimmed, NFC), as typed where it is at fault, so the reviewer sees what to fix."""
        return RowInput(
            first_name=typed.first_name if self.first_name is None else self.first_name,
            last_name=typed.last_name if self.last_name is None else self.last_name,
            email=typed.email if self.email is None else self.email,
            username=self.username if self.username is not None else (typed.username or None),
        )

    def email_key(self) -> str | None:
        return None if self.email is None else _same(self.email, values.email_key(self.email))

    def username_key(self) -> str | None:
        """Only a username given in the row: derived ones never clash, createUser picks a
        free one at commit time."""
        if self.username is None:
            return None
        return _same(self.username, values.username_key(self.username))


def check_row(row: RowInput) -> tuple[CleanRow | None, list[RowError]]:
    """The values to register, or None with every fault of the row's columns."""
    checked = check_columns(row)
    return checked.clean(), list(checked.errors)


def check_columns(row: RowInput) -> CheckedRow:
    errors: list[RowError] = []
    first_name = _checked(errors, "first_name", row.first_name, _parse_first_name)
    last_name = _checked(errors, "last_name", row.last_name, _parse_last_name)
    email = _checked(errors, "email", row.email, values.parse_email)
    username = None
    if row.username is not None and values.clean(row.username):
        username = _checked(errors, "username", row.username, values.parse_username)
    return CheckedRow(first_name, last_name, email, username, tuple(errors))


def _checked(
    errors: list[RowError], column: str, value: str, parse: Callable[[str], str]
) -> str | None:
    try:
        kept = parse(value)
    except InvalidInputError as error:
        errors.append(RowError(column, error.code, error.message))
        return None
    if kept.startswith(FORMULA_PREFIXES):
        errors.append(_formula(column, kept))
        return None
    return kept


def _formula(column: str, value: str) -> RowError:
    return RowError(
        column,
        "UNSAFE_VALUE",
        f"Remove the leading '{value[0]}' from the {_LABELS[column]} '{shown(value)}': "
        "a spreadsheet would run it as a formula.",
    )


def _same(value: str, key: str) -> str:
    # Most values are their own key: keeping one string for both saves a copy per row.
    return value if key == value else key


#: createUser's input fields, as the columns of a file.
_COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "username": "username",
}


def row_error(error: DomainError, *, conflict: str = "") -> RowError:
    """Why registering a row's user was refused, as a fault of its column; `conflict` is
    added to the message when another user holds its email or username."""
    column = {"EMAIL_TAKEN": "email", "USERNAME_TAKEN": "username"}.get(error.code)
    if isinstance(error, InvalidInputError) and error.field:
        column = _COLUMNS.get(error.field.split("[")[0], column)
    if isinstance(error, ConflictError) and conflict:
        return RowError(column, error.code, f"{error} {conflict}")
    return RowError(column, error.code, str(error))


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text: escaped with a leading ' when it begins with a
    formula character as written or once cleaned as the review cleans values (spaces,
    no-break spaces, zero-width characters and BOMs trimmed): the review flags both as
    UNSAFE_VALUE, and a spreadsheet may trim what the review trims."""
    if not cell or cell[0].isalnum():
        return cell  # nothing is trimmed before a letter or digit: most cells, quickly
    if cell.startswith(FORMULA_PREFIXES) or values.clean(cell).startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def shown(value: str) -> str:
    """The value as a message names it: cut short when long."""
    if len(value) <= _SHOWN_LENGTH:
        return value
    return value[: _SHOWN_LENGTH - 1] + "…"
