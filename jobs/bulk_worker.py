"""The bulk worker: runs the bulk actions still RUNNING (startBulkAction, revertImport).

A thread in every server process (beside the import worker, under the same setting) and
in `roster worker`. Each pass takes the oldest RUNNING action that no other worker
holds, under a lease in the import workers' table (action ids never clash with batch
ids), and runs it while a heartbeat renews the lease. A worker that dies leaves its lease
to run out; the next resumes the action at its cursor (see `domain.bulk.process`).
"""

from __future__ import annotations

import logging
import time
from uuid import UUID

from domain.bulk.process import BulkRunner
from jobs.leases import Lease, Leases
from jobs.loop import BackgroundLoop
from jobs.worker import MAX_BACKOFF_SECONDS, worker_name
from projections import bulk_queries
from projections.database import ReadDatabase
from projections.follower import Follower

log = logging.getLogger("roster.bulk")


class BulkWorker(BackgroundLoop):
    def __init__(
        self,
        runner: BulkRunner,
        database: ReadDatabase,
        read_model: Follower,
        *,
        lease_seconds: float,
        poll_seconds: float = 1.0,
    ) -> None:
        self.runner = runner
        self.database = database
        self.read_model = read_model
        self.leases = Leases(database, worker_name(), lease_seconds)
        super().__init__("bulk-worker", poll_seconds)
        self._failures: dict[UUID, tuple[int, float]] = {}

    def run_once(self) -> bool:
        """Runs one action that needs it; False when none does."""
        self.read_model.catch_up()
        with self.database.reading() as cursor:
            waiting = [UUID(action_id) for action_id in bulk_queries.running(cursor)]
        for action_id in waiting:
            failures = self._failures.get(action_id)
            if failures is not None and time.monotonic() < failures[1]:
                continue
            lease = self.leases.hold(action_id)
            if lease is None:
                continue
            try:
                with lease:
                    self._run(action_id, lease)
                self._failures.pop(action_id, None)
            except Exception:
                count = self._failures.get(action_id, (0, 0.0))[0] + 1
                delay = min(MAX_BACKOFF_SECONDS, self.poll_seconds * 2**count)
                self._failures[action_id] = (count, time.monotonic() + delay)
                raise
            return True
        return False

    def _run(self, action_id: UUID, lease: Lease) -> None:
        self.runner.run(action_id, go_on=lambda: lease.held and not self.stopping)
