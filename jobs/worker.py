"""The import worker: reads uploaded files into their batches and registers committed rows.

It runs as a thread in every server process (unless turned off) and as `roster worker`
on its own. Each pass brings the review table up to date, takes the oldest batch that
is VALIDATING or COMMITTING and not leased by another worker, and works on it while a
heartbeat renews the lease. A worker that dies leaves its lease to run out; the next
worker resumes the batch where its events end (see `domain.imports.process`).
"""

from __future__ import annotations

import io
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from uuid import UUID

from domain.errors import DomainError
from domain.imports.batch import ImportBatch, ImportStatus
from domain.imports.process import Importer, Limits
from jobs.leases import Lease, Leases
from jobs.loop import BackgroundLoop
from jobs.uploads import Uploads
from projections.database import ReadDatabase
from projections.follower import Follower

log = logging.getLogger("roster.imports")

#: The longest wait between attempts at a batch whose work keeps failing.
MAX_BACKOFF_SECONDS = 60.0
#: How often files that no batch will read are looked for (see Uploads.sweep).
SWEEP_EVERY_SECONDS = 600.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ImportWorker(BackgroundLoop):
    def __init__(
        self,
        importer: Importer,
        uploads: Uploads,
        database: ReadDatabase,
        read_model: Follower,
        limits: Limits,
        *,
        lease_seconds: float,
        poll_seconds: float = 1.0,
    ) -> None:
        self.importer = importer
        self.uploads = uploads
        self.database = database
        self.read_model = read_model
        self.limits = limits
        self.leases = Leases(database, worker_name(), lease_seconds)
        super().__init__("import-worker", poll_seconds)
        self._failures: dict[UUID, tuple[int, float]] = {}
        self._next_sweep = 0.0

    def run_once(self) -> bool:
        """Works on one batch that needs it; False when none does."""
        self.read_model.catch_up()
        if time.monotonic() >= self._next_sweep:
            self.uploads.sweep()
            self._next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
        for batch_id in self._waiting():
            if not self._due(batch_id):
                continue
            lease = self.leases.hold(batch_id)
            if lease is None:
                continue
            try:
                with lease:
                    self.work_on(batch_id, lease)
                self._failures.pop(batch_id, None)
            except Exception:
                self._failed(batch_id)
                raise
            return True
        return False

    def work_on(self, batch_id: UUID, lease: Lease) -> None:
        def go_on() -> bool:
            return lease.held and not self.stopping

        batch = self.importer.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        if batch.status is ImportStatus.VALIDATING:
            self._read(batch_id, go_on)
        self.importer.commit(batch_id, go_on=go_on)

    def _read(self, batch_id: UUID, go_on: Callable[[], bool]) -> None:
        stored = self.uploads.open(batch_id)
        if stored is None:
            # Read at upload and lost with its process (small files are not kept).
            self.importer.abandon(
                batch_id, "The uploaded file was lost before it was read; upload it again."
            )
            return
        try:
            read = self.importer.read(
                batch_id, io.BufferedReader(stored, 256 * 1024), self.limits, go_on=go_on
            )
        except DomainError as error:
            # The file was checked whole when it was uploaded: it cannot be refused now.
            log.error("Batch %s could not be read: %s", batch_id, error)
            if go_on():
                self.importer.abandon(batch_id, f"The file could not be read: {error}")
            return
        if read is not None:
            self.uploads.forget(batch_id)

    # ------------------------------------------------------------------ internals

    def _waiting(self) -> list[UUID]:
        with self.database.reading() as cursor:
            cursor.execute(
                "SELECT id FROM import_batches WHERE status IN ('VALIDATING', 'COMMITTING')"
                " ORDER BY seq"
            )
            return [UUID(row["id"]) for row in cursor.fetchall()]

    def _due(self, batch_id: UUID) -> bool:
        failures = self._failures.get(batch_id)
        return failures is None or time.monotonic() >= failures[1]

    def _failed(self, batch_id: UUID) -> None:
        count = self._failures.get(batch_id, (0, 0.0))[0] + 1
        delay = min(MAX_BACKOFF_SECONDS, self.poll_seconds * 2**count)
        self._failures[batch_id] = (count, time.monotonic() + delay)
