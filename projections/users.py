"""The user list: one row per user, searchable, sortable and paged by keyset."""

from __future__ import annotations

from typing import Any

from domain.users import User
from domain.values import email_key, username_key
from projections.database import Cursor, Dialect
from projections.encoding import fold, from_json, iso, to_json

STATUS_EVENTS = User.StatusChanged


def search_text(first_name: str, last_name: str, email: str, username: str) -> str:
    return fold(f"{first_name} {last_name}\n{email}\n{username}")


class UserListView:
    """Keeps `users`, its search index, `group_members` and group member counts."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM group_members")
        cursor.execute("DELETE FROM users")
        if self.dialect == "sqlite":
            cursor.execute("INSERT INTO users_search (users_search) VALUES ('delete-all')")

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        if isinstance(event, User.Registered):
            self._registered(cursor, event, position)
        elif isinstance(event, STATUS_EVENTS):
            self._status_changed(cursor, event)
        elif isinstance(event, User.AccessChanged):
            self._access_changed(cursor, event)

    def _registered(self, cursor: Cursor, event: Any, position: int) -> None:
        invitation = event.invitation or {}
        text = search_text(event.first_name, event.last_name, event.email, event.username)
        cursor.execute(
            "INSERT INTO users (seq, id, version, first_name, last_name, email, username,"
            " name_sort, email_key, username_key, search_text, created_at, status,"
            " status_changed_at, invitation_id, invitation_issued_at, invitation_expires_at,"
            " group_ids, permissions, import_batch_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s)",
            (
                position,
                str(event.originator_id),
                event.originator_version,
                event.first_name,
                event.last_name,
                event.email,
                event.username,
                fold(f"{event.first_name} {event.last_name}"),
                email_key(event.email),
                username_key(event.username),
                text,
                iso(event.timestamp),
                str(event.status),
                iso(event.timestamp),
                _text(invitation.get("id")),
                _iso(invitation.get("issued_at")),
                _iso(invitation.get("expires_at")),
                to_json([str(g) for g in event.group_ids]),
                to_json(event.permissions),
                _text(event.import_batch_id),
            ),
        )
        if self.dialect == "sqlite":
            cursor.execute(
                "INSERT INTO users_search (rowid, search_text) VALUES (%s, %s)", (position, text)
            )
        self._join_groups(cursor, str(event.originator_id), [str(g) for g in event.group_ids])

    def _status_changed(self, cursor: Cursor, event: Any) -> None:
        invitation = getattr(event, "invitation", None)
        cursor.execute(
            "UPDATE users SET version = %s, status = %s, status_changed_at = %s WHERE id = %s",
            (
                event.originator_version,
                str(event.status),
                iso(event.timestamp),
                str(event.originator_id),
            ),
        )
        if invitation:
            cursor.execute(
                "UPDATE users SET invitation_id = %s, invitation_issued_at = %s,"
                " invitation_expires_at = %s, invitation_sent_at = NULL,"
                " invitation_accepted_at = NULL WHERE id = %s",
                (
                    str(invitation["id"]),
                    iso(invitation["issued_at"]),
                    iso(invitation["expires_at"]),
                    str(event.originator_id),
                ),
            )
        if isinstance(event, User.InvitationAccepted):
            cursor.execute(
                "UPDATE users SET invitation_accepted_at = %s WHERE id = %s",
                (iso(event.accepted_at), str(event.originator_id)),
            )

    def _access_changed(self, cursor: Cursor, event: Any) -> None:
        user_id = str(event.originator_id)
        cursor.execute("SELECT group_ids FROM users WHERE id = %s", (user_id,))
        row = cursor.fetchone()
        before = set(from_json(row["group_ids"])) if row else set()
        after = [str(g) for g in event.group_ids]
        self._leave_groups(cursor, user_id, sorted(before - set(after)))
        self._join_groups(cursor, user_id, sorted(set(after) - before))
        cursor.execute(
            "UPDATE users SET version = %s, group_ids = %s, permissions = %s WHERE id = %s",
            (event.originator_version, to_json(after), to_json(event.permissions), user_id),
        )

    @staticmethod
    def _join_groups(cursor: Cursor, user_id: str, group_ids: list[str]) -> None:
        for group_id in group_ids:
            cursor.execute(
                "INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)",
                (group_id, user_id),
            )
            cursor.execute(
                "UPDATE access_groups SET member_count = member_count + 1 WHERE id = %s",
                (group_id,),
            )

    @staticmethod
    def _leave_groups(cursor: Cursor, user_id: str, group_ids: list[str]) -> None:
        for group_id in group_ids:
            cursor.execute(
                "DELETE FROM group_members WHERE group_id = %s AND user_id = %s",
                (group_id, user_id),
            )
            cursor.execute(
                "UPDATE access_groups SET member_count = member_count - 1 WHERE id = %s",
                (group_id,),
            )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _iso(value: Any) -> str | None:
    return iso(value) if value is not None else None
