"""The expiry sweeper: PENDING users whose invitation ran out become EXPIRED.

It asks the user list for PENDING users whose invitation expired (an index on status and
expiry, never a scan of everyone) every `every_seconds`, and expires each through the
User aggregate (source EXPIRY, actor `system`). Several sweepers (one per server
process) may run on one database: a user expired by another is refused as not PENDING
and skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from domain.application import Roster
from domain.errors import DomainError
from jobs.loop import BackgroundLoop
from projections.follower import Follower
from projections.invitation_owners import InvitationOwnersTable

log = logging.getLogger("roster.invitations")

#: Users expired per look at the user list.
SWEEP_ROWS = 500


class ExpirySweeper(BackgroundLoop):
    def __init__(
        self,
        roster: Roster,
        owners: InvitationOwnersTable,
        read_model: Follower,
        *,
        every_seconds: float,
    ) -> None:
        self.roster = roster
        self.owners = owners
        self.read_model = read_model
        super().__init__("expiry-sweeper", every_seconds)

    def run_once(self) -> bool:
        self.sweep()
        return False  # then wait for the next sweep

    def sweep(self, now: datetime | None = None) -> int:
        """Expires every PENDING invitation that ran out by `now`; returns how many."""
        now = now or datetime.now(UTC)
        self.read_model.catch_up()
        expired = 0
        while not self.stopping:
            due = self.owners.expired(now, SWEEP_ROWS)
            done = 0
            for user_id in due:
                try:
                    self.roster.expire_invitation(user_id, now=now)
                    done += 1
                except DomainError:
                    continue  # expired, accepted or deactivated meanwhile
            expired += done
            self.read_model.catch_up()
            if len(due) < SWEEP_ROWS or done == 0:
                return expired
        return expired
