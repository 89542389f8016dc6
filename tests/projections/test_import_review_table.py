"""The import review tables, fed by a batch's events through the real store and follower."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from bootstrap import Services, build_services
from domain.imports.batch import AccessMode, ImportBatch
from domain.imports.existing import ExistingUserAction
from domain.imports.phases import PhaseClock
from domain.imports.registered import ExistingUser
from domain.imports.review import ReviewCounts, RowError, RowInput, RowResult, RowStatus
from domain.statuses import UserStatus
from projections import import_queries
from settings import Settings

ADMIN = "admin-1"
VALID = RowResult(RowStatus.VALID, (), None)
INVALID = RowResult(RowStatus.INVALID, (RowError("email", "INVALID_EMAIL", "Fix it."),), None)
EXCLUDED = RowResult(RowStatus.EXCLUDED, (), None)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def saved(services: Services, batch: ImportBatch) -> None:
    services.roster.save(batch)
    services.read_model.catch_up()


def reviewed(services: Services) -> ImportBatch:
    batch = ImportBatch(filename="people.csv", created_by=ADMIN)
    rows = [RowInput("Ann", "Lee", f"ann{n}@acme.com", None) for n in (1, 2, 3)]
    batch.record_rows(1, rows, [VALID, INVALID, VALID])
    batch.finish_review(ReviewCounts(valid=2, invalid=1, excluded=0))
    saved(services, batch)
    return batch


def statuses(services: Services, batch: ImportBatch) -> list[str]:
    with services.database.reading() as cursor:
        page = import_queries.rows(cursor, str(batch.id), (), 10, None)
    return [row.status for _, row in page.items]


def test_a_reviewed_batch_shows_its_rows_and_counts(services: Services) -> None:
    batch = reviewed(services)

    with services.database.reading() as cursor:
        shown = import_queries.batch(cursor, str(batch.id))
    assert shown is not None
    assert (shown.status, shown.filename, shown.created_by) == ("IN_REVIEW", "people.csv", ADMIN)
    assert shown.counts["total"] == 3
    assert (shown.counts["valid"], shown.counts["invalid"]) == (2, 1)
    assert statuses(services, batch) == ["VALID", "INVALID", "VALID"]


def test_rows_page_by_status_in_file_order(services: Services) -> None:
    batch = reviewed(services)

    with services.database.reading() as cursor:
        first = import_queries.rows(cursor, str(batch.id), ("VALID",), 1, None)
        second = import_queries.rows(cursor, str(batch.id), ("VALID",), 1, first.end_cursor)
        total = import_queries.count_rows(cursor, str(batch.id), ("VALID",))
    assert [row.row_number for _, row in first.items + second.items] == [1, 3]
    assert (first.has_next_page, second.has_next_page, total) == (True, False, 2)


def test_an_excluded_row_is_shown_excluded(services: Services) -> None:
    batch = reviewed(services)
    batch.exclude_rows([2], {2: EXCLUDED}, ReviewCounts(valid=2, invalid=0, excluded=1), ADMIN)
    saved(services, batch)

    assert statuses(services, batch) == ["VALID", "EXCLUDED", "VALID"]


def test_a_commit_shows_created_rows_with_their_users(services: Services) -> None:
    batch = reviewed(services)
    batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN, group_ids=[UUID(int=7)])
    batch.start_commit(exclude_invalid=True, actor=ADMIN)
    users = {n: ImportBatch.user_id_for(batch.id, n) for n in (1, 3)}
    batch.register_rows(1, 3, users, {})
    batch.complete()
    saved(services, batch)

    with services.database.reading() as cursor:
        shown = import_queries.batch(cursor, str(batch.id))
        page = import_queries.rows(cursor, str(batch.id), ("CREATED",), 10, None)
    assert shown is not None
    assert shown.status == "COMPLETED"
    assert (shown.counts["created"], shown.counts["excluded"]) == (2, 1)
    assert shown.access is not None
    assert shown.access["mode"] == "ASSIGN_GROUPS"
    assert {row.row_number: row.user_id for _, row in page.items} == {
        n: str(user) for n, user in users.items()
    }


def test_batches_are_listed_newest_first(services: Services) -> None:
    older, newer = reviewed(services), reviewed(services)

    with services.database.reading() as cursor:
        page = import_queries.batches(cursor, 1, None)
        rest = import_queries.batches(cursor, 5, page.end_cursor)
    assert [b.id for _, b in page.items + rest.items] == [str(newer.id), str(older.id)]


def test_a_rebuild_gives_the_same_review_tables(services: Services) -> None:
    batch = reviewed(services)
    with services.database.reading() as cursor:
        before = import_queries.rows(cursor, str(batch.id), (), 10, None).items

    services.read_model.rebuild()

    with services.database.reading() as cursor:
        assert import_queries.rows(cursor, str(batch.id), (), 10, None).items == before


def revised(services: Services) -> ImportBatch:
    """A reviewed batch whose row 2 was replaced and two rows added by a revision."""
    batch = reviewed(services)
    batch.revise_rows(
        {2: (RowInput("Bo", "Ng", "bo@acme.com", "bo"), ("bo@acme.com", "bo"))},
        [
            (RowInput("Cy", "Ng", "cy@acme.com", None), ("cy@acme.com", None)),
            (RowInput("Dee", "Ho", "dee-at", None), (None, None)),
        ],
        {2: VALID, 4: VALID, 5: INVALID},
        ReviewCounts(valid=4, invalid=1, excluded=0),
        ADMIN,
        filename="fixed.csv",
    )
    saved(services, batch)
    return batch


def test_a_revision_shows_its_rows_and_the_rows_it_added(services: Services) -> None:
    batch = revised(services)

    with services.database.reading() as cursor:
        shown = import_queries.batch(cursor, str(batch.id))
        rows = [row for _, row in import_queries.rows(cursor, str(batch.id), (), 10, None).items]
    assert shown is not None
    assert {name: shown.counts[name] for name in ("total", "validated", "valid", "invalid")} == {
        "total": 5,
        "validated": 5,
        "valid": 4,
        "invalid": 1,
    }
    assert [(row.row_number, row.first_name, row.status) for row in rows] == [
        (1, "Ann", "VALID"),
        (2, "Bo", "VALID"),
        (3, "Ann", "VALID"),
        (4, "Cy", "VALID"),
        (5, "Dee", "INVALID"),
    ]
    assert services.imports.table.rows_holding(batch.id, {"bo@acme.com"}, {"bo"})[0].number == 2


def test_a_rebuild_gives_the_same_tables_after_a_revision(services: Services) -> None:
    batch = revised(services)
    with services.database.reading() as cursor:
        before = import_queries.rows(cursor, str(batch.id), (), 10, None).items
        counts = import_queries.batch(cursor, str(batch.id))

    services.read_model.rebuild()

    with services.database.reading() as cursor:
        assert import_queries.rows(cursor, str(batch.id), (), 10, None).items == before
        assert import_queries.batch(cursor, str(batch.id)) == counts


def test_the_first_rows_recorded_start_the_recording_clock(services: Services) -> None:
    batch = ImportBatch(filename="people.csv", created_by=ADMIN, rows=4)
    rows = [RowInput("Ann", "Lee", f"ann{n}@acme.com", None) for n in range(1, 5)]
    batch.record_rows(1, rows[:2], [VALID, VALID])
    first = batch.pending_events[-1].timestamp
    saved(services, batch)
    batch.record_rows(3, rows[2:], [VALID, VALID])
    latest = batch.pending_events[-1].timestamp
    saved(services, batch)

    assert shown(services, batch).clock == PhaseClock(first, 2, latest)


def test_a_commit_starts_the_registering_clock(services: Services) -> None:
    batch = reviewed(services)
    batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN, group_ids=[])
    batch.start_commit(exclude_invalid=True, actor=ADMIN)
    started = batch.pending_events[-1].timestamp
    batch.register_rows(1, 1, {1: ImportBatch.user_id_for(batch.id, 1)}, {})
    latest = batch.pending_events[-1].timestamp
    saved(services, batch)

    assert shown(services, batch).clock == PhaseClock(started, 0, latest)


def shown(services: Services, batch: ImportBatch) -> import_queries.BatchRow:
    with services.database.reading() as cursor:
        found = import_queries.batch(cursor, str(batch.id))
    assert found is not None
    return found


def test_existing_rows_keep_their_user_and_action_through_the_commit_and_a_rebuild(
    services: Services,
) -> None:
    person = ExistingUser(UUID(int=5), UserStatus.EXPIRED)
    existing = RowResult(RowStatus.EXISTING, (), None, person)
    batch = ImportBatch(filename="people.csv", created_by=ADMIN)
    rows = [RowInput("Ann", "Lee", f"ann{n}@acme.com", None) for n in (1, 2, 3)]
    batch.record_rows(1, rows, [existing, VALID, existing])
    batch.finish_review(batch.recorded_counts())
    batch.choose_row_action(ExistingUserAction.UPDATE_ACCESS, {}, actor=ADMIN, every=True)
    batch.choose_row_action(ExistingUserAction.SKIP, {3: UserStatus.EXPIRED}, actor=ADMIN)
    batch.choose_access(AccessMode.CUSTOMIZE, actor=ADMIN, rows={})
    batch.start_commit(exclude_invalid=False, actor=ADMIN)
    batch.register_rows(1, 3, {2: ImportBatch.user_id_for(batch.id, 2)}, {}, [1], [3])
    saved(services, batch)

    with services.database.reading() as cursor:
        before = import_queries.rows(cursor, str(batch.id), (), 10, None).items
        shown = import_queries.batch(cursor, str(batch.id))
    services.read_model.rebuild()
    with services.database.reading() as cursor:
        after = import_queries.rows(cursor, str(batch.id), (), 10, None).items

    shown_rows = [
        (r.status, r.existing_user_id, r.existing_user_status, r.action) for _, r in before
    ]
    assert shown_rows == [
        ("UPDATED", str(person.user_id), "EXPIRED", "UPDATE_ACCESS"),
        ("CREATED", None, None, None),
        ("SKIPPED", str(person.user_id), "EXPIRED", "SKIP"),
    ]
    assert shown is not None
    assert [shown.counts[n] for n in ("existing", "updated", "skipped", "processed")] == [
        2,
        1,
        1,
        3,
    ]
    assert after == before
