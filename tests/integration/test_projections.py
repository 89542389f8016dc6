"""The read models against the events they are built from, on the test store.

A rebuild must reproduce what was kept live; followers racing on one store must apply
each event once; a view that fails must leave no trace of its batch; and the status
history must say exactly what replaying the user's events says.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser, Roster
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User
from projections import users as user_list
from projections.database import Cursor
from projections.follower import Follower
from projections.history_queries import history_of
from settings import Settings
from tests.integration.harness import all_at_once, read_model_rows, roster

ACTOR = "admin-1"


@dataclass
class Recorded:
    """What `record_history` did, as the read model should count it."""

    users: int = 0
    status_changes: int = 0
    members: dict[str, set[str]] = field(default_factory=dict)


def record_history(app: Roster, users: int = 24) -> Recorded:
    """Groups, registrations into them, access changes, invitations that could not be
    mailed, deactivations, reactivations (with a new invitation)."""
    sales = app.create_group("Sales", ["crm:read"], actor=ACTOR).id
    ops = app.create_group("Ops", [], actor=ACTOR).id
    app.set_group_permissions(ops, ["deploy"], actor=ACTOR)
    recorded = Recorded(users=users, members={str(sales): set(), str(ops): set()})
    for i in range(users):
        groups = [sales] if i % 2 == 0 else []
        new = NewUser("Ann", f"Lee {i}", f"ann{i}@acme.com", group_ids=groups)
        user_id = app.register_user(new, actor=ACTOR).id
        if i % 4 == 0:
            invitation = app.get_aggregate(User, user_id, "user").invitation
            assert invitation is not None
            app.record_invitation_undeliverable(user_id, invitation.id, "550 no such user")
        if i % 3 == 0:
            groups = [ops]
            app.set_user_access(user_id, group_ids=groups, permissions=["crm:write"], actor=ACTOR)
        if i % 4 == 0:
            app.deactivate_user(user_id, actor=ACTOR, reason="left")
        if i % 8 == 0:
            app.reactivate_user(user_id, actor=ACTOR, reason=None)
        recorded.status_changes += 1 + (i % 4 == 0) + (i % 8 == 0)
        for group_id in groups:
            recorded.members[str(group_id)].add(str(user_id))
    return recorded


def last_position(services: Services) -> int:
    return services.roster.recorder.max_notification_id() or 0


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def other_services(settings: Settings) -> Iterator[Services]:
    """A second set of services on the same store, as another process would have."""
    built = build_services(settings)
    yield built
    built.close()


# ---------------------------------------------------------------- rebuild


def test_a_rebuilt_read_model_equals_the_one_kept_live(services: Services) -> None:
    record_history(services.roster)
    services.read_model.catch_up()
    live = read_model_rows(services.database)

    services.read_model.rebuild()

    assert read_model_rows(services.database) == live
    assert len(live["users"]) == 24
    # Users 4, 12, 20 kept their failed invitation; 0, 8, 16 were given a new one.
    assert sum(1 for user in live["users"] if user["invitation_delivery_error"]) == 3


def test_the_cli_rebuild_restores_a_damaged_read_model(
    services: Services, env: dict[str, str]
) -> None:
    record_history(services.roster)
    services.read_model.catch_up()
    live = read_model_rows(services.database)
    with services.database.writing() as cursor:
        cursor.execute("DELETE FROM status_changes")
        cursor.execute("UPDATE access_groups SET member_count = 42")

    result = roster("projections", "rebuild", env=env)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"Read models rebuilt from {last_position(services)} events.\n"
    assert read_model_rows(services.database) == live


@pytest.mark.parametrize("window", [user_list.RUN_WINDOW, 64])
def test_users_created_in_one_microsecond_get_distinct_keys_that_a_rebuild_repeats(
    services: Services, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """A legacy file's users of one creation date share a microsecond: their list keys
    move past the run of taken ones, in live passes of any size and in a rebuild alike,
    and with a window smaller than the run (64 keys here) too."""
    monkeypatch.setattr(user_list, "RUN_WINDOW", window)
    moment = datetime(2016, 1, 1, tzinfo=UTC)

    def migrate(name: str, count: int, at: datetime) -> None:
        services.roster.register_users(
            [
                NewUser(
                    "Ann",
                    f"{name} {i}",
                    f"{name}{i}@acme.com",
                    status=UserStatus.BLOCKED,
                    created_at=at,
                )
                for i in range(count)
            ],
            actor=ACTOR,
            source=StatusChangeSource.LEGACY_MIGRATION,
        )
        services.read_model.catch_up()

    migrate("first", 700, moment)
    migrate("later", 2, moment + timedelta(microseconds=1))
    for name in ("second", "third", "fourth", "fifth"):
        migrate(name, 700, moment)
    live = read_model_rows(services.database)
    keys = [row["seq"] for row in live["users"]]
    created = {row["created_at"] for row in live["users"]}

    services.read_model.rebuild()

    assert read_model_rows(services.database) == live
    assert len(set(keys)) == len(keys) == 3502
    assert len(created) == 2


# ---------------------------------------------------------------- exactly once


def counted(services: Services) -> dict[str, Any]:
    rows = read_model_rows(services.database)
    members: dict[str, set[str]] = {}
    for row in rows["group_members"]:
        members.setdefault(row["group_id"], set()).add(row["user_id"])
    return {
        "users": len(rows["users"]),
        "status_changes": len(rows["status_changes"]),
        "members": members,
        "member_counts": {row["id"]: row["member_count"] for row in rows["access_groups"]},
        "position": services.read_model.position(),
    }


def follow(follower: Follower, until: threading.Event) -> int:
    """Catches up again and again while events are being recorded, then once more."""
    while not until.is_set():
        follower.catch_up()
    return follower.catch_up()


def test_two_followers_catching_up_at_once_apply_every_event_once(
    services: Services, other_services: Services
) -> None:
    for follower in (services.read_model, other_services.read_model):
        follower.batch_size = 4  # many small passes, so that the two interleave
    recorded = threading.Event()

    def record() -> Recorded:
        try:
            return record_history(services.roster, users=60)
        finally:
            recorded.set()

    outcomes: list[Any] = all_at_once(
        [
            record,
            lambda: follow(services.read_model, recorded),
            lambda: follow(other_services.read_model, recorded),
        ]
    )

    history, *reached = outcomes
    assert reached == [last_position(services)] * 2
    assert counted(services) == {
        "users": history.users,
        "status_changes": history.status_changes,
        "members": history.members,
        "member_counts": {group: len(users) for group, users in history.members.items()},
        "position": last_position(services),
    }


# ---------------------------------------------------------------- crash safety

PROBE_TABLE = (
    "CREATE TABLE IF NOT EXISTS probe_events"
    " (position BIGINT PRIMARY KEY, originator_id TEXT NOT NULL, version INTEGER NOT NULL)"
)


class ViewFailedError(Exception):
    pass


class FailingOnceView:
    """Records every event in its own table, but fails once, after writing the row of the
    event at `fail_at`: a crash in the middle of a batch."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.failed = False

    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM probe_events")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        for event, position in events:
            cursor.execute(
                "INSERT INTO probe_events (position, originator_id, version) VALUES (%s, %s, %s)",
                (position, str(event.originator_id), event.originator_version),
            )
            if position == self.fail_at and not self.failed:
                self.failed = True
                raise ViewFailedError(position)


