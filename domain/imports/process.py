"""The long steps of an import: reading a file into a batch, and registering its rows.

Both are written to be run again after a crash, by whichever worker takes the batch
next, and to give the same outcome as one uninterrupted run:

- `read` skips the rows the batch recorded already. Their results were recorded whole
  and the file has not changed, so the rows still to record clash with them exactly
  as before; the counts are the batch's own sums of what it recorded.
- `commit` registers the rows after the batch's commit cursor, each as the user
  `ImportBatch.user_id_for(batch, row)`. A row whose user was registered before the
  crash is refused by the store (its email is held by that very id) and is recorded
  as CREATED, never registered twice.

Nothing here blocks on the other: the batch's version orders the writes, so two
workers that ran the same step at once would simply see one of their saves refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Recording

from domain.application import NewUser, Roster, Saved
from domain.errors import DomainError
from domain.ids import time_ordered_id
from domain.imports.actions import ActionOutcome, Orders, acting, carry_out
from domain.imports.batch import AccessMode, ImportBatch, ImportStatus
from domain.imports.reading import MAX_BYTES, MAX_ROWS, CsvRow, open_csv
from domain.imports.review import Review, RowError, RowInput, RowKeys, RowResult, RowStatus
from domain.imports.rows import check_columns, row_error
from domain.imports.table import ReviewTable, StoredRow
from domain.statuses import StatusChangeSource
from domain.uniqueness import KeyKind, KeyOwners

#: Rows per RowsRead event at most, and the encoded size a chunk stays under.
CHUNK_ROWS = 2_000
CHUNK_BYTES = 768 * 1024
#: Rows registered per write (and per RowsRegistered event).
COMMIT_ROWS = 2_000
#: How often a range's write is tried when other writers change its users meanwhile.
MAX_RANGE_TRIES = 10


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS


def count_rows(stream: IO[bytes], limits: Limits) -> int:
    """Reads the whole file once, keeping nothing: InvalidFileError for any fault in it,
    else the number of data rows. Leaves the stream where it started."""
    start = stream.tell()
    try:
        return sum(1 for _ in _rows(stream, limits))
    finally:
        stream.seek(start)


class Importer:
    def __init__(self, roster: Roster, table: ReviewTable) -> None:
        self.roster = roster
        self.table = table

    def start(
        self,
        filename: str,
        *,
        actor: str,
        batch_id: UUID | None = None,
        rows: int | None = None,
    ) -> Saved:
        """A new batch, VALIDATING, of a file of `rows` data rows; `read` gives it its rows."""
        batch = ImportBatch.started(
            batch_id or time_ordered_id(), filename=filename, created_by=actor, rows=rows
        )
        return Saved.of(batch.id, self.roster.save(batch))

    def abandon(self, batch_id: UUID, reason: str) -> None:
        """Cancels a batch whose file cannot be read, saying why; by the system, not a
        person. Only while it is VALIDATING: once read, it is not this reader's to end."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        if batch.status is ImportStatus.VALIDATING:
            batch.cancel("system", reason=reason)
            self.roster.save(batch)

    # ------------------------------------------------------------------ reading

    def read(
        self,
        batch_id: UUID,
        stream: IO[bytes],
        limits: Limits,
        *,
        go_on: Callable[[], bool] = lambda: True,
    ) -> Saved | None:
        """Reviews every row of the file and records the rows with their results; the
        batch is then IN_REVIEW. None when the batch was not VALIDATING (any more), or
        when `go_on()` turned false before the end (the next reader resumes)."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        if batch.status is not ImportStatus.VALIDATING:
            return None
        start = stream.tell()
        # The whole file is reviewed before its first row is recorded (a row can clash
        # with any later one), so the review keeps only what results depend on; the
        # values are read from the file again as they are recorded.
        review = Review(keep_values=False)
        review.add(
            ((row.number, _input(row)) for row in _rows(stream, limits)),
            self.roster.people(),
        )
        stream.seek(start)
        recorded = batch.total_rows
        rows = (row for row in _rows(stream, limits) if row.number > recorded)
        try:
            for chunk in _chunks(rows, review):
                if not go_on():
                    return None
                batch.record_rows(
                    chunk[0].number,
                    [line.row for line in chunk],
                    [line.result for line in chunk],
                    [line.keys for line in chunk],
                )
                self.roster.save(batch)
            del review
            batch.finish_review(batch.recorded_counts())
            return Saved.of(batch.id, self.roster.save(batch))
        except IntegrityError:
            # Changed under our feet: cancelled while we read (then stop), or read by
            # another worker meanwhile (then it is that worker's to finish).
            batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
            if batch.status is ImportStatus.VALIDATING:
                raise
            return None

    # ------------------------------------------------------------------ commit

    def commit(
        self, batch_id: UUID, *, rows: int = COMMIT_ROWS, go_on: Callable[[], bool] = lambda: True
    ) -> None:
        """Registers the rows after the commit cursor, a range at a time, then completes
        the batch; stops early when `go_on()` turns false or the batch is cancelled."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        self.table.catch_up()  # the rows as the commit found them
        while batch.status is ImportStatus.COMMITTING and go_on():
            if self.roster.recorder.select_events(batch.id, gt=batch.version, limit=1):
                # Changed by someone else (a cancel): see how before the next range.
                batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
                continue
            batch = self._commit_range(batch, rows)

    def _commit_range(self, batch: ImportBatch, rows: int) -> ImportBatch:
        """The batch after registering its next range of rows (or completing it)."""
        if batch.commit_cursor == batch.total_rows:
            batch.complete()
            self.roster.save(batch)
            return batch
        first = batch.commit_cursor + 1
        last = min(batch.commit_cursor + rows, batch.total_rows)
        stored = self.table.rows_between(batch.id, first, last)
        valid = [row for row in stored if row.status is RowStatus.VALID]
        existing = [row for row in stored if row.status is RowStatus.EXISTING]
        # A row whose person was erased since the review (its values read back empty)
        # registers nobody: it is left alone, as a skipped row is.
        erased = [row.number for row in valid if not row.values.email]
        valid = [row for row in valid if row.values.email]
        created, failed, recordings = self._register(batch, valid)
        for _ in range(MAX_RANGE_TRIES):
            # The existing users' changes go in the batch's write: both or neither.
            acted = self._act(batch, existing)
            try:
                batch.register_rows(
                    first,
                    last,
                    created,
                    {**failed, **acted.failed},
                    acted.updated,
                    sorted([*erased, *acted.skipped]),
                )
                recordings = [*recordings, *self.roster.save(batch, *acted.users)]
                # Project the range now, between this write and the next: left to another
                # thread, the projection and the next range's write would take turns at
                # the database's write lock (and SQLite's busy waits) all through the
                # commit. The events are at hand: the read model takes them from memory.
                self.table.take_in(recordings)
                return batch
            except IntegrityError:
                # Changed meanwhile: cancelled (the range is still recorded, its users
                # exist), another worker recorded the range already, or one of the
                # existing users changed (then their action is tried on them as they are).
                batch = self.roster.get_aggregate(ImportBatch, batch.id, "import batch")
                if batch.commit_cursor != first - 1 or not (
                    batch.status is ImportStatus.COMMITTING or batch.in_flight
                ):
                    return batch
        raise RuntimeError(f"Rows {first}..{last} kept clashing with other writers; try later.")

    def _act(self, batch: ImportBatch, rows: Sequence[StoredRow]) -> ActionOutcome:
        """The EXISTING rows' actions carried out on their users as they are now."""
        user_ids = acting(rows)
        return carry_out(
            rows,
            self.roster.users_of(user_ids) if user_ids else {},
            Orders(
                actor=batch.committed_by or batch.created_by,
                filename=batch.filename,
                access=lambda number: self._access(batch, number),
                new_invitation=self.roster.new_invitation,
            ),
        )

    def _register(
        self, batch: ImportBatch, rows: Sequence[StoredRow]
    ) -> tuple[dict[int, UUID], dict[int, list[RowError]], list[Recording[UUID]]]:
        """The rows' users registered, the rows refused with their errors, and the
        events of the write."""
        ids = {row.number: ImportBatch.user_id_for(batch.id, row.number) for row in rows}
        registrations = self.roster.register_users(
            [
                NewUser(
                    first_name=row.values.first_name,
                    last_name=row.values.last_name,
                    email=row.values.email,
                    username=row.values.username or None,
                    group_ids=list(group_ids),
                    permissions=list(permissions),
                    id=ids[row.number],
                    kept=True,  # a VALID row's values are as the review's checks kept them
                )
                for row in rows
                for group_ids, permissions in [self._access(batch, row.number)]
            ],
            actor=batch.committed_by or batch.created_by,
            source=StatusChangeSource.IMPORT,
            import_batch_id=batch.id,
        )
        created: dict[int, UUID] = {}
        failed: dict[int, list[RowError]] = {}
        refused: list[tuple[StoredRow, DomainError]] = []
        for row, outcome in zip(rows, registrations.outcomes, strict=True):
            if isinstance(outcome, DomainError):
                refused.append((row, outcome))
            else:
                created[row.number] = outcome.id
        # A row registered before a crash holds its email under its own id: CREATED.
        owners = cast(KeyOwners, self.roster.recorder).owners(
            KeyKind.EMAIL, [key for row, _ in refused if (key := row.keys[0]) is not None]
        )
        for row, error in refused:
            if row.keys[0] is not None and owners.get(row.keys[0]) == ids[row.number]:
                created[row.number] = ids[row.number]
            else:
                failed[row.number] = [
                    row_error(error, conflict="It was registered after the review.")
                ]
        return created, failed, registrations.recordings

    def _access(self, batch: ImportBatch, row_number: int) -> tuple[list[UUID], list[str]]:
        if batch.mirrored is not None:
            return batch.mirrored
        if batch.access is AccessMode.ASSIGN_GROUPS:
            return batch.group_ids, []
        chosen = batch.row_access.get(row_number)
        return (chosen.group_ids, chosen.permissions) if chosen else ([], [])


