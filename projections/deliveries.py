"""The invitation mails to send: one row per invitation issued, PENDING until the delivery
worker hands it over (SENT), the mail server refuses it for good (FAILED), or a newer
invitation or a deactivation makes it pointless (SUPERSEDED)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.users import User
from projections.database import Cursor
from projections.encoding import iso

ISSUING = (User.Registered, User.Reactivated, User.InvitationReissued)


class DeliveryView:
    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM mail_deliveries")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        issued = []
        for event, position in events:
            if isinstance(event, ISSUING) and getattr(event, "invitation", None):
                issued.append((event, position))
                continue
            self._issue(cursor, issued)
            issued = []
            if isinstance(event, User.InvitationSent):
                self._mark(cursor, event.invitation_id, "SENT")
            elif isinstance(event, User.InvitationUndeliverable):
                self._mark(cursor, event.invitation_id, "FAILED")
            elif isinstance(event, User.StatusChanged):
                # Accepted, expired, deactivated: nothing of this user is worth sending.
                self._supersede(cursor, str(event.originator_id))
        self._issue(cursor, issued)

    def _issue(self, cursor: Cursor, issued: list[tuple[Any, int]]) -> None:
        if not issued:
            return
        rows = []
        for event, position in issued:
            user_id = str(event.originator_id)
            if isinstance(event, User.Registered):
                name = f"{event.first_name} {event.last_name}"
                email = event.email
            else:
                self._supersede(cursor, user_id)
                cursor.execute(
                    "SELECT first_name, last_name, email FROM users WHERE id = %s", (user_id,)
                )
                user = cursor.fetchone()
                if user is None:
                    continue
                name, email = f"{user['first_name']} {user['last_name']}", user["email"]
            invitation = event.invitation
            rows.append(
                (
                    str(invitation["id"]),
                    user_id,
                    email,
                    name,
                    event.actor,
                    iso(invitation["expires_at"]),
                    position,
                    event.timestamp.timestamp(),
                )
            )
        cursor.executemany(
            "INSERT INTO mail_deliveries (invitation_id, user_id, email, name, inviter,"
            " expires_at, seq, status, attempts, next_attempt_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 'PENDING', 0, %s)",
            rows,
        )

    @staticmethod
    def _mark(cursor: Cursor, invitation_id: Any, status: str) -> None:
        cursor.execute(
            "UPDATE mail_deliveries SET status = %s WHERE invitation_id = %s",
            (status, str(invitation_id)),
        )

    @staticmethod
    def _supersede(cursor: Cursor, user_id: str) -> None:
        cursor.execute(
            "UPDATE mail_deliveries SET status = 'SUPERSEDED'"
            " WHERE user_id = %s AND status = 'PENDING'",
            (user_id,),
        )
