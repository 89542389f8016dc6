"""Reading import batches and their review tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.imports.phases import PhaseClock
from projections.database import Cursor, marks
from projections.encoding import from_iso, from_json
from projections.paging import Page, decode_cursor, encode_cursor, page_of

BATCHES = "import-batches"


@dataclass(frozen=True)
class BatchRow:
    id: str
    seq: int
    filename: str
    created_by: str
    created_at: datetime
    status: str
    counts: dict[str, int]
    access: dict[str, Any] | None
    #: The current phase's clock, once its work has begun (domain/imports/phases.py).
    clock: PhaseClock | None = None


@dataclass(frozen=True)
class ImportRowRow:
    row_number: int
    first_name: str
    last_name: str
    email: str
    username: str | None
    status: str
    errors: list[list[str | None]]
    user_id: str | None
    existing_user_id: str | None = None
    existing_user_status: str | None = None
    action: str | None = None
    #: The person the row is about was erased: its values are blank for good.
    erased: bool = False


def batch(cursor: Cursor, batch_id: str) -> BatchRow | None:
    cursor.execute("SELECT * FROM import_batches WHERE id = %s", (batch_id,))
    row = cursor.fetchone()
    return _batch(row) if row else None


def batches(cursor: Cursor, first: int, after: str | None) -> Page[BatchRow]:
    """Newest first."""
    where, params = "", []
    if after is not None:
        (seq,) = decode_cursor(BATCHES, after, 1)
        where, params = "WHERE seq < %s", [seq]
    cursor.execute(
        f"SELECT * FROM import_batches {where} ORDER BY seq DESC LIMIT %s", [*params, first + 1]
    )
    rows = [_batch(row) for row in cursor.fetchall()]
    return page_of(rows, first, lambda b: encode_cursor(BATCHES, [b.seq]))


def rows(
    cursor: Cursor, batch_id: str, statuses: tuple[str, ...], first: int, after: str | None
) -> Page[ImportRowRow]:
    """A batch's rows in file order, optionally of some statuses only."""
    kind = f"import-rows:{batch_id}"
    clauses, params = ["batch_id = %s"], [batch_id]
    if statuses:
        clauses.append(f"status IN ({', '.join(['%s'] * len(statuses))})")
        params += list(statuses)
    if after is not None:
        (number,) = decode_cursor(kind, after, 1)
        clauses.append("row_number > %s")
        params.append(number)
    cursor.execute(
        f"SELECT * FROM import_rows WHERE {' AND '.join(clauses)} ORDER BY row_number LIMIT %s",
        [*params, first + 1],
    )
    found = [_row(row) for row in cursor.fetchall()]
    return page_of(found, first, lambda r: encode_cursor(kind, [r.row_number]))


def rows_numbered(cursor: Cursor, batch_id: str, numbers: list[int]) -> list[ImportRowRow]:
    cursor.execute(
        f"SELECT * FROM import_rows WHERE batch_id = %s AND row_number IN ({marks(numbers)})"
        " ORDER BY row_number",
        [batch_id, *numbers],
    )
    return [_row(row) for row in cursor.fetchall()]


def count_rows(cursor: Cursor, batch_id: str, statuses: tuple[str, ...]) -> int:
    clause, params = "", [batch_id]
    if statuses:
        clause = f" AND status IN ({', '.join(['%s'] * len(statuses))})"
        params += list(statuses)
    cursor.execute(f"SELECT count(*) AS n FROM import_rows WHERE batch_id = %s{clause}", params)
    row = cursor.fetchone()
    return int(row["n"]) if row else 0


def _batch(row: dict[str, Any]) -> BatchRow:
    created_at = from_iso(row["created_at"])
    assert created_at is not None
    names = (
        *("total", "validated", "valid", "invalid", "excluded", "processed", "created", "failed"),
        *("existing", "updated", "skipped"),
    )
    return BatchRow(
        id=row["id"],
        seq=int(row["seq"]),
        filename=row["filename"],
        created_by=row["created_by"],
        created_at=created_at,
        status=row["status"],
        counts={name: int(row[name]) for name in names},
        access=from_json(row["access"]) if row["access"] else None,
        clock=_clock(row),
    )


def _clock(row: dict[str, Any]) -> PhaseClock | None:
    started_at, latest_at = from_iso(row["phase_started_at"]), from_iso(row["progressed_at"])
    if started_at is None or latest_at is None:
        return None
    return PhaseClock(started_at, int(row["phase_done"]), latest_at)


def _row(row: dict[str, Any]) -> ImportRowRow:
    return ImportRowRow(
        row_number=int(row["row_number"]),
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        username=row["username"],
        status=row["status"],
        errors=from_json(row["errors"]),
        user_id=row["user_id"],
        existing_user_id=row["existing_user_id"],
        existing_user_status=row["existing_user_status"],
        action=row["action"],
        erased=bool(row["erased"]),
    )
