"""The bulk actions' read model: one row per action with its progress, and the users a
revert kept, kept from BulkAction events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.bulk.action import BulkAction
from projections.database import Cursor
from projections.encoding import iso


class BulkActionView:
    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM bulk_action_kept")
        cursor.execute("DELETE FROM bulk_actions")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        for event, position in events:
            if isinstance(event, BulkAction.Started):
                self._started(cursor, event, position)
            elif isinstance(event, BulkAction.RangeProcessed):
                self._range(cursor, event)
            elif isinstance(event, BulkAction.Completed):
                cursor.execute(
                    "UPDATE bulk_actions SET status = 'COMPLETED', completed_at = %s WHERE id = %s",
                    (iso(event.timestamp), str(event.originator_id)),
                )

    @staticmethod
    def _started(cursor: Cursor, event: Any, position: int) -> None:
        batch_id = event.import_batch_id
        cursor.execute(
            "INSERT INTO bulk_actions (id, seq, action, status, actor, reason, import_batch_id,"
            " created_at, total, processed, changed, skipped, kept)"
            " VALUES (%s, %s, %s, 'RUNNING', %s, %s, %s, %s, %s, 0, 0, 0, 0)",
            (
                str(event.originator_id),
                position,
                event.action,
                event.actor,
                event.reason,
                None if batch_id is None else str(batch_id),
                iso(event.timestamp),
                event.total,
            ),
        )

    @staticmethod
    def _range(cursor: Cursor, event: Any) -> None:
        action_id = str(event.originator_id)
        cursor.execute(
            "UPDATE bulk_actions SET processed = %s, changed = changed + %s,"
            " skipped = skipped + %s, kept = kept + %s WHERE id = %s",
            (event.last, event.changed, event.skipped, len(event.kept), action_id),
        )
        cursor.executemany(
            "INSERT INTO bulk_action_kept (action_id, seq, user_id) VALUES (%s, %s, %s)",
            [
                (action_id, event.first + offset, str(user_id))
                for offset, user_id in enumerate(event.kept)
            ],
        )
