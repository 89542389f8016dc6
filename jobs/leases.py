"""Which worker holds which batch, until when: a row per batch with an expiry.

A worker renews its lease while it works; a worker that dies stops renewing, and
another takes the batch over once the lease has run out. Leases keep two workers from
doing the same work at once; they are not what makes the work exactly-once (the batch's
version and the users' derived ids are).
"""

from __future__ import annotations

import time
from uuid import UUID

from projections.database import ReadDatabase


class Leases:
    def __init__(self, database: ReadDatabase, owner: str, seconds: float) -> None:
        self.database = database
        self.owner = owner
        self.seconds = seconds

    def claim(self, batch_id: UUID) -> bool:
        """Takes or renews the lease on the batch; False while another worker holds it."""
        now = time.time()
        with self.database.writing() as cursor:
            cursor.execute(
                "INSERT INTO import_leases (batch_id, owner, expires_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (batch_id) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at"
                " WHERE import_leases.owner = excluded.owner OR import_leases.expires_at < %s",
                (str(batch_id), self.owner, now + self.seconds, now),
            )
            cursor.execute("SELECT owner FROM import_leases WHERE batch_id = %s", (str(batch_id),))
            found = cursor.fetchone()
        return found is not None and found["owner"] == self.owner

    def release(self, batch_id: UUID) -> None:
        with self.database.writing() as cursor:
            cursor.execute(
                "DELETE FROM import_leases WHERE batch_id = %s AND owner = %s",
                (str(batch_id), self.owner),
            )
