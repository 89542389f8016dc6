"""The fast event path, on the test store: events in typed JSON (and the tagged JSON of
earlier versions still read), writes that skip the library's per-object checks, and a
commit's events taken into the read model from memory, giving what a rebuild gives."""

from __future__ import annotations

import hashlib
import inspect
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from importlib.metadata import version
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application, ProcessingEvent, project_aggregate
from eventsourcing.persistence import Recording

from bootstrap import Services, build_services
from domain.application import NewUser, Roster
from domain.imports.batch import AccessMode, ImportBatch
from domain.imports.process import Limits
from domain.invitations import InvitationTokens
from domain.statuses import StatusChangeSource
from domain.users import User
from settings import Settings
from store.mapper import COMPRESS_FROM, EventMapper
from tests.integration.harness import read_model_rows

ACTOR = "admin-1"


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def stored_state(services: Services, aggregate_id: UUID, version: int = 1) -> bytes:
    events = services.roster.recorder.select_events(aggregate_id, gt=version - 1, lte=version)
    return events[0].state


def csv_file(rows: int) -> io.BytesIO:
    lines = ["first_name,last_name,email,username"]
    lines += [f"Ann,Lee {n},ann{n}@acme.com," for n in range(rows)]
    return io.BytesIO("\r\n".join(lines).encode())


def committed_import(services: Services, rows: int) -> UUID:
    """A batch read and committed in ranges of 50 rows, as the worker does it."""
    importer = services.worker.importer
    batch_id = importer.start("people.csv", actor=ACTOR, rows=rows).id
    importer.read(batch_id, csv_file(rows), Limits())
    group = services.roster.create_group("Sales", [], actor=ACTOR).id
    services.imports.choose_access(
        batch_id, AccessMode.ASSIGN_GROUPS, actor=ACTOR, group_ids=[group]
    )
    services.imports.commit(batch_id, exclude_invalid=True, actor=ACTOR)
    importer.commit(batch_id, rows=50)
    return batch_id


# ---------------------------------------------------------------- the format


def test_events_are_kept_as_plain_typed_json_and_read_back_alike(services: Services) -> None:
    user_id = services.roster.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor=ACTOR).id

    state = stored_state(services, user_id)
    user = services.roster.get_aggregate(User, user_id, "user")

    assert b"_type_" not in state
    assert str(user_id).encode() not in state  # the id is the row's, not the state's
    assert user.invitation is not None
    assert str(user.invitation.id).encode() in state  # a UUID as its plain string
    assert isinstance(user.invitation.id, UUID)
    assert user.invitation.expires_at - user.invitation.issued_at == timedelta(days=7)


def test_events_in_the_tagged_json_of_earlier_versions_are_still_read(
    settings: Settings, services: Services
) -> None:
    env = {**settings.store.event_store_env()}
    del env["MAPPER_TOPIC"]  # the library's own mapper, as versions before this one wrote
    earlier = Roster(
        env, tokens=InvitationTokens(settings.invitation_key()), invitation_ttl=timedelta(days=7)
    )
    try:
        user_id = earlier.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor=ACTOR).id
        written = earlier.get_aggregate(User, user_id, "user")
    finally:
        earlier.close()
    assert b'"_type_":"uuid_hex"' in stored_state(services, user_id)

    read = services.roster.get_aggregate(User, user_id, "user")
    services.roster.deactivate_user(user_id, actor=ACTOR, reason="left")  # typed, after it
    services.read_model.catch_up()

    assert vars(read) == vars(written)
    assert services.roster.get_aggregate(User, user_id, "user").status.value == "DEACTIVATED"
    live = read_model_rows(services.database)
    services.read_model.rebuild()
    assert read_model_rows(services.database) == live


def test_an_event_with_untyped_values_keeps_the_tagged_json(services: Services) -> None:
    mapper = services.roster.mapper
    assert isinstance(mapper, EventMapper)

    assert mapper.decoder(ImportBatch.AccessChosen) is None  # rows: dict[str, list[Any]]
    assert mapper.decoder(User.Registered) is not None


