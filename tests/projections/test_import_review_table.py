"""The import review tables, fed by a batch's events through the real store and follower."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from bootstrap import Services, build_services
from domain.imports.batch import AccessMode, ImportBatch
from domain.imports.existing import ExistingUserAction
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
