"""Groups with their permissions and how many users belong to them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.groups import Group
from domain.values import group_name_key
from projections.database import Cursor
from projections.encoding import iso, to_json


class GroupView:
    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM access_groups")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        for event, _ in events:
            self._apply(cursor, event)

    def _apply(self, cursor: Cursor, event: Any) -> None:
        if isinstance(event, Group.Created):
            cursor.execute(
                "INSERT INTO access_groups (id, name, name_key, permissions, member_count,"
                " created_at) VALUES (%s, %s, %s, %s, 0, %s)",
                (
                    str(event.originator_id),
                    event.name,
                    group_name_key(event.name),
                    to_json(event.permissions),
                    iso(event.timestamp),
                ),
            )
        elif isinstance(event, Group.PermissionsChanged):
            cursor.execute(
                "UPDATE access_groups SET permissions = %s WHERE id = %s",
                (to_json(event.permissions), str(event.originator_id)),
            )
