"""The review of an import batch: every row's status and errors before anything is
registered, kept current while the reviewer corrects, excludes and includes rows.

A row is INVALID when a column breaks a rule of createUser (`rows.check_columns`),
when its given username is registered to someone else (`registered.HeldKeys`), or
when another row that is not excluded has the same email or given username
(`duplicates.SharedKeys`); otherwise EXISTING when its email belongs to a registered
user (the same person: the reviewer chooses what to do with them), else VALID; unless
the reviewer EXCLUDED it.

Made for an event-sourced `ImportBatch`: a `Review` is rebuilt deterministically from
the batch's events, with one method per fact.

- `add(rows, registered)` for the rows read from the file (in any number of chunks),
- `update(row_number, row, registered)`, `exclude(row_numbers)`, `include(row_numbers)`
  for the reviewer's edits; each returns the rows whose result changed, so only those
  are projected.

`registered` is the only outside input. A command asks the store once per kind for a
chunk (`HeldKeys.look_up(map(check_columns, rows), store)`), records the keys found in
its event, and applies the event with `HeldKeys(emails, usernames)`: a replay then
reaches the same review whatever has been registered since.

The whole review is linear in the rows: keys map to the rows that hold them, the
lowest rows of a shared key are found once, and counts change only where a status
does. An edit costs the rows that share its keys.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidInputError
from domain.imports.duplicates import SharedKeys, duplicate_error
from domain.imports.registered import ExistingUser, HeldKeys
from domain.imports.rows import CheckedRow, CleanRow, RowError, RowInput, check_columns, check_row
from domain.uniqueness import UniqueKeys

# The review's whole vocabulary, for callers that need no more than this module.
__all__ = [
    "CHUNK_ROWS",
    "CleanRow",
    "ExistingUser",
    "HeldKeys",
    "Review",
    "ReviewCounts",
    "RowError",
    "RowInput",
    "RowKeys",
    "RowResult",
    "RowStatus",
    "check_row",
]

#: A row's email key and given username's key (None where it has none).
RowKeys = tuple[str | None, str | None]

#: How many rows share one look-up of registered keys.
CHUNK_ROWS = 2_000


class RowStatus(StrEnum):
    """As ImportRowStatus of the contract; a review gives VALID, INVALID, EXCLUDED or
    EXISTING; the commit CREATED, FAILED, UPDATED or SKIPPED."""

    PENDING = "PENDING"
    VALID = "VALID"
    INVALID = "INVALID"
    EXCLUDED = "EXCLUDED"
    CREATED = "CREATED"
    FAILED = "FAILED"
    EXISTING = "EXISTING"
    UPDATED = "UPDATED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True)
class RowResult:
    """A row's line in the review table. `row` holds the values to register, when VALID;
    an EXCLUDED row keeps its own errors but takes no part in duplicates. `existing` is
    the registered user the row's email belongs to, whatever the status."""

    status: RowStatus
    errors: tuple[RowError, ...]
    row: CleanRow | None
    existing: ExistingUser | None = None


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    valid: int
    invalid: int
    excluded: int
    existing: int = 0


@dataclass(slots=True)
class _Entry:
    #: The email and given username as kept (for the messages that name a duplicate),
    #: and the values to register when the review keeps them (None for a row at fault).
    email: str | None
    username: str | None
    clean: CleanRow | None
    email_key: str | None
    username_key: str | None
    errors: tuple[RowError, ...]  # its own: its columns' and its registered keys'
    existing: ExistingUser | None = None
    status: RowStatus = RowStatus.PENDING


