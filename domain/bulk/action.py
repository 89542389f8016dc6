"""The BulkAction aggregate: one action on many users, chosen when it starts, then
applied a range of users at a time.

The users are fixed when the action starts ("as of the moment it starts") and recorded
in the action's own events, TARGET_CHUNK ids an event, so that no event passes about
half a MiB however many users there are. Each range's outcome (how many users changed,
how many were skipped, the users kept) is recorded in the same atomic write as the
users' own events (see `domain.bulk.process`): a crash records both or neither, so the
range is never applied twice, and the next worker resumes at the action's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import time_ordered_id
from domain.personal import actors

#: User ids per TargetsChosen event: 10,000 ids are about 400 KB of JSON.
TARGET_CHUNK = 10_000


class BulkActionKind(StrEnum):
    RESEND_INVITATION = "RESEND_INVITATION"
    DEACTIVATE = "DEACTIVATE"
    REACTIVATE = "REACTIVATE"
    #: An import batch's revert (`revertImport`): not started by `startBulkAction`.
    REVERT_IMPORT = "REVERT_IMPORT"


class BulkActionStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"


class BulkAction(Aggregate):
    """RUNNING from its start until every chosen user went through it, then COMPLETED."""

    create_id = staticmethod(time_ordered_id)

    class Started(Aggregate.Created):
        __personal__ = (actors("actor"),)

        action: str
        actor: str
        reason: str | None
        total: int
        #: The batch reverted, for REVERT_IMPORT.
        import_batch_id: UUID | None = None

    class TargetsChosen(Aggregate.Event):
        """The next chunk of the users the action is for, in the order it takes them."""

        user_ids: list[UUID]

        def apply(self, aggregate: Any) -> None:
            aggregate.targets.extend(self.user_ids)

    class RangeProcessed(Aggregate.Event):
        """Users `first`..`last - 1` (indexes into the targets) went through the action:
        `changed` of them changed, `skipped` were not in a status that allows it (or are
        gone), and `kept` lists those a revert left because they had accepted."""

        first: int
        last: int
        changed: int
        skipped: int
        kept: list[UUID]

        def apply(self, aggregate: Any) -> None:
            aggregate.cursor = self.last
            aggregate.changed += self.changed
            aggregate.skipped += self.skipped
            aggregate.kept += len(self.kept)

    class Completed(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = BulkActionStatus.COMPLETED

    @event(Started)
    def __init__(
        self,
        action: str,
        actor: str,
        reason: str | None,
        total: int,
        import_batch_id: UUID | None = None,
    ) -> None:
        self.action = BulkActionKind(action)
        self.actor = actor
        self.reason = reason
        self.total = total
        self.import_batch_id = import_batch_id
        self.status = BulkActionStatus.RUNNING
        self.targets: list[UUID] = []
        #: Index of the first target not processed yet: the action resumes there.
        self.cursor = 0
        self.changed = self.skipped = self.kept = 0

    @classmethod
    def start(
        cls,
        action: BulkActionKind,
        user_ids: Sequence[UUID],
        *,
        actor: str,
        reason: str | None,
        import_batch_id: UUID | None = None,
        action_id: UUID | None = None,
    ) -> BulkAction:
        """A new action on these users (duplicates taken once, in order); COMPLETED at
        once when there are none."""
        targets = list(dict.fromkeys(user_ids))
        bulk = cls._create(
            cls.Started,
            id=action_id or time_ordered_id(),
            action=action.value,
            actor=actor,
            reason=reason,
            total=len(targets),
            import_batch_id=import_batch_id,
        )
        for start in range(0, len(targets), TARGET_CHUNK):
            bulk.trigger_event(cls.TargetsChosen, user_ids=targets[start : start + TARGET_CHUNK])
        if not targets:
            bulk.trigger_event(cls.Completed)
        return bulk

    # ------------------------------------------------------------------ ranges

    @property
    def processed(self) -> int:
        return self.cursor

    def next_range(self, size: int) -> list[UUID]:
        """The users of the next range to process, after the cursor."""
        return self.targets[self.cursor : self.cursor + size]

    def record_range(self, count: int, *, changed: int, skipped: int, kept: list[UUID]) -> None:
        """Records that the next `count` users went through the action."""
        self._require_running()
        if not 0 < count <= self.total - self.cursor:
            raise ValueError(f"{count} users do not follow the cursor {self.cursor}.")
        if changed + skipped + len(kept) != count:
            raise ValueError("Each user of the range is changed, skipped or kept.")
        self.trigger_event(
            self.RangeProcessed,
            first=self.cursor,
            last=self.cursor + count,
            changed=changed,
            skipped=skipped,
            kept=kept,
        )

    def complete(self) -> None:
        self._require_running()
        if self.cursor != self.total:
            raise ValueError(f"Users after {self.cursor} have not been processed yet.")
        self.trigger_event(self.Completed)

    def _require_running(self) -> None:
        if self.status is not BulkActionStatus.RUNNING:
            raise ValueError(f"This bulk action is {self.status} already.")
