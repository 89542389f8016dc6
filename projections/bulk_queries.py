"""Reading bulk actions: an action's progress, a batch's revert, the users it kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from projections.database import Cursor, Row
from projections.encoding import from_iso
from projections.paging import Page, decode_cursor, encode_cursor, page_of

KEPT = "bulk-kept"
COUNTS = ("total", "processed", "changed", "skipped", "kept")


@dataclass(frozen=True)
class BulkActionRow:
    id: str
    action: str
    status: str
    actor: str
    reason: str | None
    import_batch_id: str | None
    created_at: datetime
    completed_at: datetime | None
    total: int
    processed: int
    changed: int
    skipped: int
    kept: int


def bulk_action(cursor: Cursor, action_id: str) -> BulkActionRow | None:
    """A bulk action started by startBulkAction (a revert shows as its batch's)."""
    cursor.execute(
        "SELECT * FROM bulk_actions WHERE id = %s AND action <> 'REVERT_IMPORT'", (action_id,)
    )
    row = cursor.fetchone()
    return _action(row) if row else None


def revert_of(cursor: Cursor, batch_id: str) -> BulkActionRow | None:
    """The revert of the batch, if it was reverted (a batch is reverted at most once)."""
    cursor.execute(
        "SELECT * FROM bulk_actions WHERE import_batch_id = %s AND action = 'REVERT_IMPORT'",
        (batch_id,),
    )
    row = cursor.fetchone()
    return _action(row) if row else None


def running(cursor: Cursor) -> list[str]:
    """The ids of the actions still RUNNING, oldest first."""
    cursor.execute("SELECT id FROM bulk_actions WHERE status = 'RUNNING' ORDER BY seq")
    return [row["id"] for row in cursor.fetchall()]


def kept_users(cursor: Cursor, action_id: str, first: int, after: str | None) -> Page[str]:
    """The ids of the users the action kept, in the order it met them."""
    seq = decode_cursor(KEPT, after, 1)[0] if after is not None else -1
    cursor.execute(
        "SELECT seq, user_id FROM bulk_action_kept WHERE action_id = %s AND seq > %s"
        " ORDER BY seq LIMIT %s",
        (action_id, seq, first + 1),
    )
    rows = [(int(row["seq"]), str(row["user_id"])) for row in cursor.fetchall()]
    page = page_of(rows, first, lambda r: encode_cursor(KEPT, [r[0]]))
    return Page([(c, user_id) for c, (_, user_id) in page.items], page.has_next_page)


def _action(row: Row) -> BulkActionRow:
    created = from_iso(row["created_at"])
    assert created is not None
    return BulkActionRow(
        id=row["id"],
        action=row["action"],
        status=row["status"],
        actor=row["actor"],
        reason=row["reason"],
        import_batch_id=row["import_batch_id"],
        created_at=created,
        completed_at=from_iso(row["completed_at"]),
        **{name: int(row[name]) for name in COUNTS},
    )
