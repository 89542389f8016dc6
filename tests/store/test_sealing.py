"""Personal fields of events sealed under their person's key, through the real store: the
stored bytes hold none of them, they read back as written, and once a key is destroyed
they read as erased, each event as its declaration says (domain/personal.py)."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent

from bootstrap import Services, build_services
from domain.application import NewUser, Roster
from domain.errors import InvalidStateError
from domain.imports.batch import ImportBatch
from domain.imports.batch_values import AccessMode
from domain.imports.process import Limits
from domain.imports.revision import RevisedLine
from domain.imports.rows import RowInput
from domain.invitations import InvitationTokens
from domain.personal import ERASED_KEYS, ERASED_ROW, pseudonym
from domain.statuses import StatusChangeSource
from domain.users import User
from settings import Settings
from store.keyring import Keyring, seal
from store.mapper import EventMapper
from store.sealing import Sealing

ADMIN = "wendeline.admin@acme.com"
PERSON = NewUser(
    first_name="Wilhelmina",
    last_name="Quackenbush",
    email="wilhelmina.quackenbush@acme.com",
    username="wquackenbush",
)
PERSONAL = [b"Wilhelmina", b"Quackenbush", b"wquackenbush", ADMIN.encode()]
REASON = "moved to Lisbon"


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def mapper(services: Services) -> EventMapper:
    assert isinstance(services.roster.mapper, EventMapper)
    return services.roster.mapper


def keyring(services: Services) -> Keyring:
    sealing = mapper(services).sealing
    assert sealing is not None
    return sealing.keyring


def stored_bytes(stored: Sequence[StoredEvent]) -> bytes:
    """The states as stored, a compressed one (a chunk of rows) inflated."""
    return b"".join(zlib.decompress(s.state) if s.state[:1] == b"x" else s.state for s in stored)


def stored(services: Services, aggregate_id: UUID) -> list[StoredEvent]:
    return list(services.roster.recorder.select_events(aggregate_id))


def read(services: Services, aggregate_id: UUID) -> list[Any]:
    """The aggregate's events as read from the store now (no aggregate in memory)."""
    return mapper(services).to_domain_events(stored(services, aggregate_id))


def register(services: Services, new: NewUser = PERSON) -> UUID:
    return services.roster.register_user(new, actor=ADMIN).id


def actor_key_id(services: Services, subject: str) -> UUID:
    with services.database.reading() as cursor:
        key_id = keyring(services).actor_key_id(cursor, subject)
    assert key_id is not None
    return key_id


# ---------------------------------------------------------------------- one person


def test_a_registered_persons_values_are_not_in_the_stored_events(services: Services) -> None:
    user_id = register(services)
    services.roster.deactivate_user(user_id, actor=ADMIN, reason=REASON)

    state = stored_bytes(stored(services, user_id))

    assert [value for value in [*PERSONAL, REASON.encode()] if value in state] == []


def test_sealed_values_read_back_as_written(services: Services) -> None:
    user_id = register(services)
    services.roster.deactivate_user(user_id, actor=ADMIN, reason=REASON)

    registered, deactivated = read(services, user_id)[:2]

    assert (registered.first_name, registered.last_name) == ("Wilhelmina", "Quackenbush")
    assert (registered.email, registered.username) == (PERSON.email, PERSON.username)
    assert (registered.actor, deactivated.actor, deactivated.reason) == (ADMIN, ADMIN, REASON)


def test_events_written_before_sealing_still_read(services: Services, store_url: str) -> None:
    older = Roster(
        services.settings.store.event_store_env(),
        tokens=InvitationTokens(b"k" * 32),
        invitation_ttl=services.settings.invitation_ttl,
    )
    try:
        assert isinstance(older.mapper, EventMapper)
        assert older.mapper.sealing is None
        user_id = older.register_user(PERSON, actor=ADMIN).id
    finally:
        older.close()
    assert PERSON.email.encode() in stored_bytes(stored(services, user_id))

    user = services.roster.get_aggregate(User, user_id, "user")

    assert (user.first_name, user.email, user.username) == (
        "Wilhelmina",
        PERSON.email,
        PERSON.username,
    )


