"""Reading a file into a batch through the real store: events stay under 1 MiB whatever
the rows hold, and a read that stops midway resumes to the same review, each row once."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from bootstrap import Services, build_services
from domain.imports.batch import ImportBatch
from domain.imports.process import Limits
from projections import import_queries
from settings import Settings

MIB = 1024 * 1024


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def csv_bytes(rows: list[str]) -> bytes:
    return ("first_name,last_name,email,username\r\n" + "".join(r + "\r\n" for r in rows)).encode()


def read_into_new_batch(services: Services, content: bytes | io.RawIOBase) -> UUID:
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    batch_id = uuid4()
    services.worker.importer.start("people.csv", actor="admin", batch_id=batch_id)
    services.worker.importer.read(batch_id, stream, Limits())  # type: ignore[arg-type]
    services.read_model.catch_up()
    return batch_id


def review_table(services: Services, batch_id: UUID) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    after = None
    while True:
        with services.database.reading() as cursor:
            page = import_queries.rows(cursor, str(batch_id), (), 500, after)
        rows += [(r.row_number, r.email, r.status, r.errors) for _, r in page.items]
        if not page.has_next_page:
            return rows
        after = page.end_cursor


def test_no_event_passes_one_mebibyte_however_long_and_faulty_the_rows(
    services: Services,
) -> None:
    # Every cell at its worst: long, non-ASCII (escaped in JSON), a formula, and the same
    # email on every row so each row names many others.
    cell = "=" + "é" * 300
    content = csv_bytes([f"{cell},{cell},same@acme.com,{cell}" for _ in range(3_000)])

    batch_id = read_into_new_batch(services, content)

    sizes = [len(stored.state) for stored in services.roster.recorder.select_events(batch_id)]
    assert len(sizes) > 3
    assert max(sizes) < MIB
    batch = services.roster.get_aggregate(ImportBatch, batch_id, "import batch")
    assert (batch.status.value, batch.total_rows, batch.invalid) == ("IN_REVIEW", 3_000, 3_000)


class FailingAfter(io.RawIOBase):
    """The file, failing once `limit` bytes were read in its second pass from the start
    (the read's pass that records the rows): a crash in the middle of recording."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = io.BytesIO(data)
        self._limit = limit
        self._passes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer: Any) -> int:
        if self._data.tell() == 0:
            self._passes += 1
        if self._passes >= 2 and self._data.tell() >= self._limit:
            raise OSError("the disk went away")
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_a_read_that_stopped_midway_resumes_to_the_review_of_an_uninterrupted_one(
    services: Services,
) -> None:
    rows = [f"Person,No{n},person.{n % 4_000}@acme.com," for n in range(9_000)]
    rows[8_500] = "Bad,Row,not-an-email,"
    content = csv_bytes(rows)
    whole = read_into_new_batch(services, content)

    batch_id = uuid4()
    importer = services.worker.importer
    importer.start("people.csv", actor="admin", batch_id=batch_id)
    with pytest.raises(OSError, match="disk went away"):
        importer.read(batch_id, FailingAfter(content, len(content) // 2), Limits())  # type: ignore[arg-type]
    half = services.roster.get_aggregate(ImportBatch, batch_id, "import batch")
    assert 0 < half.total_rows < 9_000
    assert half.status.value == "VALIDATING"

    importer.read(batch_id, io.BytesIO(content), Limits())
    services.read_model.catch_up()

    resumed = services.roster.get_aggregate(ImportBatch, batch_id, "import batch")
    expected = services.roster.get_aggregate(ImportBatch, whole, "import batch")
    assert resumed.status.value == "IN_REVIEW"
    assert (resumed.total_rows, resumed.valid, resumed.invalid) == (
        expected.total_rows,
        expected.valid,
        expected.invalid,
    )
    assert review_table(services, batch_id) == review_table(services, whole)


def test_a_follower_pass_reads_events_up_to_a_size_not_a_count(services: Services) -> None:
    cell = "é" * 300
    read_into_new_batch(
        services, csv_bytes([f"{cell},{cell},a{n}@acme.com," for n in range(6_000)])
    )
    recorder = services.roster.recorder
    notifications = recorder.select_notifications(start=0, limit=1_000)
    sizes = {n.id: len(n.state) for n in notifications}

    stop = recorder.notifications_within(0, 1_000, MIB)  # type: ignore[attr-defined]

    assert stop is not None
    assert sum(size for i, size in sizes.items() if i <= stop) <= MIB
    assert stop < max(sizes)  # the rest waits for the next pass
    # However large the next event, a pass takes at least one.
    assert recorder.notifications_within(stop, 1_000, 1) == min(i for i in sizes if i > stop)  # type: ignore[attr-defined]
