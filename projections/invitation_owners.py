"""Whose invitation is this: the `invitations` table as `domain.invitations.InvitationOwners`,
and the PENDING users whose invitation has run out, for the expiry sweeper."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from projections.database import ReadDatabase
from projections.encoding import iso
from projections.follower import Follower


class InvitationOwnersTable:
    def __init__(self, database: ReadDatabase, follower: Follower) -> None:
        self.database = database
        self.follower = follower

    def user_of(self, invitation_id: UUID) -> UUID | None:
        found = self._user_of(invitation_id)
        if found is None:
            # Issued by another process a moment ago, perhaps: look again once current.
            self.follower.catch_up()
            found = self._user_of(invitation_id)
        return found

    def _user_of(self, invitation_id: UUID) -> UUID | None:
        with self.database.reading() as cursor:
            cursor.execute("SELECT user_id FROM invitations WHERE id = %s", (str(invitation_id),))
            row = cursor.fetchone()
        return UUID(row["user_id"]) if row else None

    def expired(self, now: datetime, limit: int) -> list[UUID]:
        """PENDING users whose invitation expired by `now`, longest expired first."""
        with self.database.reading() as cursor:
            cursor.execute(
                "SELECT id FROM users WHERE status = 'PENDING' AND invitation_expires_at <= %s"
                " ORDER BY invitation_expires_at LIMIT %s",
                (iso(now), limit),
            )
            return [UUID(row["id"]) for row in cursor.fetchall()]
