"""Rows of one file that share an email or a username.

Two rows that would register the same email (or the same given username) cannot both
be registered, and the file does not say which one is meant: every row involved is at
fault, and each names the others so the reviewer can keep one.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection

from domain.imports.rows import RowError, shown

#: How many of the other rows a message names before "and N more".
NAMED_ROWS = 5

_NOUNS = {"email": "access email", "username": "username"}


class SharedKeys:
    """The rows that hold each key of one kind (emails, or usernames); a key held by two
    or more rows is shared, and those rows clash.

    A key held by one row, as most are, is kept as a bare row number: a set for each
    would multiply the memory that a million-row file needs.
    """

    def __init__(self) -> None:
        self._alone: dict[str, int] = {}
        self._shared: dict[str, set[int]] = {}
        # The lowest rows of a shared key, for messages; dropped when its rows change.
        self._lowest: dict[str, tuple[int, ...]] = {}

    def add(self, key: str, row: int) -> int | None:
        """Adds `row` to the key's holders; returns the row that held it alone until now."""
        shared = self._shared.get(key)
        if shared is not None:
            shared.add(row)
            self._lowest.pop(key, None)
            return None
        alone = self._alone.pop(key, None)
        if alone is None:
            self._alone[key] = row
            return None
        self._shared[key] = {alone, row}
        return alone

    def remove(self, key: str, row: int) -> int | None:
        """Takes `row` from the key's holders; returns the row that now holds it alone."""
        shared = self._shared.get(key)
        if shared is None:
            if self._alone.get(key) == row:
                del self._alone[key]
            return None
        shared.discard(row)
        self._lowest.pop(key, None)
        if len(shared) > 1:
            return None
        del self._shared[key]
        (left,) = shared
        self._alone[key] = left
        return left

    def holders(self, key: str) -> Collection[int]:
        """The rows holding the key now (a live view: copy it before changing the rows)."""
        shared = self._shared.get(key)
        if shared is not None:
            return shared
        alone = self._alone.get(key)
        return () if alone is None else (alone,)

    def is_shared(self, key: str) -> bool:
        return key in self._shared

    def others(self, key: str, row: int) -> tuple[list[int], int]:
        """The lowest other rows holding the key (at most NAMED_ROWS), and how many there are."""
        shared = self._shared.get(key)
        if shared is None:
            return [], 0
        lowest = self._lowest.get(key)
        if lowest is None:
            # Linear in the rows of the key, once until they change.
            lowest = self._lowest[key] = tuple(heapq.nsmallest(NAMED_ROWS + 1, shared))
        return [n for n in lowest if n != row][:NAMED_ROWS], len(shared) - 1


def duplicate_error(column: str, value: str, others: list[int], count: int) -> RowError:
    """DUPLICATE_IN_FILE for a row whose `column` holds `value`, as `count` other rows do."""
    verb = "has" if count == 1 else "have"
    return RowError(
        column,
        "DUPLICATE_IN_FILE",
        f"{_rows(others, count)} also {verb} the {_NOUNS[column]} {shown(value)}; "
        "correct or exclude all but one of these rows.",
    )


def _rows(others: list[int], count: int) -> str:
    if count == 1:
        return f"Row {others[0]}"
    named = ", ".join(str(n) for n in others[:-1])
    more = count - len(others)
    if more:
        return f"Rows {named}, {others[-1]} and {more} more"
    return f"Rows {named} and {others[-1]}"
