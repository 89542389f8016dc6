"""The ImportBatch aggregate, without any database: its states, counts and events."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex

from domain.errors import InvalidInputError, InvalidStateError
from domain.imports.batch import AccessMode, ImportBatch, ImportStatus, RowAccess
from domain.imports.review import CHUNK_ROWS, ReviewCounts, RowError, RowInput, RowResult, RowStatus

S = ImportStatus
ADMIN = "admin-1"
GROUP = UUID(int=7)
MIB = 1024 * 1024
TAKEN = RowError("email", "EMAIL_TAKEN", "The access email is already registered.")
VALID = RowResult(RowStatus.VALID, (), None)
INVALID = RowResult(RowStatus.INVALID, (RowError("email", "INVALID_EMAIL", "Fix it."),), None)
EXCLUDED = RowResult(RowStatus.EXCLUDED, (), None)


def row(number: int) -> RowInput:
    return RowInput("Ann", "Lee", f"ann{number}@acme.com", None)


def started() -> ImportBatch:
    return ImportBatch(filename="users.csv", created_by=ADMIN)


def read(batch: ImportBatch, *results: RowResult) -> None:
    first = batch.total_rows + 1
    batch.record_rows(first, [row(first + i) for i in range(len(results))], list(results))


def in_review(valid: int = 3, invalid: int = 0, *, access: bool = True) -> ImportBatch:
    batch = started()
    read(batch, *[VALID] * valid, *[INVALID] * invalid)
    batch.finish_review(ReviewCounts(valid=valid, invalid=invalid, excluded=0))
    if access:
        batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN, group_ids=[GROUP])
    return batch


def committing() -> ImportBatch:
    batch = in_review()
    batch.start_commit(exclude_invalid=False, actor=ADMIN)
    return batch


def created(batch: ImportBatch, *numbers: int) -> dict[int, UUID]:
    return {number: ImportBatch.user_id_for(batch.id, number) for number in numbers}


def completed() -> ImportBatch:
    batch = committing()
    batch.register_rows(1, 3, created(batch, 1, 2, 3), {})
    batch.complete()
    return batch


def cancelled() -> ImportBatch:
    batch = in_review()
    batch.cancel(ADMIN)
    return batch


def reverting() -> ImportBatch:
    batch = completed()
    batch.start_revert(REVERT_ACTION, actor=ADMIN, reason="wrong file")
    return batch


def reverted() -> ImportBatch:
    batch = reverting()
    batch.finish_revert()
    return batch


REVERT_ACTION = UUID(int=7)
IN_STATE: dict[ImportStatus, Callable[[], ImportBatch]] = {
    S.VALIDATING: started,
    S.IN_REVIEW: in_review,
    S.COMMITTING: committing,
    S.COMPLETED: completed,
    S.CANCELLED: cancelled,
    S.REVERTING: reverting,
    S.REVERTED: reverted,
}


def fresh(status: ImportStatus) -> ImportBatch:
    """A batch in `status` whose events so far were collected."""
    batch = IN_STATE[status]()
    assert batch.status is status
    batch.collect_events()
    return batch


def only_event(batch: ImportBatch) -> Any:
    [event] = batch.collect_events()
    return event


def refused(batch: ImportBatch, error: type[Exception], command: Callable[[], object]) -> str:
    """Runs a command that must fail; returns its message after checking nothing was recorded."""
    with pytest.raises(error) as raised:
        command()
    assert batch.collect_events() == []
    return str(raised.value)


def counts(batch: ImportBatch) -> tuple[int, ...]:
    return (batch.total_rows, batch.valid, batch.invalid, batch.excluded)


def others(status: ImportStatus) -> list[ImportStatus]:
    return [other for other in S if other is not status]


# ---------------------------------------------------------------------- reading


def test_a_new_batch_is_validating_with_no_rows() -> None:
    batch = started()
    event = only_event(batch)
    assert isinstance(event, ImportBatch.Started)
    assert (event.filename, event.created_by) == ("users.csv", ADMIN)
    assert (batch.status, counts(batch), batch.commit_cursor) == (S.VALIDATING, (0, 0, 0, 0), 0)


def test_recorded_rows_are_counted_by_their_result() -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID, INVALID, VALID)
    assert counts(batch) == (3, 2, 1, 0)


def test_rows_read_carry_the_rows_and_their_results_as_json_values() -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID, INVALID)
    event = only_event(batch)
    assert event.first_row == 1
    assert event.rows == [
        ["Ann", "Lee", "ann1@acme.com", None],
        ["Ann", "Lee", "ann2@acme.com", None],
    ]
    assert event.results == [
        {"status": "VALID", "errors": []},
        {"status": "INVALID", "errors": [["email", "INVALID_EMAIL", "Fix it."]]},
    ]


def test_a_second_chunk_continues_after_the_first() -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID, VALID)
    read(batch, INVALID)
    events: list[Any] = list(batch.collect_events())
    assert [event.first_row for event in events] == [1, 3]
    assert counts(batch) == (3, 2, 1, 0)


@pytest.mark.parametrize("first_row", [1, 2, 4])
def test_rows_that_do_not_continue_exactly_after_the_last_are_refused(first_row: int) -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID, VALID)
    batch.collect_events()
    refused(batch, ValueError, lambda: batch.record_rows(first_row, [row(first_row)], [VALID]))
    assert counts(batch) == (2, 2, 0, 0)


def test_each_row_read_needs_its_result() -> None:
    batch = fresh(S.VALIDATING)
    refused(batch, ValueError, lambda: batch.record_rows(1, [row(1), row(2)], [VALID]))


def test_a_row_just_read_cannot_be_excluded() -> None:
    batch = fresh(S.VALIDATING)
    refused(batch, ValueError, lambda: batch.record_rows(1, [row(1)], [EXCLUDED]))


@pytest.mark.parametrize("status", others(S.VALIDATING))
def test_rows_can_only_be_read_while_validating(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.record_rows(4, [row(4)], [VALID]))


# ---------------------------------------------------------------------- review


def test_finishing_the_review_puts_the_batch_in_review_with_its_counts() -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID, INVALID, INVALID)
    batch.collect_events()
    batch.finish_review(ReviewCounts(valid=1, invalid=1, excluded=1))
    event = only_event(batch)
    assert (event.total, event.valid, event.invalid, event.excluded) == (3, 1, 1, 1)
    assert (batch.status, counts(batch)) == (S.IN_REVIEW, (3, 1, 1, 1))


def test_review_counts_must_add_up_to_the_rows_read() -> None:
    batch = fresh(S.VALIDATING)
    read(batch, VALID)
    batch.collect_events()
    refused(batch, ValueError, lambda: batch.finish_review(ReviewCounts(2, 0, 0)))


@pytest.mark.parametrize("status", others(S.VALIDATING))
def test_the_review_can_only_be_finished_while_validating(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.finish_review(ReviewCounts(3, 0, 0)))


def test_a_correction_records_its_values_and_the_results_it_changed() -> None:
    batch = fresh(S.IN_REVIEW)
    fixed = RowInput("Bo", "Ng", "bo@acme.com", "bo")
    batch.correct_row(2, fixed, {2: INVALID, 3: VALID}, ReviewCounts(2, 1, 0), ADMIN)
    event = only_event(batch)
    assert isinstance(event, ImportBatch.RowCorrected)
    assert (event.row_number, event.actor) == (2, ADMIN)
    assert event.changes == {
        "2": {
            "status": "INVALID",
            "errors": [["email", "INVALID_EMAIL", "Fix it."]],
            "values": ["Bo", "Ng", "bo@acme.com", "bo"],
        },
        "3": {"status": "VALID", "errors": []},
    }
    assert counts(batch) == (3, 2, 1, 0)


def test_a_correction_that_changes_no_result_still_records_its_values() -> None:
    batch = fresh(S.IN_REVIEW)
    batch.correct_row(1, row(9), {}, ReviewCounts(3, 0, 0), ADMIN)
    assert only_event(batch).changes == {"1": {"values": ["Ann", "Lee", "ann9@acme.com", None]}}


def test_excluding_rows_records_them_with_the_new_counts() -> None:
    batch = fresh(S.IN_REVIEW)
    batch.exclude_rows([1, 2], {1: EXCLUDED, 2: EXCLUDED}, ReviewCounts(1, 0, 2), ADMIN)
    event = only_event(batch)
    assert isinstance(event, ImportBatch.RowsExcluded)
    assert (event.row_numbers, set(event.changes)) == ([1, 2], {"1", "2"})
    assert counts(batch) == (3, 1, 0, 2)


def test_including_rows_records_them_with_the_new_counts() -> None:
    batch = fresh(S.IN_REVIEW)
    batch.exclude_rows([1], {1: EXCLUDED}, ReviewCounts(2, 0, 1), ADMIN)
    batch.collect_events()
    batch.include_rows([1], {1: INVALID}, ReviewCounts(2, 1, 0), ADMIN)
    event = only_event(batch)
    assert isinstance(event, ImportBatch.RowsIncluded)
    assert counts(batch) == (3, 2, 1, 0)


KEYS = ("ann@acme.com", None)


def test_a_revision_records_values_changed_results_and_added_rows() -> None:
    batch = fresh(S.IN_REVIEW)
    fixed = RowInput("Bo", "Ng", "bo@acme.com", "bo")
    batch.revise_rows(
        {2: (fixed, ("bo@acme.com", "bo"))},
        [(row(4), ("ann4@acme.com", None))],
        {3: INVALID, 4: VALID},
        ReviewCounts(3, 1, 0),
        ADMIN,
        filename="fixed.csv",
    )
    event = only_event(batch)
    assert isinstance(event, ImportBatch.RowsRevised)
    assert (event.filename, event.actor, event.first_added) == ("fixed.csv", ADMIN, 4)
    assert event.changes == {
        "2": {"values": ["Bo", "Ng", "bo@acme.com", "bo"], "keys": ["bo@acme.com", "bo"]},
        "3": {"status": "INVALID", "errors": [["email", "INVALID_EMAIL", "Fix it."]]},
    }
    assert event.added == [
        {
            "status": "VALID",
            "errors": [],
            "values": ["Ann", "Lee", "ann4@acme.com", None],
            "keys": ["ann4@acme.com", None],
        }
    ]
    assert counts(batch) == (4, 3, 1, 0)


def test_a_large_revision_is_recorded_in_events_under_one_mib_numbered_on() -> None:
    batch = fresh(S.IN_REVIEW)
    long = "x" * 100
    wide = RowInput(long, long, long, long)
    added = [(wide, (long, long))] * 5_000
    changes = {n: INVALID for n in range(4, 5_004)}
    batch.revise_rows(
        {1: (wide, (long, long))}, added, changes, ReviewCounts(3, 5_000, 0), ADMIN, filename="f"
    )
    events: list[Any] = list(batch.collect_events())
    assert len(events) > 1
    assert all(len(transcoder().encode(vars(event))) < MIB for event in events)
    assert [event.first_added for event in events] == [
        4 + sum(len(e.added) for e in events[:i]) for i in range(len(events))
    ]
    assert sum(len(event.added) for event in events) == 5_000
    assert {(e.valid, e.invalid, e.excluded) for e in events} == {(3, 5_000, 0)}
    assert counts(batch) == (5_003, 3, 5_000, 0)


def test_a_revision_needs_a_result_for_each_added_row_and_counts_that_add_up() -> None:
    batch = fresh(S.IN_REVIEW)
    add = [(row(4), KEYS)]
    refused(
        batch,
        ValueError,
        lambda: batch.revise_rows({}, add, {}, ReviewCounts(4, 0, 0), ADMIN, filename="f"),
    )
    refused(
        batch,
        ValueError,
        lambda: batch.revise_rows({}, add, {4: VALID}, ReviewCounts(3, 0, 0), ADMIN, filename="f"),
    )


def edits(batch: ImportBatch) -> list[Callable[[], None]]:
    return [
        lambda: batch.correct_row(1, row(1), {}, ReviewCounts(3, 0, 0), ADMIN),
        lambda: batch.exclude_rows([1], {1: EXCLUDED}, ReviewCounts(2, 0, 1), ADMIN),
        lambda: batch.include_rows([1], {1: VALID}, ReviewCounts(3, 0, 0), ADMIN),
        lambda: batch.revise_rows(
            {1: (row(1), KEYS)}, [], {}, ReviewCounts(3, 0, 0), ADMIN, filename="fixed.csv"
        ),
    ]


@pytest.mark.parametrize("status", others(S.IN_REVIEW))
def test_rows_can_only_be_changed_while_in_review(status: ImportStatus) -> None:
    batch = fresh(status)
    for edit in edits(batch):
        message = refused(batch, InvalidStateError, edit)
        assert message == (
            f"This batch is {status}; rows can only be changed while it is IN_REVIEW."
        )


def test_changing_an_unknown_row_is_invalid_input() -> None:
    batch = fresh(S.IN_REVIEW)
    message = refused(
        batch,
        InvalidInputError,
        lambda: batch.exclude_rows([2, 4], {}, ReviewCounts(3, 0, 0), ADMIN),
    )
    assert message.startswith("There is no row 4 in this import")


def test_edit_counts_must_add_up_to_the_rows_read() -> None:
    batch = fresh(S.IN_REVIEW)
    refused(batch, ValueError, lambda: batch.exclude_rows([1], {}, ReviewCounts(3, 0, 1), ADMIN))


# ---------------------------------------------------------------------- access


def test_assigning_groups_records_the_groups() -> None:
    batch = in_review(access=False)
    batch.collect_events()
    batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN, group_ids=[GROUP])
    event = only_event(batch)
    assert (event.mode, event.group_ids, event.mirror_user_id, event.rows) == (
        "ASSIGN_GROUPS",
        [GROUP],
        None,
        {},
    )
    assert batch.access is AccessMode.ASSIGN_GROUPS


def test_mirroring_a_user_records_the_user() -> None:
    batch = fresh(S.IN_REVIEW)
    mirrored = uuid4()
    batch.choose_access(AccessMode.MIRROR_USER, actor=ADMIN, mirror_user_id=mirrored)
    assert only_event(batch).mirror_user_id == mirrored
    assert batch.access is AccessMode.MIRROR_USER


def test_customizing_records_the_access_of_each_row() -> None:
    batch = fresh(S.IN_REVIEW)
    rows = {2: RowAccess(group_ids=[GROUP], permissions=["reports.read"])}
    batch.choose_access(AccessMode.CUSTOMIZE, actor=ADMIN, rows=rows)
    assert only_event(batch).rows == {"2": {"group_ids": [GROUP], "permissions": ["reports.read"]}}
    assert batch.access is AccessMode.CUSTOMIZE


def test_mirroring_needs_the_user_to_mirror() -> None:
    batch = fresh(S.IN_REVIEW)
    refused(
        batch, InvalidInputError, lambda: batch.choose_access(AccessMode.MIRROR_USER, actor=ADMIN)
    )


def test_input_of_another_access_mode_is_refused() -> None:
    batch = fresh(S.IN_REVIEW)
    message = refused(
        batch,
        InvalidInputError,
        lambda: batch.choose_access(AccessMode.CUSTOMIZE, actor=ADMIN, group_ids=[GROUP], rows={}),
    )
    assert message == "groupIds is only for ASSIGN_GROUPS; leave it out for CUSTOMIZE."


def test_customizing_an_unknown_row_is_invalid_input() -> None:
    batch = fresh(S.IN_REVIEW)
    rows = {9: RowAccess()}
    refused(
        batch,
        InvalidInputError,
        lambda: batch.choose_access(AccessMode.CUSTOMIZE, actor=ADMIN, rows=rows),
    )


@pytest.mark.parametrize("status", others(S.IN_REVIEW))
def test_access_can_only_be_chosen_while_in_review(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(
        batch,
        InvalidStateError,
        lambda: batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN, group_ids=[GROUP]),
    )


# ---------------------------------------------------------------------- commit


def test_starting_the_commit_moves_the_batch_to_committing() -> None:
    batch = fresh(S.IN_REVIEW)
    assert batch.start_commit(exclude_invalid=False, actor=ADMIN) is True
    event = only_event(batch)
    assert isinstance(event, ImportBatch.CommitStarted)
    assert (event.excluded_invalid, batch.status, counts(batch)) == (
        False,
        S.COMMITTING,
        (3, 3, 0, 0),
    )


def test_the_commit_is_refused_while_a_row_is_invalid() -> None:
    batch = in_review(valid=2, invalid=1)
    batch.collect_events()
    message = refused(
        batch, InvalidStateError, lambda: batch.start_commit(exclude_invalid=False, actor=ADMIN)
    )
    assert "excludeInvalidRows" in message
    assert batch.status is S.IN_REVIEW


def test_committing_with_invalid_rows_excluded_counts_them_as_excluded() -> None:
    batch = in_review(valid=2, invalid=1)
    batch.collect_events()
    batch.start_commit(exclude_invalid=True, actor=ADMIN)
    assert only_event(batch).excluded_invalid is True
    assert counts(batch) == (3, 2, 0, 1)


def test_the_commit_is_refused_until_access_is_chosen() -> None:
    batch = in_review(access=False)
    batch.collect_events()
    message = refused(
        batch, InvalidStateError, lambda: batch.start_commit(exclude_invalid=True, actor=ADMIN)
    )
    assert message == "Choose how the new users receive access before committing."


@pytest.mark.parametrize("status", [S.VALIDATING, S.CANCELLED])
def test_the_commit_is_refused_before_review_and_after_cancelling(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.start_commit(exclude_invalid=True, actor=ADMIN))


@pytest.mark.parametrize("status", [S.COMMITTING, S.COMPLETED])
def test_starting_the_commit_again_records_nothing(status: ImportStatus) -> None:
    batch = fresh(status)
    assert batch.start_commit(exclude_invalid=True, actor=ADMIN) is False
    assert batch.collect_events() == []
    assert batch.status is status


def test_registered_rows_move_the_commit_cursor_and_the_counts() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 2, created(batch, 1), {2: [TAKEN]})
    event = only_event(batch)
    assert (event.first_row, event.last_row) == (1, 2)
    assert event.created == {"1": ImportBatch.user_id_for(batch.id, 1)}
    assert event.failed == {"2": [["email", "EMAIL_TAKEN", TAKEN.message]]}
    assert (batch.commit_cursor, batch.created, batch.failed, batch.processed) == (2, 1, 1, 2)


def test_the_next_range_resumes_after_the_commit_cursor() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 2, created(batch, 1, 2), {})
    batch.register_rows(3, 3, created(batch, 3), {})
    assert (batch.commit_cursor, batch.created, batch.processed) == (3, 3, 3)


def test_recording_the_same_range_again_after_a_crash_is_refused() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 2, created(batch, 1, 2), {})
    batch.collect_events()
    refused(batch, ValueError, lambda: batch.register_rows(1, 2, created(batch, 1, 2), {}))
    assert (batch.commit_cursor, batch.created) == (2, 2)


@pytest.mark.parametrize(("first", "last"), [(2, 3), (1, 4), (2, 1)])
def test_a_range_must_start_at_the_cursor_and_end_within_the_rows(first: int, last: int) -> None:
    batch = fresh(S.COMMITTING)
    refused(batch, ValueError, lambda: batch.register_rows(first, last, {}, {}))


def test_a_row_outside_the_range_is_refused() -> None:
    batch = fresh(S.COMMITTING)
    refused(batch, ValueError, lambda: batch.register_rows(1, 1, created(batch, 2), {}))


def test_a_row_both_created_and_failed_is_refused() -> None:
    batch = fresh(S.COMMITTING)
    refused(batch, ValueError, lambda: batch.register_rows(1, 1, created(batch, 1), {1: [TAKEN]}))


def test_a_created_row_must_register_the_user_derived_from_it() -> None:
    batch = fresh(S.COMMITTING)
    refused(batch, ValueError, lambda: batch.register_rows(1, 1, {1: uuid4()}, {}))


@pytest.mark.parametrize("status", others(S.COMMITTING))
def test_rows_can_only_be_registered_while_committing(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.register_rows(1, 1, created(batch, 1), {}))


def test_the_batch_completes_once_every_row_was_processed() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 3, created(batch, 1, 3), {})  # row 2 was excluded
    batch.collect_events()
    batch.complete()
    assert isinstance(only_event(batch), ImportBatch.Completed)
    assert (batch.status, batch.created, batch.processed) == (S.COMPLETED, 2, 2)


def test_completing_before_every_row_was_processed_is_refused() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 2, created(batch, 1, 2), {})
    batch.collect_events()
    refused(batch, ValueError, batch.complete)


@pytest.mark.parametrize("status", others(S.COMMITTING))
def test_only_a_committing_batch_completes(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, batch.complete)


# ---------------------------------------------------------------------- cancelling


@pytest.mark.parametrize("status", [S.VALIDATING, S.IN_REVIEW, S.COMMITTING])
def test_a_batch_is_cancelled_from_each_unfinished_state(status: ImportStatus) -> None:
    batch = fresh(status)
    batch.cancel(ADMIN)
    event = only_event(batch)
    assert (event.previous_status, event.actor, batch.status) == (status, ADMIN, S.CANCELLED)


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_a_finished_batch_cannot_be_cancelled(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.cancel(ADMIN))


def test_a_cancelled_commit_keeps_its_users_and_registers_no_more_rows() -> None:
    batch = fresh(S.COMMITTING)
    batch.register_rows(1, 1, created(batch, 1), {})
    batch.cancel(ADMIN)
    batch.collect_events()
    # The range that was being registered when the cancel came is recorded; no other.
    batch.register_rows(2, 2, created(batch, 2), {})
    batch.collect_events()
    refused(batch, InvalidStateError, lambda: batch.register_rows(3, 3, created(batch, 3), {}))
    assert (batch.status, batch.created, batch.commit_cursor) == (S.CANCELLED, 2, 2)


def test_a_batch_cancelled_in_review_records_no_rows() -> None:
    batch = fresh(S.IN_REVIEW)
    batch.cancel(ADMIN)
    batch.collect_events()
    refused(batch, InvalidStateError, lambda: batch.register_rows(1, 1, created(batch, 1), {}))


# ---------------------------------------------------------------------- ids and events


def test_a_rows_user_id_is_the_same_every_time() -> None:
    batch_id = uuid4()
    assert ImportBatch.user_id_for(batch_id, 5) == ImportBatch.user_id_for(batch_id, 5)


def test_each_row_of_a_batch_has_its_own_user_id() -> None:
    batch_id = uuid4()
    assert len({ImportBatch.user_id_for(batch_id, number) for number in range(1, 1001)}) == 1000


def test_the_same_row_of_two_batches_has_two_user_ids() -> None:
    assert ImportBatch.user_id_for(uuid4(), 1) != ImportBatch.user_id_for(uuid4(), 1)


def transcoder() -> JSONTranscoder:
    json_transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO()):
        json_transcoder.register(transcoding)
    return json_transcoder


def test_a_chunk_of_the_largest_rows_read_stays_under_one_mib() -> None:
    batch = fresh(S.VALIDATING)
    long = "x" * 100
    rows = [RowInput(long, long, long, long)] * CHUNK_ROWS
    batch.record_rows(1, rows, [VALID] * CHUNK_ROWS)
    assert len(transcoder().encode(vars(only_event(batch)))) < MIB


def history() -> list[Any]:
    batch = in_review(valid=2, invalid=1)
    batch.exclude_rows([3], {3: EXCLUDED}, ReviewCounts(2, 0, 1), ADMIN)
    batch.start_commit(exclude_invalid=False, actor=ADMIN)
    batch.register_rows(1, 3, created(batch, 1), {2: [TAKEN]})
    batch.complete()
    return list(batch.collect_events())


def test_every_event_holds_json_values_only() -> None:
    for event in history():
        state = vars(event)
        assert transcoder().decode(transcoder().encode(state)) == state
        json.dumps(state, default=str)


def test_replaying_the_events_rebuilds_the_same_batch() -> None:
    batch = in_review(valid=2, invalid=1)
    batch.start_commit(exclude_invalid=True, actor=ADMIN)
    batch.register_rows(1, 2, created(batch, 1), {2: [TAKEN]})
    events = batch.collect_events()
    replayed = functools.reduce(lambda aggregate, e: e.mutate(aggregate), events, None)
    assert isinstance(replayed, ImportBatch)
    assert vars(replayed) == vars(batch)


# ---------------------------------------------------------------- revert


def test_a_completed_batch_is_reverting_once_its_revert_starts() -> None:
    batch = fresh(S.COMPLETED)
    assert batch.start_revert(REVERT_ACTION, actor=ADMIN, reason="wrong file")
    event = only_event(batch)
    assert isinstance(event, ImportBatch.RevertStarted)
    assert (event.action_id, event.actor, event.reason) == (REVERT_ACTION, ADMIN, "wrong file")
    assert (batch.status, batch.revert_action_id) == (S.REVERTING, REVERT_ACTION)


@pytest.mark.parametrize("status", [S.REVERTING, S.REVERTED])
def test_starting_a_revert_again_records_nothing(status: ImportStatus) -> None:
    batch = fresh(status)
    assert not batch.start_revert(UUID(int=8), actor=ADMIN, reason="again")
    assert (batch.collect_events(), batch.revert_action_id) == ([], REVERT_ACTION)


@pytest.mark.parametrize("status", [S.VALIDATING, S.IN_REVIEW, S.COMMITTING, S.CANCELLED])
def test_only_a_completed_batch_can_be_reverted(status: ImportStatus) -> None:
    batch = fresh(status)
    message = refused(
        batch, InvalidStateError, lambda: batch.start_revert(REVERT_ACTION, actor=ADMIN, reason="x")
    )
    assert "COMPLETED" in message


def test_a_revert_finished_makes_the_batch_reverted() -> None:
    batch = fresh(S.REVERTING)
    batch.finish_revert()
    assert isinstance(only_event(batch), ImportBatch.Reverted)
    assert batch.status is S.REVERTED


@pytest.mark.parametrize("status", [S.REVERTING, S.REVERTED])
def test_a_batch_being_reverted_cannot_be_cancelled(status: ImportStatus) -> None:
    batch = fresh(status)
    refused(batch, InvalidStateError, lambda: batch.cancel(ADMIN))
