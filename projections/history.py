"""Status history: one row per status change, exactly as the user's events record it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.users import User
from projections.database import Cursor
from projections.encoding import iso
from projections.users import STATUS_EVENTS, created_at


class StatusHistoryView:
    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM status_changes")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        rows = [_change(event, position) for event, position in events]
        cursor.executemany(
            "INSERT INTO status_changes (position, user_id, version, from_status, to_status, at,"
            " actor, source, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [row for row in rows if row is not None],
        )
        erased = [(str(e.originator_id), at) for e, at in events if isinstance(e, User.Erased)]
        if erased:
            # The reasons before an erasure were sealed under the person's key: a rebuild
            # reads them as none. The erasure's own reason stays, as the audit trail's.
            cursor.executemany(
                "UPDATE status_changes SET reason = NULL WHERE user_id = %s AND position < %s",
                erased,
            )


def _change(event: Any, position: int) -> tuple[Any, ...] | None:
    at = event.timestamp
    if isinstance(event, User.Registered):
        previous, at = None, created_at(event)
    elif isinstance(event, STATUS_EVENTS):
        previous = str(event.previous_status)
    else:
        return None
    return (
        position,
        str(event.originator_id),
        event.originator_version,
        previous,
        str(event.status),
        iso(at),
        event.actor,
        str(event.source),
        event.reason,
    )
