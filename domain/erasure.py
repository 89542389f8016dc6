"""Erasing a person at their request (eraseUser): `Roster.erase_user` forgets them, once
told every row of the imported files that was about them."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.application import Roster, Saved


class RowsAboutPeople(Protocol):
    """The import review tables as erasure reads them, up to date with every event stored."""

    def rows_about(self, user_id: UUID) -> list[tuple[UUID, int]]:
        """[batch id, row number] of every row of any batch, in any status, about the
        user: the row that registered them, the rows that named them as registered
        already, and the rows that hold their email."""
        ...


class Erasures:
    def __init__(self, roster: Roster, rows: RowsAboutPeople) -> None:
        self.roster = roster
        self.rows = rows

    def erase_user(self, user_id: UUID, *, actor: str, reason: str) -> Saved:
        """Erases the user and every row of a file about them; an ERASED user is refused
        (InvalidStateError) and nothing changes."""
        rows = self.rows.rows_about(user_id)
        return self.roster.erase_user(user_id, actor=actor, reason=reason, rows=rows)
