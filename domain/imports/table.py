"""The review table as the import's commands read it: the rows of a batch as its events
left them, kept by a projection (`projections.imports`).

A batch keeps only small state, so the commands that need rows (an edit needs the rows
that clash with the edited one; the commit needs the rows it registers) read them here,
after bringing the table up to date with every event stored.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Recording

from domain.imports.existing import ExistingUserAction
from domain.imports.review import ExistingUser, RowError, RowInput, RowKeys, RowStatus


@dataclass(frozen=True, slots=True)
class StoredRow:
    number: int
    values: RowInput
    status: RowStatus
    errors: tuple[RowError, ...]
    keys: RowKeys
    #: The registered user the row's email belongs to, as the review found them.
    existing: ExistingUser | None = None
    #: What the commit does with an EXISTING row (None: SKIP, the default).
    action: ExistingUserAction | None = None


class ReviewTable(Protocol):
    def catch_up(self) -> None:
        """Brings the table up to date with every event stored so far."""
        ...

    def take_in(self, recordings: Sequence[Recording[UUID]]) -> None:
        """`catch_up`, right after a write of these events (applied from memory when
        nothing else was written meanwhile)."""
        ...

    def rows_numbered(self, batch_id: UUID, numbers: Collection[int]) -> list[StoredRow]: ...

    def rows_holding(
        self, batch_id: UUID, email_keys: Collection[str], username_keys: Collection[str]
    ) -> list[StoredRow]:
        """The rows whose email key or given username's key is one of these."""
        ...

    def rows_between(self, batch_id: UUID, first: int, last: int) -> Sequence[StoredRow]:
        """Rows `first`..`last`, in order."""
        ...

    def rows_of_status(self, batch_id: UUID, status: RowStatus) -> list[StoredRow]:
        """Every row of that status, in order."""
        ...
