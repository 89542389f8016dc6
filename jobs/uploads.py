"""Uploaded files kept in the database until their batch has read them.

A large file is read in the background, perhaps by another process or after a restart,
so the upload is kept where every worker finds it: in parts of PART_BYTES, written in
one transaction before the batch exists (a crash leaves no batch without its file).
"""

from __future__ import annotations

import io
import time
from typing import IO
from uuid import UUID

from projections.database import ReadDatabase

PART_BYTES = 1024 * 1024
#: A file kept this long without a batch that is still reading it is deleted.
SWEEP_AFTER_SECONDS = 3600.0


class Uploads:
    def __init__(self, database: ReadDatabase) -> None:
        self.database = database

    def keep(self, batch_id: UUID, stream: IO[bytes]) -> None:
        """Stores the stream from its current position to its end."""
        now = time.time()
        with self.database.writing() as cursor:
            part = 0
            while data := stream.read(PART_BYTES):
                cursor.execute(
                    "INSERT INTO import_uploads (batch_id, part, data, kept_at)"
                    " VALUES (%s, %s, %s, %s)",
                    (str(batch_id), part, data, now),
                )
                part += 1

    def open(self, batch_id: UUID) -> StoredFile | None:
        """The stored file, read part by part; None when there is none."""
        with self.database.reading() as cursor:
            cursor.execute(
                "SELECT count(*) AS parts FROM import_uploads WHERE batch_id = %s",
                (str(batch_id),),
            )
            found = cursor.fetchone()
        parts = int(found["parts"]) if found else 0
        return StoredFile(self.database, batch_id, parts) if parts else None

    def forget(self, batch_id: UUID) -> None:
        with self.database.writing() as cursor:
            cursor.execute("DELETE FROM import_uploads WHERE batch_id = %s", (str(batch_id),))

    def sweep(self, older_than: float = SWEEP_AFTER_SECONDS) -> None:
        """Deletes files no batch will read: kept for a batch that was never started
        (a crash between the two writes) or that is no longer VALIDATING (cancelled)."""
        with self.database.writing() as cursor:
            cursor.execute(
                "DELETE FROM import_uploads WHERE kept_at < %s AND batch_id NOT IN"
                " (SELECT id FROM import_batches WHERE status = 'VALIDATING')",
                (time.time() - older_than,),
            )


class UploadLostError(OSError):
    """A stored file was deleted while it was being read."""


class StoredFile(io.RawIOBase):
    """A stored upload as a readable, seekable binary stream; one part in memory."""

    def __init__(self, database: ReadDatabase, batch_id: UUID, parts: int) -> None:
        self._database = database
        self._batch_id = str(batch_id)
        self._parts = parts
        self._position = 0
        self._part: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._position = offset
        elif whence == io.SEEK_CUR:
            self._position += offset
        else:
            self._position = self._size() + offset
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        index, within = divmod(self._position, PART_BYTES)
        if index >= self._parts:
            return 0
        data = self._read_part(index)[within : within + len(buffer)]
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _read_part(self, index: int) -> bytes:
        if self._part is None or self._part[0] != index:
            with self._database.reading() as cursor:
                cursor.execute(
                    "SELECT data FROM import_uploads WHERE batch_id = %s AND part = %s",
                    (self._batch_id, index),
                )
                found = cursor.fetchone()
            if found is None:
                raise UploadLostError(
                    f"Part {index} of the file of batch {self._batch_id} is gone: "
                    "another worker read the file and deleted it."
                )
            self._part = (index, bytes(found["data"]))
        return self._part[1]

    def _size(self) -> int:
        return (self._parts - 1) * PART_BYTES + len(self._read_part(self._parts - 1))
