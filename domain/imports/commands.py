"""Commands on import batches: load the batch, one aggregate call, save.

Edits read the rows around the edited ones from the review table (`edits.work_out`),
after bringing it up to date; two edits at once clash on the batch's version, and the
one that lost runs again on the table the other left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO
from uuid import UUID

from domain import values
from domain.application import Roster, Saved, retried_on_conflict
from domain.errors import InvalidInputError, NotFoundError
from domain.imports.batch import AccessMode, ImportBatch, ImportStatus, RowAccess
from domain.imports.edits import work_out
from domain.imports.existing import ExistingUserAction
from domain.imports.process import Limits
from domain.imports.review import RowInput, RowStatus
from domain.imports.revision import RevisedLine, Revision, read_revision
from domain.imports.rows import check_columns
from domain.imports.table import ReviewTable
from domain.users import User


class ImportCommands:
    """The import steps that change a batch, given the application that stores it and
    the review table that the batch's events keep."""

    def __init__(self, roster: Roster, table: ReviewTable) -> None:
        self.roster = roster
        self.table = table

    # ------------------------------------------------------------------ review

    @retried_on_conflict
    def correct_row(self, batch_id: UUID, row_number: int, row: RowInput, *, actor: str) -> Saved:
        """Replaces a row by its correction, validated again with its clashes."""
        batch = self._batch_in_review(batch_id)
        batch.check_row(row_number, field="rowNumber")
        registered = self.roster.people()
        checked = check_columns(row)
        keys = (checked.email_key(), checked.username_key())
        outcome = work_out(
            self.table,
            batch_id,
            batch.recorded_counts(),
            [row_number],
            lambda review: review.update(row_number, row, registered),
            new_keys=[keys],
        )
        kept = checked.kept(row)
        batch.correct_row(row_number, kept, outcome.changes, outcome.counts, actor, keys)
        return Saved.of(batch.id, self.roster.save(batch))

    def revise_file(
        self, batch_id: UUID, stream: IO[bytes], limits: Limits, *, filename: str, actor: str
    ) -> Saved:
        """`revise` with the lines of a corrected file: InvalidFileError for a file that
        startImport would refuse, having changed nothing."""
        self._batch_in_review(batch_id)  # before reading a file that would be refused
        lines = read_revision(stream, max_bytes=limits.max_bytes, max_rows=limits.max_rows)
        return self.revise(batch_id, lines, filename=filename, actor=actor)

    @retried_on_conflict
    def revise(
        self, batch_id: UUID, lines: Sequence[RevisedLine], *, filename: str, actor: str
    ) -> Saved:
        """Takes a corrected file into the review: each numbered line replaces its row,
        the others are added after the last row; they and every row sharing a key with
        them are validated again, as a correction is."""
        batch = self._batch_in_review(batch_id)
        revision = Revision.of(lines, batch.total_rows)
        held = revision.registered(self.roster.people())
        outcome = work_out(
            self.table,
            batch_id,
            batch.recorded_counts(),
            revision.replaced,
            lambda review: revision.take_in(review, held),
            new_keys=revision.keys(),
        )
        batch.revise_rows(
            revision.replaced,
            revision.added,
            outcome.changes,
            outcome.counts,
            actor,
            filename=filename,
        )
        return Saved.of(batch.id, self.roster.save(batch))

    def exclude_rows(self, batch_id: UUID, row_numbers: Sequence[int], *, actor: str) -> Saved:
        """Takes rows out of the import: they are never registered and clash with none."""
        return self._set_excluded(batch_id, row_numbers, actor=actor, excluded=True)

    def include_rows(self, batch_id: UUID, row_numbers: Sequence[int], *, actor: str) -> Saved:
        """Brings excluded rows back, validated again with their clashes."""
        return self._set_excluded(batch_id, row_numbers, actor=actor, excluded=False)

    @retried_on_conflict
    def _set_excluded(
        self, batch_id: UUID, row_numbers: Sequence[int], *, actor: str, excluded: bool
    ) -> Saved:
        batch = self._batch_in_review(batch_id)
        batch.check_rows(row_numbers, field="rowNumbers")
        outcome = work_out(
            self.table,
            batch_id,
            batch.recorded_counts(),
            row_numbers,
            lambda review: (review.exclude if excluded else review.include)(row_numbers),
        )
        record = batch.exclude_rows if excluded else batch.include_rows
        record(row_numbers, outcome.changes, outcome.counts, actor)
        return Saved.of(batch.id, self.roster.save(batch))

    @retried_on_conflict
    def choose_row_action(
        self,
        batch_id: UUID,
        row_numbers: Sequence[int] | None,
        action: ExistingUserAction,
        *,
        actor: str,
    ) -> Saved:
        """What the commit does with EXISTING rows (every one when `row_numbers` is None),
        checked against each row's user's status as reviewed."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.require_review("actions can only be chosen")
        if row_numbers is not None:
            batch.check_rows(row_numbers, field="rowNumbers")
        self.table.catch_up()
        rows = (
            self.table.rows_of_status(batch_id, RowStatus.EXISTING)
            if row_numbers is None
            else self.table.rows_numbered(batch_id, set(row_numbers))
        )
        statuses = {
            row.number: row.existing.status
            if row.status is RowStatus.EXISTING and row.existing is not None
            else None
            for row in sorted(rows, key=lambda row: row.number)
        }
        batch.choose_row_action(action, statuses, actor=actor, every=row_numbers is None)
        return Saved.of(batch.id, self.roster.save(batch))

    # ------------------------------------------------------------------ commit

    @retried_on_conflict
    def commit(self, batch_id: UUID, *, exclude_invalid: bool, actor: str) -> Saved:
        """Starts registering the batch's VALID rows; a second commit changes nothing. For
        MIRROR_USER, the mirrored user's groups and permissions are taken now."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        mirrored = None
        if batch.access is AccessMode.MIRROR_USER and batch.status is ImportStatus.IN_REVIEW:
            assert batch.mirror_user_id is not None
            user = self.roster.get_aggregate(User, batch.mirror_user_id, "user")
            mirrored = (list(user.group_ids), list(user.permissions))
        batch.start_commit(exclude_invalid=exclude_invalid, actor=actor, mirrored=mirrored)
        return Saved.of(batch.id, self.roster.save(batch))

    @retried_on_conflict
    def choose_access(
        self,
        batch_id: UUID,
        mode: AccessMode,
        *,
        actor: str,
        group_ids: Sequence[UUID] = (),
        mirror_user_id: UUID | None = None,
        rows: Mapping[int, RowAccess] | None = None,
    ) -> Saved:
        """Step 4: how the new users receive permissions; groups and users must exist."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.choose_access(
            mode,
            actor=actor,
            group_ids=self.roster.existing_groups(group_ids, field="access.groupIds"),
            mirror_user_id=self._existing_user(mirror_user_id),
            rows=self._checked_rows(rows),
        )
        return Saved.of(batch.id, self.roster.save(batch))

    @retried_on_conflict
    def cancel(self, batch_id: UUID, *, actor: str) -> Saved:
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.cancel(actor)
        return Saved.of(batch.id, self.roster.save(batch))

    def _batch_in_review(self, batch_id: UUID) -> ImportBatch:
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.require_review("rows can only be changed")
        self.table.catch_up()
        return batch

    def _existing_user(self, user_id: UUID | None) -> UUID | None:
        if user_id is not None:
            try:
                self.roster.get_aggregate(User, user_id, "user")
            except NotFoundError:
                raise InvalidInputError(
                    f"No user has the id {user_id}; pick an existing user to mirror.",
                    field="access.mirrorUserId",
                    code="UNKNOWN_USER",
                ) from None
        return user_id

    def _checked_rows(self, rows: Mapping[int, RowAccess] | None) -> dict[int, RowAccess] | None:
        if rows is None:
            return None
        return {
            number: RowAccess(
                group_ids=self.roster.existing_groups(
                    row.group_ids, field=f"access.rows[{index}].groupIds"
                ),
                permissions=values.parse_permissions(
                    row.permissions, field=f"access.rows[{index}].permissions"
                ),
            )
            for index, (number, row) in enumerate(rows.items())
        }