def _rows(stream: IO[bytes], limits: Limits) -> Iterator[CsvRow]:
    return iter(open_csv(stream, max_bytes=limits.max_bytes, max_rows=limits.max_rows))


def _input(row: CsvRow) -> RowInput:
    values = row.values
    return RowInput(
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        username=values["username"] or None,
    )


@dataclass(frozen=True, slots=True)
class _Line:
    """A row as its RowsRead event records it."""

    number: int
    row: RowInput
    result: RowResult
    keys: RowKeys


def _chunks(rows: Iterator[CsvRow], review: Review) -> Iterator[list[_Line]]:
    """Rows in chunks of at most CHUNK_ROWS rows and about CHUNK_BYTES of event data."""
    chunk: list[_Line] = []
    size = 0
    for row in rows:
        typed = _input(row)
        checked = check_columns(typed)  # again: the review keeps no values (see `read`)
        line = _Line(
            row.number,
            checked.kept(typed),
            review.result(row.number, checked),
            review.keys(row.number),
        )
        chunk.append(line)
        size += _size(line)
        if len(chunk) >= CHUNK_ROWS or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _size(line: _Line) -> int:
    """An upper bound of the row's share of the event's JSON: a character outside ASCII
    may take six bytes (\\uXXXX), and so may a quote or a control character."""
    row, errors = line.row, line.result.errors
    text = f"{row.first_name}{row.last_name}{row.email}{row.username or ''}"
    text += "".join(error.message for error in errors)
    size = len(text) if text.isascii() and text.isprintable() and '"' not in text else 6 * len(text)
    return size + 40 * len(errors) + 2 * len(row.email) + 120  # keys, codes, punctuation
