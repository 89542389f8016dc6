"""Which worker holds which batch, until when: a row per batch with an expiry.

A worker renews its lease while it works; a worker that dies stops renewing, and
another takes the batch over once the lease has run out. Leases keep two workers from
doing the same work at once; they are not what makes the work exactly-once (the batch's
version and the users' derived ids are).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from uuid import UUID

from projections.database import ReadDatabase

log = logging.getLogger("roster.imports")


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

    def hold(self, batch_id: UUID) -> Lease | None:
        """The lease on the batch, to work under with `with`; None while another holds it."""
        return Lease(self, batch_id) if self.claim(batch_id) else None

    def release(self, batch_id: UUID) -> None:
        with self.database.writing() as cursor:
            cursor.execute(
                "DELETE FROM import_leases WHERE batch_id = %s AND owner = %s",
                (str(batch_id), self.owner),
            )


class Lease:
    """A lease held: renewed in the background while the `with` block runs, released at
    its end. `held` turns false for good when a renewal finds another worker took the
    batch over (this one was frozen past the lease): work must then stop, unfinished."""

    def __init__(self, leases: Leases, batch_id: UUID) -> None:
        self._leases = leases
        self._batch_id = batch_id
        self._done = threading.Event()
        self._lost = threading.Event()
        self._beat = threading.Thread(target=self._renew, name="import-lease", daemon=True)

    @property
    def held(self) -> bool:
        return not self._lost.is_set()

    def __enter__(self) -> Lease:
        self._beat.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._beat.join()
        if self.held:
            self._leases.release(self._batch_id)

    def _renew(self) -> None:
        while not self._done.wait(self._leases.seconds / 3):
            try:
                if not self._leases.claim(self._batch_id):
                    log.warning("Lost the lease on batch %s to another worker.", self._batch_id)
                    self._lost.set()
                    return
            except Exception:
                log.exception("Could not renew the lease on batch %s.", self._batch_id)