def probe_rows(services: Services) -> list[dict[str, Any]]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT * FROM probe_events ORDER BY position")
        rows: list[dict[str, Any]] = cursor.fetchall()
        return rows


@dataclass
class Crash:
    follower: Follower
    positions: list[int]  # of every event in the store


@pytest.fixture
def crash(services: Services) -> Crash:
    """A follower of its own, in batches of 3, whose view fails on the 5th event: the 1st
    batch commits, the 2nd fails after applying the 4th event."""
    record_history(services.roster, users=4)
    notifications = services.roster.recorder.select_notifications(start=0, limit=1000)
    positions = [notification.id for notification in notifications]
    with services.database.writing() as cursor:
        cursor.execute(PROBE_TABLE)
    view = FailingOnceView(fail_at=positions[4])
    follower = Follower("crash-probe", services.roster, services.database, [view], batch_size=3)
    with pytest.raises(ViewFailedError):
        follower.catch_up()
    return Crash(follower, positions)


def test_a_failing_view_leaves_the_position_at_the_last_committed_batch(crash: Crash) -> None:
    assert crash.follower.position() == crash.positions[2]


def test_a_failing_view_leaves_no_rows_of_the_failed_batch(
    crash: Crash, services: Services
) -> None:
    assert [row["position"] for row in probe_rows(services)] == crash.positions[:3]


def test_catching_up_after_a_failure_gives_what_a_rebuild_gives(
    crash: Crash, services: Services
) -> None:
    crash.follower.catch_up()
    caught_up = probe_rows(services)

    crash.follower.rebuild()

    assert probe_rows(services) == caught_up
    assert [row["position"] for row in caught_up] == crash.positions


def test_a_failing_view_leaves_other_read_models_alone(crash: Crash, services: Services) -> None:
    assert services.read_model.position() == 0


# ---------------------------------------------------------------- history


def replayed_history(app: Roster, user_id: UUID) -> list[tuple[Any, ...]]:
    """The user's status changes, read off the stored events alone."""
    return [
        (
            str(event.previous_status) if isinstance(event, User.StatusChanged) else None,
            str(event.status),
            event.timestamp,
            event.actor,
            str(event.source),
            event.reason,
            event.originator_version,
        )
        for event in app.events.get(user_id)
        if isinstance(event, User.Registered | User.StatusChanged)
    ]


def test_status_history_equals_a_replay_of_the_users_events(services: Services) -> None:
    app = services.roster
    group = app.create_group("Sales", [], actor=ACTOR).id
    user_id = app.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor=ACTOR).id
    app.deactivate_user(user_id, actor="admin-2", reason="left the company")
    app.set_user_access(user_id, group_ids=[group], permissions=[], actor=ACTOR)
    app.reactivate_user(user_id, actor=ACTOR, reason="came back")
    app.deactivate_user(user_id, actor=ACTOR, reason=None)
    services.read_model.catch_up()

    with services.database.reading() as cursor:
        history = history_of(cursor, str(user_id))

    assert [
        (c.from_status, c.to_status, c.at, c.actor, c.source, c.reason, c.version) for c in history
    ] == replayed_history(app, user_id)
    assert len(history) == 4
