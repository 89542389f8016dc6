"""Starting bulk actions: `startBulkAction` on listed users or on a filter's, and
`revertImport` on a COMPLETED batch's users. Both only record the action and the users
it is for; `domain.bulk.process` applies it in the background."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain import values
from domain.application import Roster, Saved, retried_on_conflict
from domain.bulk.action import BulkAction, BulkActionKind, BulkActionStatus
from domain.errors import InvalidInputError
from domain.ids import time_ordered_id
from domain.imports.batch import ImportBatch

#: Users one startBulkAction may list at most; a filter has no such limit.
MAX_LISTED = 10_000


@dataclass(frozen=True)
class UserFilter:
    """The `users` query's search and statuses, and the batch that registered them."""

    search: str | None = None
    statuses: tuple[str, ...] = ()
    import_batch_id: UUID | None = None


class UserSelection(Protocol):
    """The users read model as bulk actions read it, up to date with every event stored."""

    def matching(self, where: UserFilter) -> list[UUID]:
        """Every user the filter matches, oldest first."""
        ...

    def unknown(self, user_ids: Sequence[UUID]) -> list[int]:
        """The indexes of the ids that are not a registered user's."""
        ...


class BulkCommands:
    def __init__(self, roster: Roster, selection: UserSelection) -> None:
        self.roster = roster
        self.selection = selection

    def start(
        self,
        action: BulkActionKind,
        *,
        user_ids: Sequence[UUID] | None,
        where: UserFilter | None,
        actor: str,
        reason: str | None,
    ) -> Saved:
        """A RUNNING action on the listed users or on the filter's users as they are now;
        COMPLETED at once when there are none."""
        if action is BulkActionKind.REVERT_IMPORT:
            raise ValueError("An import is reverted by revert_import.")
        reason = values.parse_reason(reason)
        targets = self._chosen(user_ids, where)
        bulk = BulkAction.start(action, targets, actor=actor, reason=reason)
        return Saved.of(bulk.id, self.roster.save(bulk))

    @retried_on_conflict
    def revert_import(self, batch_id: UUID, *, actor: str, reason: str) -> Saved:
        """Starts deactivating the users a COMPLETED batch registered who have not accepted
        their invitation; the batch is REVERTING until that is done. A batch reverting or
        reverted already is left as it is."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        given = values.parse_reason(reason)
        if given is None:
            raise InvalidInputError(
                "Say why the import is reverted: the reason is recorded on every user it "
                "deactivates.",
                field="reason",
                code="REQUIRED",
            )
        action_id = time_ordered_id()
        if not batch.start_revert(action_id, actor=actor, reason=given):
            return Saved(batch.id, 0)
        bulk = BulkAction.start(
            BulkActionKind.REVERT_IMPORT,
            self.selection.matching(UserFilter(import_batch_id=batch_id)),
            actor=actor,
            reason=given,
            import_batch_id=batch_id,
            action_id=action_id,
        )
        if bulk.status is BulkActionStatus.COMPLETED:  # nobody to deactivate
            batch.finish_revert()
        return Saved.of(batch.id, self.roster.save(batch, bulk))

    def _chosen(self, user_ids: Sequence[UUID] | None, where: UserFilter | None) -> list[UUID]:
        if (user_ids is None) == (where is None):
            raise InvalidInputError(
                "Give either userIds or a filter: the users listed, or every user the filter "
                "matches.",
                field="userIds" if user_ids is not None else "filter",
                code="ONE_SELECTION",
            )
        if where is not None:
            return self.selection.matching(where)
        assert user_ids is not None
        if len(user_ids) > MAX_LISTED:
            raise InvalidInputError(
                f"List at most {MAX_LISTED:,} users, or choose them with a filter.",
                field="userIds",
                code="TOO_MANY",
            )
        unknown = self.selection.unknown(user_ids)
        if unknown:
            index = unknown[0]
            raise InvalidInputError(
                f"No user has the id {user_ids[index]}; check the id or leave it out.",
                field=f"userIds[{index}]",
                code="UNKNOWN_USER",
            )
        return list(user_ids)
