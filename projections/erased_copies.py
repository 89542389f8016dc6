"""The copies of an erased person's data outside the read models, forgotten wherever
the erasure is applied: by the process that erased, or by the next to follow the
events after a crash in the middle of it.

- Uploaded files kept for a worker (jobs/uploads.py) are deleted once their batch has
  read them, but one that a crash kept past its read waits for the worker's sweep, an
  hour later. An erasure deletes at once every kept file its batch has read (or will
  never read: cancelled): any of them may be about the person. A file its batch still
  reads (VALIDATING) is left to that read, which deletes it as it ends: until then it
  is the only copy of the other rows of the file.
- Once the pass that applied an erasure is committed, the database forgets the copies
  of what it deleted (`ReadDatabase.forget_deleted`: SQLite's write-ahead log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from domain.users import User
from projections.database import Cursor, ReadDatabase

log = logging.getLogger("roster.erasure")


class ErasedCopiesView:
    def __init__(self, database: ReadDatabase) -> None:
        self.database = database
        self._applied = threading.Event()

    def clear(self, cursor: Cursor) -> None:
        """Nothing to clear: the files are work in progress, not a read model."""

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        if not any(isinstance(event, User.Erased) for event, _ in events):
            return
        cursor.execute(
            "DELETE FROM import_uploads WHERE batch_id IN"
            " (SELECT id FROM import_batches WHERE status <> 'VALIDATING')"
        )
        self._applied.set()

    def advanced(self, position: int) -> None:
        """Listens to the read model (`Follower.on_advance`): called once its pass is
        committed, when the log holds the deleted rows' old pages for the last time."""
        if not self._applied.is_set():
            return
        self._applied.clear()
        if not self.database.forget_deleted():
            self._applied.set()  # readers held the log: the next advance tries again
            log.warning("The database log could not be truncated after an erasure yet.")
