"""The ImportBatch aggregate: one uploaded file, from its review to the users it registers.

The batch keeps only small state (status, counts, the chosen access, the commit cursor),
so loading it never replays a million rows into memory. Its events carry the rows and
every row's result, from which a per-batch projection builds the review table; their
`apply` methods only move counts and status.

Events hold JSON values only. Maps keyed by row number use the number as a string (a
JSON object key); statuses and modes are their plain string values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as LibrarySnapshot

from domain.errors import InvalidInputError, InvalidStateError
from domain.ids import row_user_id, time_ordered_id
from domain.imports import revision
from domain.imports.batch_values import (
    AccessMode,
    Changes,
    ErrorsData,
    ImportStatus,
    ResultData,
    RowAccess,
    RowData,
    changes_data,
    check_access,
    counts_data,
    errors_data,
    result_data,
    row_data,
)
from domain.imports.existing import ExistingUserAction, check_fit, rows_named
from domain.imports.review import (
    ReviewCounts,
    RowError,
    RowInput,
    RowKeys,
    RowResult,
    RowStatus,
)
from domain.personal import ERASED_KEYS, ERASED_ROW, ByRow, Rows, actors
from domain.statuses import UserStatus

#: What sealing the rows' personal data takes (domain/personal.py): a row's values and
#: keys, and its errors' messages (which quote the values).
_ROW_PARTS: tuple[tuple[str, Any], ...] = (
    ("values", ERASED_ROW),
    ("keys", ERASED_KEYS),
    ("errors", []),
)

__all__ = ["AccessMode", "ImportBatch", "ImportStatus", "RowAccess"]


class ImportBatch(Aggregate):
    """An import of one file: VALIDATING while its rows are read, IN_REVIEW while people
    correct, exclude and include rows and choose access, COMMITTING while its users are
    registered in ranges of rows, then COMPLETED; or CANCELLED on the way.

    Callers record rows in chunks of `domain.imports.review.CHUNK_ROWS` (2,000) rows, so
    that no event passes 1 MiB whatever the number of rows: 2,000 rows of 100-character
    values with no errors make about 0.9 MB. Rows far longer (a cell may be longer than
    createUser allows) or with several long errors need smaller chunks.
    """

    create_id = staticmethod(time_ordered_id)
    #: The bulk action reverting the batch, once revertImport started it (a class default:
    #: snapshots taken before reverts existed lack it).
    revert_action_id: UUID | None = None

    class Started(Aggregate.Created):
        __personal__ = (actors("created_by"),)

        filename: str
        created_by: str
        #: The data rows the file was found to have when it was uploaded, if known.
        rows: int | None = None

    class RowsRead(Aggregate.Event):
        __personal__ = (
            Rows("rows", "first_row", ERASED_ROW),
            Rows("results", "first_row", [], part="errors"),
            Rows("keys", "first_row", ERASED_KEYS),
        )

        """Rows `first_row`.. as read, with their results once every row was reviewed, and
        each row's [email key, username key] by which the review table finds clashes."""

        first_row: int
        rows: list[RowData]
        results: list[ResultData]
        keys: list[list[str | None]] | None = None

        def apply(self, aggregate: Any) -> None:
            valid = sum(result["status"] == RowStatus.VALID for result in self.results)
            existing = sum(result["status"] == RowStatus.EXISTING for result in self.results)
            aggregate.total_rows += len(self.rows)
            aggregate.valid += valid
            aggregate.existing += existing
            aggregate.invalid += len(self.rows) - valid - existing

    class Counted(Aggregate.Event):
        """Base of the events that give the review's counts anew."""

        valid: int
        invalid: int
        excluded: int
        #: Absent from events of versions before EXISTING rows.
        existing: int = field(default=0, kw_only=True)

        def apply(self, aggregate: Any) -> None:
            aggregate.valid, aggregate.invalid = self.valid, self.invalid
            aggregate.excluded, aggregate.existing = self.excluded, self.existing

    class Reviewed(Counted):
        total: int

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = ImportStatus.IN_REVIEW

    class RowsChanged(Counted):
        """Base of the reviewer's edits: the results of every row whose result changed,
        by row number, and the counts after the edit."""

        __personal__ = (
            *(ByRow("changes", erased, part=part) for part, erased in _ROW_PARTS),
            actors("actor"),
        )

        changes: dict[str, ResultData]
        actor: str

    class RowCorrected(RowsChanged):
        row_number: int

    class RowsExcluded(RowsChanged):
        row_numbers: list[int]

    class RowsIncluded(RowsChanged):
        row_numbers: list[int]

    class RowsRevised(RowsChanged):
        """A corrected file taken into the review (reviseImport), or a part of one: a
        large file is recorded as several of these in one save, each with the counts
        after the whole file. `changes` as for RowCorrected (the new values and keys of
        each row replaced, the new result of each row whose result changed); `added`
        the new rows, numbered on from `first_added`, each with its values, keys,
        status and errors."""

        __personal__ = (
            *(ByRow("changes", erased, part=part) for part, erased in _ROW_PARTS),
            *(Rows("added", "first_added", erased, part=part) for part, erased in _ROW_PARTS),
            actors("actor"),
        )

        filename: str
        first_added: int
        added: list[ResultData]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.total_rows += len(self.added)

    class RowActionsChosen(Aggregate.Event):
        """What the commit does with EXISTING rows: `row_numbers`, or every row EXISTING
        at this point when None. The review table keeps each row's action."""

        __personal__ = (actors("actor"),)

        action: str
        row_numbers: list[int] | None
        actor: str

    class AccessChosen(Aggregate.Event):
        __personal__ = (actors("actor"),)

        mode: str
        group_ids: list[UUID]
        mirror_user_id: UUID | None
        rows: dict[str, dict[str, list[Any]]]
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.access = AccessMode(self.mode)
            aggregate.mirror_user_id = self.mirror_user_id
            aggregate.group_ids = list(self.group_ids)
            aggregate.row_access = {
                int(number): RowAccess(list(row["group_ids"]), list(row["permissions"]))
                for number, row in self.rows.items()
            }

    class CommitStarted(Aggregate.Event):
        """For MIRROR_USER, the mirrored user's groups and direct permissions as they were
        when the commit started: every row gets these, however long the commit runs."""

        __personal__ = (actors("actor"),)

        excluded_invalid: bool
        actor: str
        mirrored_group_ids: list[UUID] | None = None
        mirrored_permissions: list[str] | None = None

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ImportStatus.COMMITTING
            aggregate.committed_by = self.actor
            aggregate.mirrored = (
                None
                if self.mirrored_group_ids is None
                else (list(self.mirrored_group_ids), list(self.mirrored_permissions or []))
            )
            if self.excluded_invalid:
                aggregate.excluded += aggregate.invalid
                aggregate.invalid = 0

    class RowsRegistered(Aggregate.Event):
        """Rows `first_row`..`last_row` went through the commit: `created` gives the user
        of each row registered, `failed` the errors of each row that could not be,
        `updated` the EXISTING rows whose action was carried out (their users' events are
        in the same write), `skipped` the rows left alone (EXISTING rows whose action was
        to skip or whose user was erased, and rows whose person was erased since the
        review); rows in the range that are in none were excluded."""

        __personal__ = (ByRow("failed", []),)

        first_row: int
        last_row: int
        created: dict[str, UUID]
        failed: dict[str, ErrorsData]
        updated: list[int] | None = None
        skipped: list[int] | None = None

        def apply(self, aggregate: Any) -> None:
            updated, skipped = len(self.updated or ()), len(self.skipped or ())
            aggregate.commit_cursor = self.last_row
            aggregate.in_flight = False
            aggregate.created += len(self.created)
            aggregate.failed += len(self.failed)
            aggregate.updated += updated
            aggregate.skipped += skipped
            aggregate.processed += len(self.created) + len(self.failed) + updated + skipped

    class Completed(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ImportStatus.COMPLETED

    class Cancelled(Aggregate.Event):
        """Users already registered stay; rows the commit had not reached never will be."""

        __personal__ = (actors("actor"),)

        previous_status: str
        actor: str
        reason: str | None = None

        def apply(self, aggregate: Any) -> None:
            aggregate.in_flight = aggregate.status is ImportStatus.COMMITTING
            aggregate.status = ImportStatus.CANCELLED

    class RevertStarted(Aggregate.Event):
        """The batch's users who have not accepted are being deactivated by the bulk
        action `action_id` (see domain.bulk); the batch is REVERTING until it ends."""

        __personal__ = (actors("actor"),)

        action_id: UUID
        actor: str
        reason: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ImportStatus.REVERTING
            aggregate.revert_action_id = self.action_id

    class Reverted(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ImportStatus.REVERTED

    class Snapshot(LibrarySnapshot):
        """The batch's small state in JSON values, so that loading a batch of a million
        rows never replays its row events (the application snapshots every few events)."""

        __personal__ = (actors("state.created_by", "state.committed_by"),)

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            state = snapshot.state
            state["row_access"] = {
                str(number): row.as_event_data() for number, row in state["row_access"].items()
            }
            state["mirrored"] = None if state["mirrored"] is None else list(state["mirrored"])
            return snapshot

        def mutate(self, _: None) -> Any:
            batch = super().mutate(None)
            assert isinstance(batch, ImportBatch)
            batch.status = ImportStatus(batch.status)
            for name in ("existing", "updated", "skipped"):  # snapshots of older versions
                batch.__dict__.setdefault(name, 0)
            batch.access = None if batch.access is None else AccessMode(batch.access)
            batch.row_access = {
                int(number): RowAccess(list(row["group_ids"]), list(row["permissions"]))
                for number, row in cast(dict[str, Any], batch.row_access).items()
            }
            if batch.mirrored is not None:
                group_ids, permissions = batch.mirrored
                batch.mirrored = (list(group_ids), list(permissions))
            return batch

    @event(Started)
    def __init__(self, filename: str, created_by: str, rows: int | None = None) -> None:
        self.filename = filename
        self.created_by = created_by
        self.status = ImportStatus.VALIDATING
        self.total_rows = self.valid = self.invalid = self.excluded = 0
        self.created = self.failed = self.processed = 0
        self.existing = self.updated = self.skipped = 0
        self.access: AccessMode | None = None
        self.mirror_user_id: UUID | None = None
        self.group_ids: list[UUID] = []
        self.row_access: dict[int, RowAccess] = {}
        #: The last row number the commit went through: it resumes after it.
        self.commit_cursor = 0
        self.committed_by: str | None = None
        self.mirrored: tuple[list[UUID], list[str]] | None = None
        #: Cancelled while COMMITTING: the one range being registered at that moment may
        #: still be recorded, and no other.
        self.in_flight = False

    @classmethod
    def started(
        cls, batch_id: UUID, *, filename: str, created_by: str, rows: int | None = None
    ) -> ImportBatch:
        """A new batch with an id chosen beforehand (its file is stored under that id)."""
        return cls._create(
            cls.Started, id=batch_id, filename=filename, created_by=created_by, rows=rows
        )

    @staticmethod
    def user_id_for(batch_id: UUID, row_number: int) -> UUID:
        """The id of the user that row `row_number` of the batch registers.

        Derived, not random, so the commit is exactly once: after a crash the same row
        gives the same id again, and the event store refuses a second user with that id
        (a row whose user exists is then known as CREATED, not registered again). A
        batch's users get consecutive ids (`domain.ids`); batches of versions before
        time-ordered ids (UUID4 batch ids) keep the UUID5 ids they were committing with.
        """
        if batch_id.version == 7:
            return row_user_id(batch_id, row_number)
        return uuid5(batch_id, str(row_number))

    # ------------------------------------------------------------------ review

    def record_rows(
        self,
        first_row: int,
        rows: Sequence[RowInput],
        results: Sequence[RowResult],
        keys: Sequence[RowKeys] | None = None,
    ) -> None:
        """Records a chunk of rows read, with their results once the review has them all."""
        self._require(ImportStatus.VALIDATING, "rows can only be read")
        if first_row != self.total_rows + 1:
            raise ValueError(f"Rows must continue at row {self.total_rows + 1}, not {first_row}.")
        if len(rows) != len(results) or not rows:
            raise ValueError("Give one result for each row, and at least one row.")
        read = (RowStatus.VALID, RowStatus.INVALID, RowStatus.EXISTING)
        if any(result.status not in read for result in results):
            raise ValueError("A row just read can only be VALID, INVALID or EXISTING.")
        if keys is not None and len(keys) != len(rows):
            raise ValueError("Give the keys of each row, or none.")
        self.trigger_event(
            self.RowsRead,
            first_row=first_row,
            rows=[row_data(row) for row in rows],
            results=[result_data(result) for result in results],
            keys=None if keys is None else [list(pair) for pair in keys],
        )

    def recorded_counts(self) -> ReviewCounts:
        """The counts of the rows recorded so far, as their results say."""
        return ReviewCounts(
            valid=self.valid, invalid=self.invalid, excluded=self.excluded, existing=self.existing
        )

    def finish_review(self, counts: ReviewCounts) -> None:
        self._require(ImportStatus.VALIDATING, "the review can only be finished")
        self._check_counts(counts)
        self.trigger_event(self.Reviewed, total=self.total_rows, **counts_data(counts))

    def correct_row(
        self,
        row_number: int,
        values: RowInput,
        changes: Changes,
        counts: ReviewCounts,
        actor: str,
        keys: RowKeys | None = None,
    ) -> None:
        self._check_edit([row_number], changes, counts, field="rowNumber")
        data = changes_data(changes)
        data.setdefault(str(row_number), {})["values"] = row_data(values)
        if keys is not None:
            data[str(row_number)]["keys"] = list(keys)
        self.trigger_event(
            self.RowCorrected,
            row_number=row_number,
            changes=data,
            actor=actor,
            **counts_data(counts),
        )

    def revise_rows(
        self,
        replaced: Mapping[int, tuple[RowInput, RowKeys]],
        added: Sequence[tuple[RowInput, RowKeys]],
        changes: Changes,
        counts: ReviewCounts,
        actor: str,
        *,
        filename: str,
    ) -> None:
        """Takes a corrected file in: `replaced` rows get new values, `added` rows are
        appended; `changes` has the new result of every row whose result changed, the
        added ones included. Recorded in parts of at most `revision.EVENT_BYTES`."""
        self.require_review("rows can only be changed")
        self._check_rows(list(replaced), field="file")
        total = self.total_rows + len(added)
        new = range(self.total_rows + 1, total + 1)
        if any(not 1 <= number <= total for number in changes) or not set(new) <= set(changes):
            raise ValueError("Give a result for each added row, and only for rows of the batch.")
        if sum(counts_data(counts).values()) != total or not (replaced or added):
            raise ValueError(f"The counts do not add up to the {total} rows after the revision.")
        entries = _revised_entries(replaced, changes, self.total_rows)
        news = [
            (number, {**result_data(changes[number]), "values": row_data(row), "keys": list(keys)})
            for number, (row, keys) in zip(new, added, strict=True)
        ]
        every = [*entries, *news]
        first_added = new.start
        for part in revision.parts(every):
            chosen = every[part.start : part.stop]
            kept = [(n, data) for n, data in chosen if n < new.start]
            appended = [data for n, data in chosen if n >= new.start]
            self.trigger_event(
                self.RowsRevised,
                changes={str(number): data for number, data in kept},
                filename=filename,
                first_added=first_added,
                added=appended,
                actor=actor,
                **counts_data(counts),
            )
            first_added += len(appended)

    def exclude_rows(
        self, row_numbers: Sequence[int], changes: Changes, counts: ReviewCounts, actor: str
    ) -> None:
        self._edit_rows(self.RowsExcluded, row_numbers, changes, counts, actor)

    def include_rows(
        self, row_numbers: Sequence[int], changes: Changes, counts: ReviewCounts, actor: str
    ) -> None:
        self._edit_rows(self.RowsIncluded, row_numbers, changes, counts, actor)

    def choose_row_action(
        self,
        action: ExistingUserAction,
        statuses: Mapping[int, UserStatus | None],
        *,
        actor: str,
        every: bool = False,
    ) -> None:
        """The action for the EXISTING rows of `statuses` (each row's user's status when
        reviewed; None for a row that is not EXISTING), or for every EXISTING row when
        `every`. Refused whole, naming the rows, when a row is not EXISTING or the action
        does not fit its user's status."""
        self._require(ImportStatus.IN_REVIEW, "actions can only be chosen")
        self._check_rows(list(statuses), field="rowNumbers")
        others = [number for number, status in statuses.items() if status is None]
        if others:
            raise InvalidStateError(
                f"An action is only for EXISTING rows (an email of a registered user); "
                f"{rows_named(others)} {'is' if len(others) == 1 else 'are'} not."
            )
        check_fit(action, {n: status for n, status in statuses.items() if status is not None})
        self.trigger_event(
            self.RowActionsChosen,
            action=action.value,
            row_numbers=None if every else list(statuses),
            actor=actor,
        )

    def choose_access(
        self,
        mode: AccessMode,
        *,
        actor: str,
        group_ids: Sequence[UUID] = (),
        mirror_user_id: UUID | None = None,
        rows: Mapping[int, RowAccess] | None = None,
    ) -> None:
        """How the new users receive permissions; the application checks that the groups
        and the mirrored user exist."""
        self._require(ImportStatus.IN_REVIEW, "access can only be chosen")
        check_access(mode, group_ids, mirror_user_id, rows)
        self._check_rows(list(rows or {}), field="access.rows")
        self.trigger_event(
            self.AccessChosen,
            mode=mode.value,
            group_ids=list(group_ids),
            mirror_user_id=mirror_user_id,
            rows={str(n): row.as_event_data() for n, row in (rows or {}).items()},
            actor=actor,
        )

    # ------------------------------------------------------------------ commit

    def start_commit(
        self,
        *,
        exclude_invalid: bool,
        actor: str,
        mirrored: tuple[list[UUID], list[str]] | None = None,
    ) -> bool:
        """Starts the commit; False, recording nothing, when it was started already."""
        if self.status in (ImportStatus.COMMITTING, ImportStatus.COMPLETED):
            return False
        self._require(ImportStatus.IN_REVIEW, "a batch can only be committed")
        if self.access is None:
            raise InvalidStateError("Choose how the new users receive access before committing.")
        if self.invalid and not exclude_invalid:
            raise InvalidStateError(
                f"{self.invalid} rows are INVALID: correct or exclude them, or commit with "
                "excludeInvalidRows."
            )
        if (mirrored is None) != (self.access is not AccessMode.MIRROR_USER):
            raise ValueError("Give the mirrored user's access exactly when access is MIRROR_USER.")
        self.trigger_event(
            self.CommitStarted,
            excluded_invalid=exclude_invalid,
            actor=actor,
            mirrored_group_ids=None if mirrored is None else list(mirrored[0]),
            mirrored_permissions=None if mirrored is None else list(mirrored[1]),
        )
        return True

    def register_rows(
        self,
        first_row: int,
        last_row: int,
        created: Mapping[int, UUID],
        failed: Mapping[int, Sequence[RowError]],
        updated: Sequence[int] = (),
        skipped: Sequence[int] = (),
    ) -> None:
        """Records the outcome of rows `first_row`..`last_row`, which follow the cursor;
        also once the batch was cancelled while committing, for the rows that were being
        registered at that moment (their users exist: the review table must say so)."""
        if not (self.status is ImportStatus.CANCELLED and self.in_flight):
            self._require(ImportStatus.COMMITTING, "rows can only be registered")
        if first_row != self.commit_cursor + 1 or not first_row <= last_row <= self.total_rows:
            raise ValueError(
                f"Rows {first_row}..{last_row} do not follow the commit cursor "
                f"({self.commit_cursor}) within {self.total_rows} rows; resume after it."
            )
        every = [*created, *failed, *updated, *skipped]
        if any(not first_row <= n <= last_row for n in every) or len(set(every)) != len(every):
            raise ValueError(
                "Each row must be in the range and one of created, failed, updated, skipped."
            )
        if any(user_id != self.user_id_for(self.id, n) for n, user_id in created.items()):
            raise ValueError("A created row's user id must be ImportBatch.user_id_for it.")
        self.trigger_event(
            self.RowsRegistered,
            first_row=first_row,
            last_row=last_row,
            created={str(number): user_id for number, user_id in created.items()},
            failed={str(number): errors_data(errors) for number, errors in failed.items()},
            updated=list(updated) or None,
            skipped=list(skipped) or None,
        )

    def complete(self) -> None:
        self._require(ImportStatus.COMMITTING, "a batch can only be completed")
        if self.commit_cursor != self.total_rows:
            raise ValueError(f"Rows after {self.commit_cursor} have not been processed yet.")
        self.trigger_event(self.Completed)

    # ------------------------------------------------------------------ revert

    def start_revert(self, action_id: UUID, *, actor: str, reason: str | None) -> bool:
        """Starts deactivating the batch's users by the bulk action `action_id`; False,
        recording nothing, when the batch is being reverted or was reverted already."""
        if self.status in (ImportStatus.REVERTING, ImportStatus.REVERTED):
            return False
        self._require(ImportStatus.COMPLETED, "an import can only be reverted")
        self.trigger_event(self.RevertStarted, action_id=action_id, actor=actor, reason=reason)
        return True

    def finish_revert(self) -> None:
        self._require(ImportStatus.REVERTING, "a revert can only be finished")
        self.trigger_event(self.Reverted)

    def cancel(self, actor: str, *, reason: str | None = None) -> None:
        if self.status in (
            ImportStatus.COMPLETED,
            ImportStatus.CANCELLED,
            ImportStatus.REVERTING,
            ImportStatus.REVERTED,
        ):
            raise InvalidStateError(f"This batch is {self.status} already; it cannot be cancelled.")
        self.trigger_event(
            self.Cancelled, previous_status=self.status.value, actor=actor, reason=reason
        )

    # ------------------------------------------------------------------ rules

    def require_review(self, rule: str) -> None:
        """InvalidState unless the batch is IN_REVIEW; `rule` says what is refused."""
        self._require(ImportStatus.IN_REVIEW, rule)

    def check_rows(self, row_numbers: Sequence[int], *, field: str) -> None:
        """InvalidInput (UNKNOWN_ROW) for a row number the file does not have."""
        self._check_rows(row_numbers, field=field)

    def check_row(self, row_number: int, *, field: str) -> None:
        """InvalidInput (UNKNOWN_ROW) naming `field` when the file has no such row."""
        if not 1 <= row_number <= self.total_rows:
            raise _unknown_row(row_number, field)

    def _require(self, wanted: ImportStatus, rule: str) -> None:
        if self.status is not wanted:
            raise InvalidStateError(f"This batch is {self.status}; {rule} while it is {wanted}.")

    def _edit_rows(
        self,
        event_class: type[RowsChanged],
        row_numbers: Sequence[int],
        changes: Changes,
        counts: ReviewCounts,
        actor: str,
    ) -> None:
        self._check_edit(row_numbers, changes, counts, field="rowNumbers")
        self.trigger_event(
            event_class,
            row_numbers=list(row_numbers),
            changes=changes_data(changes),
            actor=actor,
            **counts_data(counts),
        )

    def _check_edit(
        self, row_numbers: Sequence[int], changes: Changes, counts: ReviewCounts, *, field: str
    ) -> None:
        self._require(ImportStatus.IN_REVIEW, "rows can only be changed")
        self._check_rows(row_numbers, field=field)
        self._check_rows(list(changes), field=field)
        self._check_counts(counts)

    def _check_rows(self, row_numbers: Sequence[int], *, field: str) -> None:
        for index, number in enumerate(row_numbers):
            self.check_row(number, field=f"{field}[{index}]")

    def _check_counts(self, counts: ReviewCounts) -> None:
        if counts.valid + counts.invalid + counts.excluded + counts.existing != self.total_rows:
            raise ValueError(f"The counts do not add up to the {self.total_rows} rows read.")


def _revised_entries(
    replaced: Mapping[int, tuple[RowInput, RowKeys]], changes: Changes, total_rows: int
) -> list[tuple[int, ResultData]]:
    """The event data of each row of the batch that a revision replaced or changed."""
    data = {n: result_data(result) for n, result in changes.items() if n <= total_rows}
    for number, (row, keys) in replaced.items():
        entry = data.setdefault(number, {})
        entry["values"], entry["keys"] = row_data(row), list(keys)
    return sorted(data.items())


def _unknown_row(number: int, field: str) -> InvalidInputError:
    return InvalidInputError(
        f"There is no row {number} in this import; use a row number of its review.",
        field=field,
        code="UNKNOWN_ROW",
    )


# The person a row's personal data is about: the user the row registers.
for _event_class in (ImportBatch.RowsRead, ImportBatch.RowsChanged, ImportBatch.RowsRegistered):
    setattr(_event_class, "__row_subject__", staticmethod(ImportBatch.user_id_for))  # noqa: B010
