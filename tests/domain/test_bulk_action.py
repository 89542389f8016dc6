"""Bulk actions: the aggregate's story, and running one over a real event store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import Roster
from domain.bulk.action import TARGET_CHUNK, BulkAction, BulkActionKind, BulkActionStatus
from domain.bulk.process import BulkRunner
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User
from tests.domain.test_application import ADMIN, ann, open_roster, register, user


class NoReadModel:
    """The runner's read model, for tests that read only the event store."""

    def take_in(self, recordings: Sequence[Any]) -> int:
        return 0


@pytest.fixture
def app(store_url: str) -> Iterator[Roster]:
    roster = open_roster(store_url)
    yield roster
    roster.close()


def started(user_ids: Sequence[UUID], kind: BulkActionKind = BulkActionKind.DEACTIVATE) -> Any:
    return BulkAction.start(kind, user_ids, actor=ADMIN, reason="cleanup")


def users(app: Roster, count: int) -> list[UUID]:
    return [register(app, ann(f"user.{n}@acme.com")).id for n in range(count)]


def changes(app: Roster, user_id: UUID) -> list[User.StatusChanged]:
    return [e for e in app.events.get(user_id) if isinstance(e, User.StatusChanged)]


# ---------------------------------------------------------------- the aggregate


def test_the_users_are_recorded_in_chunks_each_once_in_order() -> None:
    ids = [uuid4() for _ in range(TARGET_CHUNK + 5)]
    bulk = started([*ids, ids[0]])
    chosen = [e for e in bulk.collect_events() if isinstance(e, BulkAction.TargetsChosen)]
    assert [len(e.user_ids) for e in chosen] == [TARGET_CHUNK, 5]
    assert (bulk.targets, bulk.total, bulk.status) == (ids, len(ids), BulkActionStatus.RUNNING)


def test_an_action_on_nobody_is_completed_at_once() -> None:
    assert started([]).status is BulkActionStatus.COMPLETED


def test_ranges_follow_the_cursor_and_add_up() -> None:
    ids = [uuid4() for _ in range(3)]
    bulk = started(ids)
    assert bulk.next_range(2) == ids[:2]
    bulk.record_range(2, changed=1, skipped=1, kept=[])
    with pytest.raises(ValueError, match="do not follow"):
        bulk.record_range(2, changed=2, skipped=0, kept=[])
    with pytest.raises(ValueError, match="not been processed"):
        bulk.complete()
    bulk.record_range(1, changed=0, skipped=0, kept=[ids[2]])
    bulk.complete()
    assert (bulk.changed, bulk.skipped, bulk.kept, bulk.status) == (
        1,
        1,
        1,
        BulkActionStatus.COMPLETED,
    )


# ---------------------------------------------------------------- running it


def test_deactivating_changes_those_it_may_and_skips_the_others(app: Roster) -> None:
    pending, deactivated = users(app, 2)
    app.deactivate_user(deactivated, actor=ADMIN, reason=None)
    bulk = started([pending, deactivated, uuid4()])
    app.save(bulk)
    BulkRunner(app, NoReadModel()).run(bulk.id, size=2)
    done = app.get_aggregate(BulkAction, bulk.id, "bulk action")
    assert (done.status, done.changed, done.skipped) == (BulkActionStatus.COMPLETED, 1, 2)
    change = changes(app, pending)[-1]
    assert (change.status, change.source, change.reason) == (
        UserStatus.DEACTIVATED,
        StatusChangeSource.ADMINISTRATOR,
        "cleanup",
    )
    assert len(changes(app, deactivated)) == 1  # left as it was


def test_resending_gives_each_user_a_new_invitation(app: Roster) -> None:
    (pending,) = users(app, 1)
    before = user(app, pending).invitation
    bulk = started([pending], BulkActionKind.RESEND_INVITATION)
    app.save(bulk)
    BulkRunner(app, NoReadModel()).run(bulk.id)
    after = user(app, pending).invitation
    assert before is not None
    assert after is not None
    assert after.id != before.id


def test_a_run_stopped_between_ranges_resumes_at_the_cursor(app: Roster) -> None:
    ids = users(app, 5)
    bulk = started(ids)
    app.save(bulk)
    ranges = iter([True, False])
    BulkRunner(app, NoReadModel()).run(bulk.id, size=2, go_on=lambda: next(ranges))
    assert app.get_aggregate(BulkAction, bulk.id, "bulk action").cursor == 2
    BulkRunner(open_roster_like(app), NoReadModel()).run(bulk.id, size=2)
    assert [len(changes(app, user_id)) for user_id in ids] == [1] * 5


class Interfering(Roster):
    """Deactivates the first user of the first range read, through another writer, between
    the runner's read and its write."""

    name = "Roster"  # the same tables on PostgreSQL, whose names follow the application's
    other: Roster

    def users_of(self, user_ids: Iterable[UUID]) -> dict[UUID, User]:
        found = super().users_of(user_ids)
        if not getattr(self, "done", False):
            self.done = True
            first = next(iter(found))
            self.other.deactivate_user(first, actor="someone else", reason="first")
        return found


def test_a_user_changed_meanwhile_is_taken_as_they_are_now(app: Roster) -> None:
    ids = users(app, 3)
    interfering = Interfering(app.env, tokens=app.tokens, invitation_ttl=app.invitation_ttl)
    interfering.other = app
    bulk = started(ids)
    interfering.save(bulk)
    BulkRunner(interfering, NoReadModel()).run(bulk.id)
    done = app.get_aggregate(BulkAction, bulk.id, "bulk action")
    assert (done.changed, done.skipped) == (2, 1)
    assert [len(changes(app, user_id)) for user_id in ids] == [1, 1, 1]
    assert changes(app, ids[0])[0].actor == "someone else"
    interfering.close()


def open_roster_like(app: Roster) -> Roster:
    """Another application on the same store, as the next worker would be."""
    return Roster(app.env, tokens=app.tokens, invitation_ttl=app.invitation_ttl)
