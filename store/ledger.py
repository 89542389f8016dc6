"""The erasure ledger: the ids of the keys erasures destroyed, kept outside the database.

A backup of the database taken before an erasure still holds the person: their key,
and the read models and unique keys that copied their data out of the events. Restored,
it would bring them back. The ledger is what erases them again (`roster erasures
reapply`): one JSON line per destruction, appended to a file that is backed up apart
from the database (it holds no personal data: key ids are random, or a user's id), and
logged as well, for deployments that keep their logs rather than a file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

log = logging.getLogger("roster.erasure")


class ErasureLedger:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, key_ids: Collection[UUID]) -> None:
        """Appends the destruction of these keys (and logs it)."""
        if not key_ids:
            return
        ids = sorted(str(key_id) for key_id in key_ids)
        log.info("Personal data keys destroyed: %s", " ".join(ids))
        if self.path is None:
            return
        line = json.dumps({"destroyed_at": datetime.now(UTC).isoformat(), "key_ids": ids})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as ledger:
                ledger.write(line + "\n")
                ledger.flush()
                os.fsync(ledger.fileno())


def read_ledgers(paths: Iterable[Path]) -> set[UUID]:
    """Every key id the ledgers (files of JSON lines) name; a line cut short by a crash
    while it was written is skipped."""
    ids: set[UUID] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            ids.update(UUID(key_id) for key_id in entry.get("key_ids", ()))
    return ids
