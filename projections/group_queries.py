"""Reading groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.database import Cursor
from projections.encoding import from_json


@dataclass(frozen=True)
class GroupRow:
    id: str
    name: str
    permissions: list[str]
    member_count: int


def all_groups(cursor: Cursor) -> list[GroupRow]:
    cursor.execute("SELECT * FROM access_groups ORDER BY name_key, id")
    return [_group(row) for row in cursor.fetchall()]


def groups_by_ids(cursor: Cursor, ids: list[str]) -> dict[str, GroupRow]:
    if not ids:
        return {}
    cursor.execute(f"SELECT * FROM access_groups WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
    return {row["id"]: _group(row) for row in cursor.fetchall()}


def _group(row: dict[str, Any]) -> GroupRow:
    return GroupRow(
        id=row["id"],
        name=row["name"],
        permissions=from_json(row["permissions"]),
        member_count=int(row["member_count"]),
    )
