"""The Roster application over a real SQLite event store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from domain import values
from domain.application import NewUser, Roster, Saved
from domain.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from domain.invitations import InvitationTokens
from domain.statuses import StatusChangeSource, UserStatus
from domain.uniqueness import KeyKind, UniqueKey
from domain.users import User
from settings import Store
from store.recorders import PostgresRosterRecorder, SQLiteRosterRecorder

ADMIN = "admin-1"
UNKNOWN_ID = UUID(int=0)


def open_roster(store_url: str) -> Roster:
    """The application on the test store: a SQLite file, or a PostgreSQL database."""
    return Roster(
        Store(store_url).event_store_env(),
        tokens=InvitationTokens(b"k" * 32),
        invitation_ttl=timedelta(days=7),
    )


@pytest.fixture
def app(store_url: str) -> Iterator[Roster]:
    roster = open_roster(store_url)
    yield roster
    roster.close()


@pytest.fixture
def other_app(store_url: str) -> Iterator[Roster]:
    """A second writer on the same event store, as another server process would be."""
    roster = open_roster(store_url)
    yield roster
    roster.close()


def ann(email: str = "ann.lee@acme.com", **changes: Any) -> NewUser:
    return replace(NewUser(first_name="Ann", last_name="Lee", email=email), **changes)


def register(app: Roster, new: NewUser | None = None) -> Saved:
    return app.register_user(new or ann(), actor=ADMIN)


def user(app: Roster, user_id: UUID) -> User:
    found: object = app.repository.get(user_id)
    assert isinstance(found, User)
    return found


def last_position(app: Roster) -> int | None:
    return app.recorder.max_notification_id()


# ---------------------------------------------------------------- register


def test_register_user_records_a_pending_user(app: Roster) -> None:
    saved = register(app)

    assert user(app, saved.id).status is UserStatus.PENDING


def test_register_user_returns_the_position_of_its_last_event(app: Roster) -> None:
    saved = register(app)

    assert saved.position == last_position(app)


def test_register_user_returns_increasing_positions(app: Roster) -> None:
    first = register(app, ann("ann@acme.com"))
    second = register(app, ann("bob@acme.com"))

    assert second.position > first.position


def test_register_user_keeps_the_parsed_values(app: Roster) -> None:
    saved = register(app, ann(" Ann.Lee@Acme.com ", first_name="Jose\u0301 "))

    registered = user(app, saved.id)
    assert (registered.first_name, registered.email) == ("Jos\u00e9", "Ann.Lee@Acme.com")


def test_register_user_derives_the_username_from_the_email(app: Roster) -> None:
    saved = register(app, ann("Jos\u00e9.P\u00e9rez@acme.com"))

    assert user(app, saved.id).username == "jose.perez"


def test_derived_usernames_get_numbered_suffixes(app: Roster) -> None:
    emails = ["ann@acme.com", "ann@beta.com", "ANN@gamma.com"]

    usernames = [user(app, register(app, ann(email)).id).username for email in emails]

    assert usernames == ["ann", "ann-2", "ann-3"]


def test_register_user_keeps_the_given_username(app: Roster) -> None:
    saved = register(app, ann(username="Ann.L"))

    assert user(app, saved.id).username == "Ann.L"


def test_register_user_records_the_import_batch(app: Roster) -> None:
    batch_id = UUID(int=7)
    saved = app.register_user(
        ann(), actor=ADMIN, source=StatusChangeSource.IMPORT, import_batch_id=batch_id
    )

    assert user(app, saved.id).import_batch_id == batch_id


def test_an_email_taken_in_another_case_is_a_conflict(app: Roster) -> None:
    register(app, ann("ann.lee@acme.com"))

    with pytest.raises(ConflictError) as refused:
        register(app, ann("ANN.LEE@Acme.com", username="other"))

    assert refused.value.code == "EMAIL_TAKEN"


def test_a_given_username_taken_in_another_case_is_a_conflict(app: Roster) -> None:
    register(app, ann("ann@acme.com", username="ann.lee"))

    with pytest.raises(ConflictError) as refused:
        register(app, ann("bob@acme.com", username="Ann.Lee"))

    assert refused.value.code == "USERNAME_TAKEN"


def test_a_given_username_taken_by_a_derived_one_is_a_conflict(app: Roster) -> None:
    register(app, ann("ann@acme.com"))

    with pytest.raises(ConflictError) as refused:
        register(app, ann("bob@acme.com", username="ANN"))

    assert refused.value.code == "USERNAME_TAKEN"


def test_registering_into_an_unknown_group_is_invalid_input(app: Roster) -> None:
    with pytest.raises(InvalidInputError) as refused:
        register(app, ann(group_ids=[UNKNOWN_ID]))

    assert (refused.value.field, refused.value.code) == ("groupIds[0]", "UNKNOWN_GROUP")


def test_an_unknown_group_is_named_by_its_position_in_the_input(app: Roster) -> None:
    known = app.create_group("Ops", [], actor=ADMIN).id

    with pytest.raises(InvalidInputError) as refused:
        register(app, ann(group_ids=[known, UNKNOWN_ID]))

    assert refused.value.field == "groupIds[1]"


def test_registration_holds_the_email_and_username_for_the_user(app: Roster) -> None:
    saved = register(app, ann("Ann@Acme.com"))

    recorder = keys_of(app)
    assert recorder.owners(KeyKind.EMAIL, ["ann@acme.com"]) == {"ann@acme.com": saved.id}
    assert recorder.owners(KeyKind.USERNAME, ["ann"]) == {"ann": saved.id}


def keys_of(app: Roster) -> SQLiteRosterRecorder | PostgresRosterRecorder:
    assert isinstance(app.recorder, SQLiteRosterRecorder | PostgresRosterRecorder)
    return app.recorder


def test_stored_events_never_hold_the_invitation_token(app: Roster) -> None:
    saved = register(app)
    invitation = user(app, saved.id).invitation
    assert invitation is not None
    token = app.tokens.token_for(invitation.id).encode()

    stored = app.recorder.select_events(saved.id)
    assert stored
    assert all(token not in event.state for event in stored)


# ---------------------------------------------------------------- groups


def test_create_group_keeps_sorted_unique_permissions(app: Roster) -> None:
    saved = app.create_group("Ops", ["users:write", "users:read", "users:write"], actor=ADMIN)

    assert app.repository.get(saved.id).permissions == ["users:read", "users:write"]


def test_a_group_name_taken_in_another_case_is_a_conflict(app: Roster) -> None:
    app.create_group("Operations", [], actor=ADMIN)

    with pytest.raises(ConflictError) as refused:
        app.create_group(" OPERATIONS ", [], actor=ADMIN)

    assert refused.value.code == "GROUP_NAME_TAKEN"


def test_set_group_permissions_of_an_unknown_group_is_not_found(app: Roster) -> None:
    with pytest.raises(NotFoundError):
        app.set_group_permissions(UNKNOWN_ID, ["users:read"], actor=ADMIN)


def test_setting_unchanged_group_permissions_succeeds_without_an_event(app: Roster) -> None:
    saved = app.create_group("Ops", ["users:read"], actor=ADMIN)
    before = last_position(app)

    app.set_group_permissions(saved.id, ["users:read"], actor=ADMIN)

    assert last_position(app) == before


# ---------------------------------------------------------------- status commands


def test_deactivate_user_makes_the_user_deactivated(app: Roster) -> None:
    saved = register(app)

    app.deactivate_user(saved.id, actor=ADMIN, reason=" Left. ")

    assert user(app, saved.id).status is UserStatus.DEACTIVATED


def test_deactivate_user_returns_a_later_position(app: Roster) -> None:
    registered = register(app)

    deactivated = app.deactivate_user(registered.id, actor=ADMIN, reason=None)

    assert (deactivated.id, deactivated.position > registered.position) == (registered.id, True)


def test_reactivate_user_who_never_accepted_issues_a_new_invitation(app: Roster) -> None:
    saved = register(app)
    first = user(app, saved.id).invitation
    app.deactivate_user(saved.id, actor=ADMIN, reason=None)

    app.reactivate_user(saved.id, actor=ADMIN, reason=None)

    reactivated = user(app, saved.id).invitation
    assert reactivated is not None
    assert reactivated != first


def test_deactivating_a_deactivated_user_is_invalid_state(app: Roster) -> None:
    saved = register(app)
    app.deactivate_user(saved.id, actor=ADMIN, reason=None)

    with pytest.raises(InvalidStateError):
        app.deactivate_user(saved.id, actor=ADMIN, reason=None)


@pytest.mark.parametrize("command", ["deactivate_user", "reactivate_user"])
def test_a_status_command_on_an_unknown_user_is_not_found(app: Roster, command: str) -> None:
    with pytest.raises(NotFoundError):
        getattr(app, command)(UNKNOWN_ID, actor=ADMIN, reason=None)


def test_a_status_command_on_a_group_id_is_not_found(app: Roster) -> None:
    group = app.create_group("Ops", [], actor=ADMIN)

    with pytest.raises(NotFoundError):
        app.deactivate_user(group.id, actor=ADMIN, reason=None)


# ---------------------------------------------------------------- access


def test_set_user_access_stores_sorted_unique_group_ids(app: Roster) -> None:
    group_ids = [app.create_group(name, [], actor=ADMIN).id for name in ["A", "B", "C"]]
    saved = register(app)

    app.set_user_access(
        saved.id, group_ids=[*reversed(group_ids), group_ids[0]], permissions=[], actor=ADMIN
    )

    assert user(app, saved.id).group_ids == sorted(group_ids, key=str)


def test_set_user_access_stores_sorted_unique_permissions(app: Roster) -> None:
    saved = register(app)

    app.set_user_access(saved.id, group_ids=[], permissions=["b", "a", "b"], actor=ADMIN)

    assert user(app, saved.id).permissions == ["a", "b"]


def test_set_user_access_names_an_unknown_group_under_access(app: Roster) -> None:
    saved = register(app)

    with pytest.raises(InvalidInputError) as refused:
        app.set_user_access(saved.id, group_ids=[UNKNOWN_ID], permissions=[], actor=ADMIN)

    assert (refused.value.field, refused.value.code) == ("access.groupIds[0]", "UNKNOWN_GROUP")


def test_setting_unchanged_user_access_succeeds_without_an_event(app: Roster) -> None:
    saved = register(app)
    before = last_position(app)

    app.set_user_access(saved.id, group_ids=[], permissions=[], actor=ADMIN)

    assert last_position(app) == before


# ---------------------------------------------------------------- refusals write nothing


def email_taken(app: Roster) -> None:
    register(app, ann("ANN.LEE@acme.com", username="someone.else"))


def username_taken(app: Roster) -> None:
    register(app, ann("bob@acme.com", username="ANN.LEE"))


def unknown_group(app: Roster) -> None:
    register(app, ann("bob@acme.com", group_ids=[UNKNOWN_ID]))


def invalid_name(app: Roster) -> None:
    register(app, ann("bob@acme.com", first_name="\x00"))


def group_name_taken(app: Roster) -> None:
    app.create_group("ops", [], actor=ADMIN)


def unknown_user(app: Roster) -> None:
    app.deactivate_user(UNKNOWN_ID, actor=ADMIN, reason=None)


def reactivate_a_pending_user(app: Roster) -> None:
    app.reactivate_user(user_id_of(app, "ann.lee@acme.com"), actor=ADMIN, reason=None)


def user_id_of(app: Roster, email: str) -> UUID:
    key = values.email_key(email)
    return keys_of(app).owners(KeyKind.EMAIL, [key])[key]


@pytest.mark.parametrize(
    "refused",
    [
        email_taken,
        username_taken,
        unknown_group,
        invalid_name,
        group_name_taken,
        unknown_user,
        reactivate_a_pending_user,
    ],
)
def test_a_refused_command_writes_no_event(app: Roster, refused: Callable[[Roster], None]) -> None:
    register(app, ann("ann.lee@acme.com", username="ann.lee"))
    app.create_group("Ops", [], actor=ADMIN)
    before = last_position(app)

    with pytest.raises((ConflictError, InvalidInputError, InvalidStateError, NotFoundError)):
        refused(app)

    assert last_position(app) == before


# ---------------------------------------------------------------- the atomic guard


def racing_user(email: str) -> tuple[User, list[UniqueKey]]:
    """A user and their unique keys built as register_user builds them, but never checked."""
    racer = User(
        first_name="Ann",
        last_name="Other",
        email=email,
        username="ann.other",
        group_ids=[],
        permissions=[],
        invitation=None,
        status=UserStatus.PENDING,
        source=StatusChangeSource.REGISTRATION,
        actor=ADMIN,
        reason=None,
        import_batch_id=None,
    )
    keys = [
        UniqueKey(KeyKind.USERNAME, values.username_key("ann.other"), racer.id),
        UniqueKey(KeyKind.EMAIL, values.email_key(email), racer.id),
    ]
    return racer, keys


def test_a_second_writer_holding_a_taken_email_is_refused_by_the_store(
    app: Roster, other_app: Roster
) -> None:
    register(app, ann("ann.lee@acme.com"))
    racer, claims = racing_user("Ann.Lee@ACME.com")

    with pytest.raises(IntegrityError):
        other_app.save(racer, unique_keys=claims)


def test_a_refused_save_writes_none_of_its_events(app: Roster, other_app: Roster) -> None:
    register(app, ann("ann.lee@acme.com"))
    before = last_position(app)
    racer, claims = racing_user("Ann.Lee@ACME.com")

    with pytest.raises(IntegrityError):
        other_app.save(racer, unique_keys=claims)

    assert last_position(other_app) == before
    assert other_app.recorder.select_events(racer.id) == []
    assert keys_of(other_app).owners(KeyKind.USERNAME, ["ann.other"]) == {}


class Overtaken(Roster):
    """A Roster whose next save is overtaken by a rival writer changing the same user."""

    name = "Roster"  # the same event store (PostgreSQL tables are named after the app)

    def __init__(self, store_url: str, rival: Roster) -> None:
        super().__init__(
            Store(store_url).event_store_env(),
            tokens=InvitationTokens(b"k" * 32),
            invitation_ttl=timedelta(days=7),
        )
        self.rival = rival
        self.armed = True

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        if self.armed:
            self.armed = False
            self.rival.deactivate_user(objs[0].id, actor="rival", reason=None)
        return super().save(*objs, **kwargs)


def test_a_command_overtaken_by_another_writer_is_judged_again(app: Roster, store_url: str) -> None:
    saved = register(app)
    overtaken = Overtaken(store_url, rival=app)

    with pytest.raises(InvalidStateError):
        overtaken.deactivate_user(saved.id, actor=ADMIN, reason=None)

    events = overtaken.recorder.select_events(saved.id)
    assert [e.topic.rsplit(".", 1)[-1] for e in events] == ["Registered", "Deactivated"]
    overtaken.close()


def test_a_command_overtaken_by_another_writer_succeeds_when_still_allowed(
    app: Roster, store_url: str
) -> None:
    saved = register(app)
    overtaken = Overtaken(store_url, rival=app)

    overtaken.set_user_access(saved.id, group_ids=[], permissions=["x.read"], actor=ADMIN)

    assert user(overtaken, saved.id).permissions == ["x.read"]
    overtaken.close()


# ------------------------------------------------------------------ invitations sent


def sent_events(app: Roster, user_id: UUID) -> list[Any]:
    return [e for e in app.recorder.select_events(user_id) if e.topic.endswith(".InvitationSent")]


def invitation_id(app: Roster, user_id: UUID) -> UUID:
    invitation = user(app, user_id).invitation
    assert invitation is not None
    return invitation.id


def test_record_invitations_sent_records_each_mail_on_its_user(app: Roster) -> None:
    ids = [register(app, ann(f"ann.{n}@acme.com")).id for n in range(3)]
    at = datetime(2030, 1, 2, tzinfo=UTC)

    app.record_invitations_sent(
        [(user_id, invitation_id(app, user_id), at) for user_id in ids]
        + [(UNKNOWN_ID, uuid4(), at)]  # a user that is gone is skipped
    )

    for user_id in ids:
        assert len(sent_events(app, user_id)) == 1
        invitation = user(app, user_id).invitation
        assert invitation is not None
        assert invitation.sent_at == at


def test_a_mail_recorded_again_changes_nothing(app: Roster) -> None:
    user_id = register(app).id
    sent = [(user_id, invitation_id(app, user_id), datetime.now(UTC))]
    app.record_invitations_sent(sent)

    app.record_invitations_sent(sent)

    assert len(sent_events(app, user_id)) == 1


def test_the_mail_of_a_replaced_invitation_is_not_recorded_as_sent(app: Roster) -> None:
    user_id = register(app).id
    old = invitation_id(app, user_id)
    app.resend_invitation(user_id, actor=ADMIN)

    app.record_invitations_sent([(user_id, old, datetime.now(UTC))])

    assert sent_events(app, user_id) == []


class ResentMeanwhile(Overtaken):
    """A Roster whose next save is overtaken by a rival resending the invitation of the
    first user it saves: the mail recorded for that user is of a replaced invitation."""

    name = "Roster"  # the same event store (PostgreSQL tables are named after the app)
    resent: UUID | None = None

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        if self.armed:
            self.armed = False
            self.resent = objs[0].id
            self.rival.resend_invitation(objs[0].id, actor="rival")
        return Roster.save(self, *objs, **kwargs)


def test_mails_recorded_while_another_writer_changes_a_user_are_judged_again(
    app: Roster, store_url: str
) -> None:
    ids = [register(app, ann(f"ann.{n}@acme.com")).id for n in range(3)]
    sent = [(user_id, invitation_id(app, user_id), datetime.now(UTC)) for user_id in ids]
    overtaken = ResentMeanwhile(store_url, rival=app)

    overtaken.record_invitations_sent(sent)

    assert overtaken.resent in ids
    for user_id in ids:
        # The resent user's invitation was replaced meanwhile: its mail is not recorded.
        assert len(sent_events(overtaken, user_id)) == (user_id != overtaken.resent)
    overtaken.close()
