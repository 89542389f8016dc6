"""Reading status history: one user's changes, the status at a moment, the auditors' feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.database import Cursor
from projections.encoding import from_iso, iso
from projections.paging import Page, decode_cursor, encode_cursor, page_of

FEED = "status-changes"


@dataclass(frozen=True)
class StatusChangeRow:
    position: int
    user_id: str
    version: int
    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    source: str
    reason: str | None


def history_of(cursor: Cursor, user_id: str) -> list[StatusChangeRow]:
    cursor.execute("SELECT * FROM status_changes WHERE user_id = %s ORDER BY version", (user_id,))
    return [_change(row) for row in cursor.fetchall()]


def status_at(cursor: Cursor, user_id: str, at: datetime) -> str | None:
    cursor.execute(
        "SELECT to_status FROM status_changes WHERE user_id = %s AND at <= %s"
        " ORDER BY version DESC LIMIT 1",
        (user_id, iso(at)),
    )
    row = cursor.fetchone()
    return row["to_status"] if row else None


def changes(
    cursor: Cursor,
    *,
    since: datetime | None,
    until: datetime | None,
    first: int,
    after: str | None,
) -> Page[StatusChangeRow]:
    """Oldest first, by time and then by position in the event store."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("at >= %s")
        params.append(iso(since))
    if until is not None:
        clauses.append("at < %s")
        params.append(iso(until))
    if after is not None:
        at, position = decode_cursor(FEED, after, 2)
        clauses.append("(at, position) > (%s, %s)")
        params += [at, position]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    cursor.execute(
        f"SELECT * FROM status_changes {where} ORDER BY at, position LIMIT %s",
        [*params, first + 1],
    )
    rows = [_change(row) for row in cursor.fetchall()]
    return page_of(rows, first, lambda c: encode_cursor(FEED, [iso(c.at), c.position]))


def changes_after(
    cursor: Cursor, position: int, user_id: str | None, limit: int
) -> list[StatusChangeRow]:
    """The first `limit` changes recorded after `position` (in store order), for live
    subscriptions: a subscriber behind by many changes reads them a page at a time."""
    where, params = "position > %s", [position]
    if user_id is not None:
        where += " AND user_id = %s"
        params.append(user_id)  # type: ignore[arg-type]
    cursor.execute(
        f"SELECT * FROM status_changes WHERE {where} ORDER BY position LIMIT %s",
        [*params, limit],
    )
    return [_change(row) for row in cursor.fetchall()]


def _change(row: dict[str, Any]) -> StatusChangeRow:
    at = from_iso(row["at"])
    assert at is not None
    return StatusChangeRow(
        position=int(row["position"]),
        user_id=row["user_id"],
        version=int(row["version"]),
        from_status=row["from_status"],
        to_status=row["to_status"],
        at=at,
        actor=row["actor"],
        source=row["source"],
        reason=row["reason"],
    )
