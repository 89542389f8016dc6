"""Accepting an upload: the whole file is checked first, so a file that cannot be used
makes no batch; then a small file is read at once and a large one is kept for a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from domain.application import Saved
from domain.ids import time_ordered_id
from domain.imports.process import Importer, Limits, count_rows
from jobs.leases import Leases
from jobs.uploads import Uploads
from jobs.worker import worker_name

#: Files of at most this many rows are read before startImport answers (IN_REVIEW).
INLINE_ROWS = 5_000


class LeaseLostError(Exception):
    """The upload's own read lost its lease (the process stalled longer than the lease)."""


class Intake:
    def __init__(
        self,
        importer: Importer,
        uploads: Uploads,
        limits: Limits,
        *,
        lease_seconds: float,
        inline_rows: int = INLINE_ROWS,
        on_kept: Callable[[], None] = lambda: None,
    ) -> None:
        self.importer = importer
        self.uploads = uploads
        self.limits = limits
        self.lease_seconds = lease_seconds
        self.inline_rows = inline_rows
        self.on_kept = on_kept

    def accept(self, stream: IO[bytes], filename: str, *, actor: str) -> Saved:
        """InvalidFileError for a file that cannot be used, having stored nothing."""
        rows = count_rows(stream, self.limits)
        batch_id = time_ordered_id()
        if rows > self.inline_rows:
            self.uploads.keep(batch_id, stream)
            saved = self.importer.start(filename, actor=actor, batch_id=batch_id, rows=rows)
            self.on_kept()
            return saved
        # Read here, under a lease that keeps the workers off the batch meanwhile.
        lease = Leases(self.uploads.database, worker_name(), self.lease_seconds).hold(batch_id)
        assert lease is not None, "nobody else knows of this batch yet"
        with lease:
            self.importer.start(filename, actor=actor, batch_id=batch_id, rows=rows)
            read = self.importer.read(batch_id, stream, self.limits, go_on=lambda: lease.held)
        if read is None:
            raise LeaseLostError(
                "This server was too slow reading the file; its batch was given up. "
                "Upload the file again."
            )
        return read