def test_once_the_key_is_destroyed_the_persons_fields_read_as_erased(
    services: Services,
) -> None:
    user_id = register(services)
    services.roster.deactivate_user(user_id, actor=ADMIN, reason=REASON)

    keyring(services).destroy([user_id])
    registered, deactivated = read(services, user_id)[:2]

    assert (registered.first_name, registered.last_name) == ("", "")
    assert (registered.email, registered.username, deactivated.reason) == ("", "", None)
    assert (registered.actor, deactivated.actor) == (ADMIN, ADMIN)


def test_data_about_a_person_after_their_key_was_destroyed_is_erased_on_arrival(
    services: Services,
) -> None:
    """No new key is made for them: a later event (here, a mail server's refusal quoting
    their address) is sealed under a key nobody keeps."""
    user_id = register(services)
    invitation = services.roster.get_aggregate(User, user_id, "user").invitation
    assert invitation is not None
    keyring(services).destroy([user_id])

    refusal = f"550 {PERSON.email}: no such mailbox"
    services.roster.record_invitation_undeliverable(user_id, invitation.id, refusal)

    assert PERSON.email.encode() not in stored_bytes(stored(services, user_id))
    assert read(services, user_id)[-1].reason == ""
    assert keyring(services).keys([user_id]) == {}


def test_a_destroyed_actor_key_gives_the_subject_a_new_key_and_pseudonym(
    services: Services,
) -> None:
    first = register(services)
    old = actor_key_id(services, ADMIN)
    keyring(services).destroy([old])

    second = register(services, NewUser("Bo", "Ek", "bo@acme.com"))
    new = actor_key_id(services, ADMIN)

    assert new != old
    assert read(services, first)[0].actor == pseudonym(old)
    assert read(services, second)[0].actor == ADMIN


def test_an_erased_actor_reads_as_one_pseudonym_in_every_event(services: Services) -> None:
    first, second = register(services), register(services, NewUser("Bo", "Ek", "bo@acme.com"))
    services.roster.deactivate_user(first, actor=ADMIN, reason=None)
    key_id = actor_key_id(services, ADMIN)

    keyring(services).destroy([key_id])
    actors = {event.actor for event in [*read(services, first), *read(services, second)]}

    assert actors == {pseudonym(key_id)}


def test_an_erased_persons_key_leaves_other_people_readable(services: Services) -> None:
    erased, kept = register(services), register(services, NewUser("Bo", "Ek", "bo@acme.com"))

    keyring(services).destroy([erased])

    assert read(services, kept)[0].email == "bo@acme.com"


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(
            lambda sealed, key_id: seal(key_id, AESGCM.generate_key(bit_length=256), b'"x"'),
            id="sealed under another key",
        ),
        pytest.param(
            lambda sealed, key_id: sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:],
            id="ciphertext altered",
        ),
        pytest.param(lambda sealed, key_id: sealed[:20], id="cut short"),
        pytest.param(lambda sealed, key_id: "\x00not base64!", id="not base64"),
        pytest.param(lambda sealed, key_id: "\x00", id="empty"),
    ],
)
def test_a_value_that_does_not_open_reads_as_erased(services: Services, alter: Any) -> None:
    user_id = register(services)
    registered = stored(services, user_id)[0]
    state = msgspec.json.decode(registered.state)
    state["email"] = alter(state["email"], user_id)
    changed = StoredEvent(
        originator_id=registered.originator_id,
        originator_version=registered.originator_version,
        topic=registered.topic,
        state=msgspec.json.encode(state),
    )

    event: Any = mapper(services).to_domain_event(changed)

    assert (event.email, event.first_name) == ("", "Wilhelmina")


def test_with_encryption_off_values_are_stored_in_the_clear_and_nothing_is_erasable(
    env: dict[str, str],
) -> None:
    plain = build_services(Settings.from_env({**env, "ROSTER_ENCRYPT_PERSONAL_DATA": "off"}))
    try:
        user_id = register(plain)

        assert PERSON.email.encode() in stored_bytes(stored(plain, user_id))
        assert plain.roster.erasable is False
        with pytest.raises(InvalidStateError) as refused:
            plain.erasures.erase_user(user_id, actor="admin", reason="Asked")
        assert refused.value.code == "ERASURE_UNAVAILABLE"
        assert plain.roster.get_aggregate(User, user_id, "user").email == PERSON.email
        with pytest.raises(InvalidStateError):
            plain.actors.erase("admin", actor="admin", reason="Asked")
    finally:
        plain.close()


def test_with_encryption_on_people_are_erasable(services: Services) -> None:
    assert services.roster.erasable is True


# ---------------------------------------------------------------------- rows of a file


