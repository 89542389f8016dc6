"""Running a bulk action: a range of its users at a time, each range one atomic write.

A range's users are read at once (one query per few hundred users), the action is
applied to those whose status allows it (the others are skipped and counted), and the
changed users are saved together with the action's `RangeProcessed` in one write. A
crash therefore records a range whole or not at all, and whichever worker runs the
action next resumes at its cursor: no user is changed twice. When another writer
changed one of the range's users between our read and our write, the write is refused
(IntegrityError, nothing recorded) and the range is done again on the users as they
are now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from domain.application import Roster
from domain.bulk.action import BulkAction, BulkActionKind, BulkActionStatus
from domain.imports.batch import ImportBatch
from domain.statuses import StatusChangeSource, Transition, allowed
from domain.users import User

#: Users per range (and per write) at most.
RANGE_USERS = 1_000

_TRANSITIONS = {
    BulkActionKind.RESEND_INVITATION: Transition.REISSUE_INVITATION,
    BulkActionKind.DEACTIVATE: Transition.DEACTIVATE,
    BulkActionKind.REACTIVATE: Transition.REACTIVATE,
    BulkActionKind.REVERT_IMPORT: Transition.DEACTIVATE,
}


class Outcome(Enum):
    CHANGED = "changed"
    SKIPPED = "skipped"
    KEPT = "kept"


class ReadModel(Protocol):
    def take_in(self, recordings: Sequence[Recording[Any]]) -> int:
        """Brings the read models up to date, right after a write of these events."""
        ...


class BulkRunner:
    def __init__(self, roster: Roster, read_model: ReadModel) -> None:
        self.roster = roster
        self.read_model = read_model

    def run(
        self,
        action_id: UUID,
        *,
        size: int = RANGE_USERS,
        go_on: Callable[[], bool] = lambda: True,
    ) -> None:
        """Processes the ranges after the action's cursor, then completes it (and its
        batch's revert); stops early when `go_on()` turns false."""
        bulk = self.roster.get_aggregate(BulkAction, action_id, "bulk action")
        while bulk.status is BulkActionStatus.RUNNING and go_on():
            bulk = self._step(bulk, size)

    def _step(self, bulk: BulkAction, size: int) -> BulkAction:
        """The action after its next range (or its completion)."""
        aggregates: list[Aggregate] = [bulk]
        if bulk.cursor == bulk.total:
            bulk.complete()
            if bulk.import_batch_id is not None:
                batch = self.roster.get_aggregate(ImportBatch, bulk.import_batch_id, "batch")
                batch.finish_revert()
                aggregates.append(batch)
        else:
            ids = bulk.next_range(size)
            users = self.roster.users_of(ids)
            changed: list[User] = []
            kept: list[UUID] = []
            skipped = 0
            for user_id in ids:
                user = users.get(user_id)
                outcome = Outcome.SKIPPED if user is None else self._act(bulk, user)
                if outcome is Outcome.CHANGED:
                    assert user is not None
                    changed.append(user)
                elif outcome is Outcome.KEPT:
                    kept.append(user_id)
                else:
                    skipped += 1
            bulk.record_range(len(ids), changed=len(changed), skipped=skipped, kept=kept)
            aggregates += changed
        try:
            recordings = self.roster.save(*aggregates)
        except IntegrityError:
            # A user changed meanwhile (the range is done again on the users as they are
            # now), or another worker recorded this step first (it goes on after it).
            return self.roster.get_aggregate(BulkAction, bulk.id, "bulk action")
        self.read_model.take_in(recordings)
        return bulk

    def _act(self, bulk: BulkAction, user: User) -> Outcome:
        """Applies the action to the user where their status allows it."""
        kind = bulk.action
        if kind is BulkActionKind.REVERT_IMPORT and user.has_accepted:
            return Outcome.KEPT
        if not allowed(_TRANSITIONS[kind], user.status):
            return Outcome.SKIPPED
        if kind is BulkActionKind.RESEND_INVITATION:
            user.reissue_invitation(actor=bulk.actor, invitation=self.roster.new_invitation())
        elif kind is BulkActionKind.REACTIVATE:
            user.reactivate(
                actor=bulk.actor, reason=bulk.reason, invitation=self.roster.new_invitation()
            )
        elif kind is BulkActionKind.DEACTIVATE:
            user.deactivate(actor=bulk.actor, reason=bulk.reason)
        else:
            user.deactivate(
                actor=bulk.actor, reason=bulk.reason, source=StatusChangeSource.IMPORT_REVERT
            )
        return Outcome.CHANGED