class Review:
    """The rows of one batch by row number (1-based), and what the review says of each."""

    def __init__(self, *, chunk_rows: int = CHUNK_ROWS, keep_values: bool = True) -> None:
        """`keep_values=False` keeps only what the rows' results depend on (keys, errors,
        statuses), not the names to register: a million-row file's review then holds
        about 180 bytes less per row, and `result` is given each row checked again."""
        self._entries: dict[int, _Entry] = {}
        self._excluded: set[int] = set()
        self._emails = SharedKeys()
        self._usernames = SharedKeys()
        self._counts: Counter[RowStatus] = Counter()
        self._chunk_rows = chunk_rows
        self._keep_values = keep_values

    def add(self, rows: Iterable[tuple[int, RowInput]], registered: UniqueKeys) -> None:
        """Reviews new rows, asking `registered` once per kind for each chunk of them. Read
        the results once every row is in: a later row can clash with an earlier one."""
        numbered = iter(rows)
        while chunk := list(itertools.islice(numbered, self._chunk_rows)):
            checked = [(number, check_columns(row)) for number, row in chunk]
            held = HeldKeys.look_up((row for _, row in checked), registered)
            for number, row in checked:
                self._insert(number, _entry(row, held, keep_values=self._keep_values))

    def update(self, row_number: int, row: RowInput, registered: UniqueKeys) -> set[int]:
        """Replaces a row by its correction; an excluded row stays excluded."""
        old = self._entry_of(row_number, field="rowNumber")
        checked = check_columns(row)
        new = _entry(
            checked, HeldKeys.look_up([checked], registered), keep_values=self._keep_values
        )
        active = row_number not in self._excluded

        def replace() -> None:
            if active:
                self._unindex(row_number)
            new.status = old.status  # as counted
            self._entries[row_number] = new
            if active:
                self._index(row_number)

        return self._edit(self._neighbours(row_number, old, new), replace)

    def exclude(self, row_numbers: Sequence[int]) -> set[int]:
        """Takes rows out: they are never registered and clash with no other row."""
        numbers = self._known(row_numbers)

        def take_out() -> None:
            for number in numbers - self._excluded:
                self._excluded.add(number)
                self._unindex(number)

        return self._edit(self._neighbours_of(numbers), take_out)

    def include(self, row_numbers: Sequence[int]) -> set[int]:
        """Brings excluded rows back, with their clashes."""
        numbers = self._known(row_numbers)

        def bring_back() -> None:
            for number in numbers & self._excluded:
                self._excluded.discard(number)
                self._index(number)

        return self._edit(self._neighbours_of(numbers), bring_back)

    def result(self, row_number: int, checked: CheckedRow | None = None) -> RowResult:
        """The row's result; a review that keeps no values is given the row `checked`
        again (`rows.check_columns`) for the values of a VALID row."""
        entry = self._entry_of(row_number, field="rowNumber")
        if entry.status is RowStatus.EXCLUDED:
            return RowResult(entry.status, entry.errors, None, entry.existing)
        errors = entry.errors + self._duplicates(row_number, entry)
        row = None
        if entry.status is RowStatus.VALID:
            row = entry.clean if checked is None else checked.clean()
            if row is None:
                raise ValueError("This review keeps no values: give the row checked again.")
        return RowResult(entry.status, errors, row, entry.existing)

    def keys(self, row_number: int) -> RowKeys:
        """The row's email key and given username's key, by which it clashes with others."""
        entry = self._entry_of(row_number, field="rowNumber")
        return entry.email_key, entry.username_key

    def results(self) -> Iterator[tuple[int, RowResult]]:
        """Every row's result, by row number."""
        for number in sorted(self._entries):
            yield number, self.result(number)

    def counts(self) -> ReviewCounts:
        return ReviewCounts(
            valid=self._counts[RowStatus.VALID],
            invalid=self._counts[RowStatus.INVALID],
            excluded=self._counts[RowStatus.EXCLUDED],
            existing=self._counts[RowStatus.EXISTING],
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, row_number: object) -> bool:
        return row_number in self._entries

    # ------------------------------------------------------------------ internals

    def _insert(self, number: int, entry: _Entry) -> None:
        if number < 1 or number in self._entries:
            raise ValueError(f"Row {number} is not a new row number of this review.")
        self._entries[number] = entry
        self._counts[entry.status] += 1
        self._index(number)

    def _index(self, number: int) -> None:
        entry = self._entries[number]
        touched: list[int | None] = [number]
        if entry.email_key is not None:
            touched.append(self._emails.add(entry.email_key, number))
        if entry.username_key is not None:
            touched.append(self._usernames.add(entry.username_key, number))
        self._restatus(touched)

    def _unindex(self, number: int) -> None:
        entry = self._entries[number]
        touched: list[int | None] = [number]
        if entry.email_key is not None:
            touched.append(self._emails.remove(entry.email_key, number))
        if entry.username_key is not None:
            touched.append(self._usernames.remove(entry.username_key, number))
        self._restatus(touched)

    def _restatus(self, numbers: Iterable[int | None]) -> None:
        """Brings the status (and the counts) of rows whose clashes may have changed up to
        date: only a row's own change, or a key going from one holder to two or back."""
        for number in numbers:
            if number is None:
                continue
            entry = self._entries[number]
            status = self._status(number, entry)
            if status is not entry.status:
                self._counts[entry.status] -= 1
                self._counts[status] += 1
                entry.status = status

    def _status(self, number: int, entry: _Entry) -> RowStatus:
        if number in self._excluded:
            return RowStatus.EXCLUDED
        if entry.errors or self._clashes(entry):
            return RowStatus.INVALID
        if entry.existing is not None:
            return RowStatus.EXISTING
        return RowStatus.VALID

    def _clashes(self, entry: _Entry) -> bool:
        email, username = entry.email_key, entry.username_key
        return (email is not None and self._emails.is_shared(email)) or (
            username is not None and self._usernames.is_shared(username)
        )

    def _duplicates(self, number: int, entry: _Entry) -> tuple[RowError, ...]:
        found: list[RowError] = []
        for column, value, key, keys in (
            ("email", entry.email, entry.email_key, self._emails),
            ("username", entry.username, entry.username_key, self._usernames),
        ):
            if value is not None and key is not None and keys.is_shared(key):
                found.append(duplicate_error(column, value, *keys.others(key, number)))
        return tuple(found)

    def _edit(self, candidates: set[int], change: Callable[[], None]) -> set[int]:
        """Applies `change`; returns those of `candidates` whose result it changed."""
        before = {number: self.result(number) for number in candidates}
        change()
        return {number for number, was in before.items() if self.result(number) != was}

    def _neighbours(self, number: int, *entries: _Entry) -> set[int]:
        """The row and every row that holds one of the keys of its `entries`."""
        rows = {number}
        for entry in entries:
            if entry.email_key is not None:
                rows.update(self._emails.holders(entry.email_key))
            if entry.username_key is not None:
                rows.update(self._usernames.holders(entry.username_key))
        return rows

    def _neighbours_of(self, numbers: set[int]) -> set[int]:
        rows: set[int] = set()
        for number in numbers:
            rows |= self._neighbours(number, self._entries[number])
        return rows

    def _known(self, row_numbers: Sequence[int]) -> set[int]:
        for index, number in enumerate(row_numbers):
            self._entry_of(number, field=f"rowNumbers[{index}]")
        return set(row_numbers)

    def _entry_of(self, number: int, *, field: str) -> _Entry:
        entry = self._entries.get(number)
        if entry is None:
            raise InvalidInputError(
                f"There is no row {number} in this import; use a row number of its review.",
                field=field,
                code="UNKNOWN_ROW",
            )
        return entry


def _entry(checked: CheckedRow, held: HeldKeys, *, keep_values: bool) -> _Entry:
    return _Entry(
        email=checked.email,
        username=checked.username,
        clean=checked.clean() if keep_values else None,
        email_key=checked.email_key(),
        username_key=checked.username_key(),
        errors=checked.errors + held.errors(checked),
        existing=held.existing(checked),
    )