def csv_bytes(rows: list[str]) -> bytes:
    return ("first_name,last_name,email,username\r\n" + "".join(r + "\r\n" for r in rows)).encode()


ROWS = [
    "Wilhelmina,Quackenbush,wilhelmina.quackenbush@acme.com,wquackenbush",
    "Bartholomew,Featherstonehaugh,bartholomew.f@acme.com,bfeatherstone",
    "Cornelius,Oppenheimerova,not-an-email,coppen",
]


def read_file(services: Services, rows: list[str] = ROWS) -> UUID:
    batch_id = uuid4()
    services.worker.importer.start("people.csv", actor=ADMIN, batch_id=batch_id)
    services.worker.importer.read(batch_id, io.BytesIO(csv_bytes(rows)), Limits())
    return batch_id


def events_of(services: Services, batch_id: UUID, name: str) -> list[Any]:
    return [e for e in read(services, batch_id) if type(e).__name__ == name]


def row_key(batch_id: UUID, number: int) -> UUID:
    return ImportBatch.user_id_for(batch_id, number)


def test_the_rows_of_a_file_are_not_in_the_stored_events(services: Services) -> None:
    batch_id = read_file(services)

    state = stored_bytes(stored(services, batch_id))

    values = [v.encode() for row in ROWS for v in row.split(",")]
    assert [value for value in [*values, ADMIN.encode()] if value in state] == []


def test_destroying_a_rows_key_erases_that_row_only(services: Services) -> None:
    batch_id = read_file(services)
    (rows_read,) = events_of(services, batch_id, "RowsRead")
    first = rows_read.first_row

    keyring(services).destroy([row_key(batch_id, first + 1)])
    (erased,) = events_of(services, batch_id, "RowsRead")

    assert erased.rows[1] == ERASED_ROW
    assert erased.keys[1] == ERASED_KEYS
    assert erased.rows[0] == rows_read.rows[0]
    assert erased.rows[2] == rows_read.rows[2]
    assert erased.results == rows_read.results  # no errors on row 2 to erase


def test_an_erased_rows_errors_read_as_none(services: Services) -> None:
    batch_id = read_file(services)
    (rows_read,) = events_of(services, batch_id, "RowsRead")
    assert rows_read.results[2]["errors"] != []

    keyring(services).destroy([row_key(batch_id, rows_read.first_row + 2)])
    (erased,) = events_of(services, batch_id, "RowsRead")

    assert erased.results[2] == {**rows_read.results[2], "errors": []}
    assert erased.rows[2] == ERASED_ROW


def test_a_corrected_row_is_sealed_under_its_rows_key(services: Services) -> None:
    batch_id = read_file(services)
    third = events_of(services, batch_id, "RowsRead")[0].first_row + 2
    correction = RowInput("Cornelius", "Oppenheimerova", "cornelius.o@acme.com", "coppen")
    services.imports.correct_row(batch_id, third, correction, actor=ADMIN)
    assert b"cornelius.o@acme.com" not in stored_bytes(stored(services, batch_id))
    (corrected,) = events_of(services, batch_id, "RowCorrected")
    assert corrected.changes[str(third)]["values"][2] == "cornelius.o@acme.com"

    keyring(services).destroy([row_key(batch_id, third)])
    (erased,) = events_of(services, batch_id, "RowCorrected")

    change = erased.changes[str(third)]
    assert (change["values"], change["keys"], change["errors"]) == (ERASED_ROW, ERASED_KEYS, [])
    assert (change["status"], erased.actor) == (corrected.changes[str(third)]["status"], ADMIN)


def test_a_revised_files_rows_are_sealed_each_under_its_rows_key(services: Services) -> None:
    batch_id = read_file(services)
    first = events_of(services, batch_id, "RowsRead")[0].first_row
    lines = [
        RevisedLine(2, first, RowInput("Wilhelmina", "Quackenbush", "wq@acme.com", None)),
        RevisedLine(3, None, RowInput("Dagobert", "Vanderbilt", "dagobert.v@acme.com", None)),
    ]
    services.imports.revise(batch_id, lines, filename="people-2.csv", actor=ADMIN)
    state = stored_bytes(stored(services, batch_id))
    assert b"dagobert.v@acme.com" not in state
    assert b"wq@acme.com" not in state
    (revised,) = events_of(services, batch_id, "RowsRevised")

    keyring(services).destroy([row_key(batch_id, revised.first_added)])
    (erased,) = events_of(services, batch_id, "RowsRevised")

    assert erased.added[0]["values"] == ERASED_ROW
    assert erased.changes[str(first)]["values"] == revised.changes[str(first)]["values"]