def test_a_large_event_is_compressed_and_read_back(services: Services) -> None:
    batch_id = committed_import(services, 120)
    first_chunk = stored_state(services, batch_id, 2)  # RowsRead of every row

    batch = services.roster.get_aggregate(ImportBatch, batch_id, "import batch")

    # Written compressed for its size; the sealed values inside hardly shrink.
    assert len(zlib.decompress(first_chunk)) >= COMPRESS_FROM
    assert first_chunk[:1] == b"x"  # zlib's first byte
    assert len(first_chunk) < len(zlib.decompress(first_chunk))
    assert (batch.total_rows, batch.created) == (120, 120)


# ---------------------------------------------------------------- the save path


def test_the_library_save_that_roster_save_repeats_is_unchanged() -> None:
    """`Roster.save` repeats `Application.save` after collecting the events itself. If an
    upgrade of eventsourcing changes that method (or what it collects), this fails:
    compare the new code with `Roster.save` and update both the code and the digests."""
    copied: dict[str, Callable[..., Any]] = {
        "Application.save": Application.save,
        "ProcessingEvent.collect_events": ProcessingEvent.collect_events,
    }
    digests = {
        name: hashlib.sha256(inspect.getsource(code).encode()).hexdigest()[:16]
        for name, code in copied.items()
    }

    assert version("eventsourcing") == "9.5.6"
    assert digests == {
        "Application.save": "4e9747d14b8fd046",
        "ProcessingEvent.collect_events": "7e3a7e6b1abd2bef",
    }


def test_a_snapshot_taken_from_memory_is_the_one_the_events_give(services: Services) -> None:
    batch_id = committed_import(services, 400)
    roster, snapshots = services.roster, services.roster.snapshots
    assert snapshots is not None

    taken = list(snapshots.get(batch_id))
    assert taken
    for snapshot in taken:
        assert isinstance(snapshot, ImportBatch.Snapshot)
        replayed = project_aggregate(
            None, roster.events.get(batch_id, lte=snapshot.originator_version)
        )
        again = ImportBatch.Snapshot.take(replayed)
        # Both as the store keeps them: the mapper's round trip evens out Python types.
        mapper = roster.mapper
        kept = mapper.to_domain_event(mapper.to_stored_event(again))
        assert isinstance(kept, ImportBatch.Snapshot)
        assert (kept.originator_version, kept.state) == (
            snapshot.originator_version,
            snapshot.state,
        )


# ---------------------------------------------------------------- taking events in


def test_a_commit_taken_in_from_memory_gives_what_a_rebuild_gives(services: Services) -> None:
    committed_import(services, 230)
    services.read_model.catch_up()
    live = read_model_rows(services.database)

    services.read_model.rebuild()

    assert read_model_rows(services.database) == live
    assert len(live["users"]) == 230


def registered(services: Services, email: str) -> list[Recording[UUID]]:
    registrations = services.roster.register_users(
        [NewUser("Ann", "Lee", email)], actor=ACTOR, source=StatusChangeSource.REGISTRATION
    )
    return registrations.recordings


def listed_first_names(services: Services) -> list[str]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT first_name FROM users ORDER BY seq")
        return [row["first_name"] for row in cursor.fetchall()]


def with_first_name(recordings: list[Recording[UUID]], name: str) -> list[Recording[UUID]]:
    """The same write with another first name in its events in memory (not in the store):
    the read model shows which of the two it applied."""
    changed = []
    for recording in recordings:
        event = recording.domain_event
        if isinstance(event, User.Registered):
            event = replace(event, first_name=name)  # type: ignore[call-arg]
        changed.append(Recording(event, recording.notification))
    return changed


def test_a_write_just_saved_is_applied_from_its_events_in_memory(services: Services) -> None:
    services.read_model.catch_up()
    recordings = registered(services, "ann@acme.com")

    position = services.read_model.take_in(with_first_name(recordings, "In memory"))

    assert listed_first_names(services) == ["In memory"]
    assert position == recordings[-1].notification.id


def test_a_write_after_another_writers_events_is_read_from_the_store(services: Services) -> None:
    services.read_model.catch_up()
    registered(services, "bob@acme.com")  # another writer's, not taken in yet
    recordings = registered(services, "ann@acme.com")

    services.read_model.take_in(with_first_name(recordings, "In memory"))

    assert listed_first_names(services) == ["Ann", "Ann"]
