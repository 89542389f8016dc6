"""The User aggregate and its invitations, without any database."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidStateError
from domain.invitations import Invitation, InvitationData, InvitationTokens
from domain.statuses import (
    LEGACY_STATUSES,
    TRANSITIONS,
    StatusChangeSource,
    Transition,
    UserStatus,
)
from domain.users import User

S = UserStatus
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(days=7)
TOKENS = InvitationTokens(b"k" * 32)
ADMIN = "admin-1"


def invitation(at: datetime = NOW) -> Invitation:
    return TOKENS.issue(at, TTL)


def register(
    status: UserStatus = S.PENDING,
    source: StatusChangeSource = StatusChangeSource.REGISTRATION,
    invitation_data: InvitationData | None = None,
) -> User:
    return User(
        first_name="Ann",
        last_name="Lee",
        email="ann.lee@acme.com",
        username="ann.lee",
        group_ids=[],
        permissions=[],
        invitation=invitation_data or invitation().as_event_data(),
        status=status,
        source=source,
        actor=ADMIN,
        reason=None,
        import_batch_id=None,
    )


def accept(user: User) -> None:
    assert user.invitation is not None
    user.accept_invitation(user.invitation.id, NOW)


def expire(user: User) -> None:
    user.expire_invitation(NOW + TTL)


def reissue(user: User) -> None:
    user.reissue_invitation(ADMIN, invitation())


def deactivate(user: User) -> None:
    user.deactivate(ADMIN, None)


def reactivate(user: User) -> None:
    user.reactivate(ADMIN, None, invitation())


def erase(user: User) -> None:
    user.erase(ADMIN, "Their request of 30 November", rows=[], key_ids=[user.id])


COMMANDS: dict[Transition, Callable[[User], None]] = {
    Transition.ACCEPT_INVITATION: accept,
    Transition.EXPIRE_INVITATION: expire,
    Transition.REISSUE_INVITATION: reissue,
    Transition.DEACTIVATE: deactivate,
    Transition.REACTIVATE: reactivate,
    Transition.ERASE: erase,
}
WAYS_THERE: dict[UserStatus, list[Callable[[User], None]]] = {
    S.PENDING: [],
    S.ACTIVE: [accept],
    S.EXPIRED: [expire],
    S.DEACTIVATED: [deactivate],
    S.ERASED: [erase],
}


def user_in(status: UserStatus) -> User:
    """A user brought to `status` with no pending events; legacy statuses only by migration."""
    if status in LEGACY_STATUSES:
        user = register(status, StatusChangeSource.LEGACY_MIGRATION)
    else:
        user = register()
        for command in WAYS_THERE[status]:
            command(user)
    user.collect_events()
    return user


def last_event(user: User) -> Any:
    return user.collect_events()[-1]


ALLOWED = [key for key in TRANSITIONS if key[0] is not Transition.REGISTER]
REFUSED = [(verb, status) for verb in COMMANDS for status in S if (verb, status) not in TRANSITIONS]


def transition_id(key: tuple[Transition, UserStatus | None]) -> str:
    return f"{key[0].name}-from-{key[1]}"


# ---------------------------------------------------------------- registration


def test_a_registered_user_is_pending() -> None:
    assert register().status is S.PENDING


def test_a_registered_user_has_not_accepted_an_invitation() -> None:
    assert register().has_accepted is False


def test_a_registered_user_keeps_the_invitation_they_were_issued() -> None:
    issued = invitation()

    assert register(invitation_data=issued.as_event_data()).invitation == issued


def test_registration_records_status_actor_source_and_reason() -> None:
    event = last_event(register())

    assert type(event).__name__ == "Registered"
    assert (event.status, event.actor, event.source, event.reason) == (
        S.PENDING,
        ADMIN,
        StatusChangeSource.REGISTRATION,
        None,
    )


# ---------------------------------------------------------------- the table, both ways


@pytest.mark.parametrize("key", ALLOWED, ids=transition_id)
def test_an_allowed_transition_records_one_event_from_the_status_it_left(
    key: tuple[Transition, UserStatus],
) -> None:
    verb, status = key
    user = user_in(status)

    COMMANDS[verb](user)

    events: list[Any] = list(user.collect_events())
    assert [(e.previous_status, e.status) for e in events] == [(status, user.status)]


@pytest.mark.parametrize("key", REFUSED, ids=transition_id)
def test_a_refused_transition_raises_invalid_state(key: tuple[Transition, UserStatus]) -> None:
    verb, status = key

    with pytest.raises(InvalidStateError, match=f"Cannot {verb} a user who is {status}"):
        COMMANDS[verb](user_in(status))


@pytest.mark.parametrize("key", REFUSED, ids=transition_id)
def test_a_refused_transition_records_no_event(key: tuple[Transition, UserStatus]) -> None:
    verb, status = key
    user = user_in(status)
    version = user.version

    with pytest.raises(InvalidStateError):
        COMMANDS[verb](user)

    assert (user.collect_events(), user.version, user.status) == ([], version, status)


def test_no_sequence_of_commands_reaches_a_legacy_status() -> None:
    reached: set[tuple[UserStatus, bool]] = set()
    frontier = [register()]
    while frontier:
        user = frontier.pop()
        for command in COMMANDS.values():
            after = copy.deepcopy(user)
            try:
                command(after)
            except InvalidStateError:
                continue
            if (after.status, after.has_accepted) not in reached:
                reached.add((after.status, after.has_accepted))
                frontier.append(after)

    assert {status for status, _ in reached} == {
        S.PENDING,
        S.ACTIVE,
        S.EXPIRED,
        S.DEACTIVATED,
        S.ERASED,
    }


# ---------------------------------------------------------------- deactivate


@pytest.mark.parametrize("status", [S.PENDING, S.ACTIVE, S.EXPIRED])
def test_deactivating_makes_the_user_deactivated(status: UserStatus) -> None:
    user = user_in(status)

    user.deactivate(ADMIN, "Left the company.")

    assert user.status is S.DEACTIVATED


def test_deactivation_records_previous_status_status_actor_source_and_reason() -> None:
    user = user_in(S.ACTIVE)

    user.deactivate(ADMIN, "Left the company.")

    event = last_event(user)
    assert type(event).__name__ == "Deactivated"
    assert (event.previous_status, event.status, event.actor, event.source, event.reason) == (
        S.ACTIVE,
        S.DEACTIVATED,
        ADMIN,
        StatusChangeSource.ADMINISTRATOR,
        "Left the company.",
    )


# ---------------------------------------------------------------- reactivate


def test_reactivating_a_user_who_accepted_before_makes_them_active() -> None:
    user = user_in(S.ACTIVE)
    user.deactivate(ADMIN, None)

    user.reactivate(ADMIN, None, invitation())

    assert user.status is S.ACTIVE


def test_reactivating_a_user_who_accepted_before_keeps_their_invitation() -> None:
    user = user_in(S.ACTIVE)
    accepted = user.invitation
    user.deactivate(ADMIN, None)

    user.reactivate(ADMIN, None, invitation())

    assert user.invitation == accepted


@pytest.mark.parametrize("status", [S.DEACTIVATED, *sorted(LEGACY_STATUSES)])
def test_reactivating_a_user_who_never_accepted_makes_them_pending(status: UserStatus) -> None:
    user = user_in(status)

    user.reactivate(ADMIN, None, invitation())

    assert user.status is S.PENDING


def test_reactivating_a_user_who_never_accepted_gives_them_the_new_invitation() -> None:
    user = user_in(S.DEACTIVATED)
    new = invitation(NOW + timedelta(days=30))

    user.reactivate(ADMIN, None, new)

    assert user.invitation == new


def test_reactivation_records_previous_status_status_actor_source_and_reason() -> None:
    user = user_in(S.BLOCKED)

    user.reactivate(ADMIN, "Cleared by HR.", invitation())

    event = last_event(user)
    assert type(event).__name__ == "Reactivated"
    assert (event.previous_status, event.status, event.actor, event.source, event.reason) == (
        S.BLOCKED,
        S.PENDING,
        ADMIN,
        StatusChangeSource.ADMINISTRATOR,
        "Cleared by HR.",
    )


# ---------------------------------------------------------------- accept


def test_accepting_the_current_invitation_makes_a_pending_user_active() -> None:
    user = user_in(S.PENDING)

    accept(user)

    assert (user.status, user.has_accepted) == (S.ACTIVE, True)


def test_accepting_records_when_the_invitation_was_accepted() -> None:
    user = user_in(S.PENDING)
    assert user.invitation is not None

    user.accept_invitation(user.invitation.id, NOW + timedelta(hours=1))

    assert user.invitation.accepted_at == NOW + timedelta(hours=1)


def test_acceptance_is_recorded_as_the_user_themself_by_invitation() -> None:
    user = user_in(S.PENDING)

    accept(user)

    event = last_event(user)
    assert type(event).__name__ == "InvitationAccepted"
    assert (event.previous_status, event.status, event.actor, event.source, event.reason) == (
        S.PENDING,
        S.ACTIVE,
        str(user.id),
        StatusChangeSource.INVITATION,
        None,
    )


def test_accepting_a_replaced_invitation_is_refused_without_an_event() -> None:
    user = user_in(S.PENDING)
    assert user.invitation is not None
    replaced = user.invitation.id
    user.reissue_invitation(ADMIN, invitation())
    user.collect_events()

    with pytest.raises(InvalidStateError, match="replaced by a newer one"):
        user.accept_invitation(replaced, NOW)

    assert (user.collect_events(), user.status) == ([], S.PENDING)


def test_accepting_after_the_invitation_expired_is_refused() -> None:
    user = user_in(S.PENDING)
    assert user.invitation is not None

    with pytest.raises(InvalidStateError):
        user.accept_invitation(user.invitation.id, user.invitation.expires_at + timedelta(days=1))


# ---------------------------------------------------------------- expire


def test_expiring_before_expires_at_is_refused_without_an_event() -> None:
    user = user_in(S.PENDING)

    with pytest.raises(InvalidStateError, match="not expired yet"):
        user.expire_invitation(NOW + TTL - timedelta(microseconds=1))

    assert (user.collect_events(), user.status) == ([], S.PENDING)


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1)], ids=["at", "after"])
def test_expiring_from_expires_at_on_makes_the_user_expired(after: timedelta) -> None:
    user = user_in(S.PENDING)

    user.expire_invitation(NOW + TTL + after)

    assert user.status is S.EXPIRED


def test_expiry_is_recorded_as_the_system_by_expiry() -> None:
    user = user_in(S.PENDING)

    expire(user)

    event = last_event(user)
    assert type(event).__name__ == "InvitationExpired"
    assert (event.previous_status, event.status, event.actor, event.source, event.reason) == (
        S.PENDING,
        S.EXPIRED,
        "system",
        StatusChangeSource.EXPIRY,
        None,
    )


# ---------------------------------------------------------------- reissue


@pytest.mark.parametrize("status", [S.PENDING, S.EXPIRED])
def test_reissuing_makes_the_user_pending(status: UserStatus) -> None:
    user = user_in(status)

    user.reissue_invitation(ADMIN, invitation())

    assert user.status is S.PENDING


@pytest.mark.parametrize("status", [S.PENDING, S.EXPIRED])
def test_reissuing_replaces_the_invitation(status: UserStatus) -> None:
    user = user_in(status)
    new = invitation(NOW + timedelta(days=8))

    user.reissue_invitation(ADMIN, new)

    assert user.invitation == new


def test_reissuing_records_previous_status_status_actor_source_and_reason() -> None:
    user = user_in(S.EXPIRED)

    reissue(user)

    event = last_event(user)
    assert type(event).__name__ == "InvitationReissued"
    assert (event.previous_status, event.status, event.actor, event.source, event.reason) == (
        S.EXPIRED,
        S.PENDING,
        ADMIN,
        StatusChangeSource.ADMINISTRATOR,
        None,
    )


# ---------------------------------------------------------------- access


def test_setting_different_access_records_access_changed() -> None:
    user = user_in(S.ACTIVE)
    group_id = uuid4()

    user.set_access([group_id], ["users:read"], ADMIN)

    event = last_event(user)
    assert (type(event).__name__, user.group_ids, user.permissions) == (
        "AccessChanged",
        [group_id],
        ["users:read"],
    )


def test_setting_the_same_access_records_nothing() -> None:
    user = user_in(S.ACTIVE)

    user.set_access([], [], ADMIN)

    assert user.collect_events() == []


# ---------------------------------------------------------------- history


def test_a_user_rebuilt_from_their_events_has_the_same_status_and_invitation() -> None:
    user = register()
    accept(user)
    user.deactivate(ADMIN, None)
    user.reactivate(ADMIN, None, invitation())
    rebuilt: Any = None
    for event in user.collect_events():
        rebuilt = event.mutate(rebuilt)

    assert (rebuilt.status, rebuilt.has_accepted, rebuilt.invitation) == (
        S.ACTIVE,
        True,
        user.invitation,
    )


# ---------------------------------------------------------------- invitation tokens


def test_a_token_is_the_same_each_time_for_the_same_invitation() -> None:
    invitation_id = uuid4()

    assert TOKENS.token_for(invitation_id) == InvitationTokens(b"k" * 32).token_for(invitation_id)


def test_a_token_differs_between_keys() -> None:
    invitation_id = uuid4()

    assert TOKENS.token_for(invitation_id) != InvitationTokens(b"j" * 32).token_for(invitation_id)


def test_a_token_differs_between_invitations() -> None:
    assert TOKENS.token_for(uuid4()) != TOKENS.token_for(uuid4())


def test_a_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        InvitationTokens(b"k" * 31)


def test_an_issued_invitation_expires_after_the_ttl() -> None:
    issued = invitation()

    assert (issued.issued_at, issued.expires_at) == (NOW, NOW + TTL)


def test_an_issued_invitation_stores_the_hash_of_its_token() -> None:
    issued = invitation()

    assert issued.token_hash == InvitationTokens.hash(TOKENS.token_for(issued.id))


def test_an_invitation_event_data_never_holds_its_token() -> None:
    issued = invitation()
    token = TOKENS.token_for(issued.id)

    assert all(token not in str(value) for value in issued.as_event_data().values())


def test_the_registered_event_never_holds_the_token() -> None:
    issued = invitation()
    event = last_event(register(invitation_data=issued.as_event_data()))

    assert TOKENS.token_for(issued.id) not in repr(event.__dict__)