def commit(services: Services, batch_id: UUID) -> None:
    services.imports.choose_access(batch_id, AccessMode.ASSIGN_GROUPS, actor=ADMIN)
    services.imports.commit(batch_id, exclude_invalid=True, actor=ADMIN)
    services.worker.importer.commit(batch_id)


def test_a_row_that_failed_at_the_commit_has_its_errors_sealed(services: Services) -> None:
    batch_id = read_file(services)
    first = events_of(services, batch_id, "RowsRead")[0].first_row
    # Registered by someone else between the review and the commit: the row fails.
    register(services, NewUser("Wilhelmina", "Quackenbush", "wilhelmina.quackenbush@acme.com"))
    commit(services, batch_id)
    (registered,) = events_of(services, batch_id, "RowsRegistered")
    assert list(registered.failed) == [str(first)]
    assert registered.failed[str(first)] != []

    keyring(services).destroy([row_key(batch_id, first)])
    (erased,) = events_of(services, batch_id, "RowsRegistered")

    assert erased.failed == {str(first): []}
    assert erased.created == registered.created


def test_a_rows_key_is_the_key_of_the_user_it_registers(services: Services) -> None:
    batch_id = read_file(services)
    first = events_of(services, batch_id, "RowsRead")[0].first_row
    commit(services, batch_id)
    user_id = row_key(batch_id, first)
    assert read(services, user_id)[0].email == "wilhelmina.quackenbush@acme.com"

    keyring(services).destroy([user_id])

    assert read(services, user_id)[0].email == ""
    assert events_of(services, batch_id, "RowsRead")[0].rows[0] == ERASED_ROW


def test_the_batchs_snapshot_seals_who_created_and_committed_it(services: Services) -> None:
    batch_id = read_file(services)
    commit(services, batch_id)
    services.roster.take_snapshot(batch_id)
    snapshots = services.roster.snapshots
    assert snapshots is not None
    (snapshot, *_) = list(snapshots.recorder.select_events(batch_id, desc=True, limit=1))
    assert ADMIN.encode() not in stored_bytes([snapshot])
    opened: Any = mapper(services).to_domain_event(snapshot)
    assert (opened.state["created_by"], opened.state["committed_by"]) == (ADMIN, ADMIN)
    key_id = actor_key_id(services, ADMIN)

    keyring(services).destroy([key_id])
    erased: Any = mapper(services).to_domain_event(snapshot)

    assert erased.state["created_by"] == erased.state["committed_by"] == pseudonym(key_id)


# ---------------------------------------------------------------------- look-ups


class CountingKeyring(Keyring):
    """The real keyring on the real table, counting its reads and writes of keys."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads = self.creations = 0

    def _read(self, ids: list[UUID]) -> dict[UUID, bytes | None]:
        self.reads += 1
        return super()._read(ids)

    def _create(self, ids: list[UUID]) -> dict[UUID, bytes | None]:
        self.creations += 1
        return super()._create(ids)


def counting(services: Services) -> CountingKeyring:
    """A keyring with nothing cached, in the mapper's place."""
    counted = CountingKeyring(services.database)
    mapper(services).sealing = Sealing(counted)
    return counted


def many(count: int) -> list[NewUser]:
    return [NewUser("Person", f"No{n}", f"p.{n}@acme.com") for n in range(count)]


def register_many(services: Services, count: int) -> list[UUID]:
    registrations = services.roster.register_users(
        many(count), actor=ADMIN, source=StatusChangeSource.REGISTRATION
    )
    return [outcome.id for outcome in registrations.outcomes]  # type: ignore[union-attr]


def test_reading_many_events_looks_their_keys_up_once(services: Services) -> None:
    user_ids = register_many(services, 300)
    events = [s for user_id in user_ids for s in stored(services, user_id)]
    counted = counting(services)

    read_back: list[Any] = mapper(services).to_domain_events(events)

    assert counted.reads == 1
    assert sorted(e.email for e in read_back) == sorted(f"p.{n}@acme.com" for n in range(300))


def test_registering_many_people_makes_their_keys_at_once(services: Services) -> None:
    counted = counting(services)

    register_many(services, 300)

    assert counted.creations == 1
