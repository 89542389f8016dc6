"""The table of status transitions and the status definitions derived from it."""

from __future__ import annotations

import pytest

from domain.statuses import (
    LEGACY_STATUSES,
    MEANINGS,
    REACTIVATE_WITHOUT_ACCEPTANCE,
    TRANSITIONS,
    Transition,
    UserStatus,
    allowed,
    sources_of,
    status_definitions,
)

S = UserStatus
CURRENT_STATUSES = sorted(set(UserStatus) - LEGACY_STATUSES - {UserStatus.ERASED})


def test_registration_leads_to_pending() -> None:
    assert TRANSITIONS[(Transition.REGISTER, None)] is S.PENDING


def test_registration_is_the_only_transition_from_not_registered() -> None:
    assert [verb for (verb, current) in TRANSITIONS if current is None] == [Transition.REGISTER]


def test_the_legacy_statuses_are_blocked_and_disabled() -> None:
    assert frozenset({S.BLOCKED, S.DISABLED}) == LEGACY_STATUSES


@pytest.mark.parametrize("legacy", sorted(LEGACY_STATUSES))
def test_no_transition_leads_to_a_legacy_status(legacy: UserStatus) -> None:
    assert legacy not in TRANSITIONS.values()


def test_reactivation_without_acceptance_leads_to_a_current_status() -> None:
    assert REACTIVATE_WITHOUT_ACCEPTANCE is S.PENDING


def test_deactivation_is_allowed_from_pending_active_and_expired_only() -> None:
    assert sources_of(Transition.DEACTIVATE) == [S.PENDING, S.ACTIVE, S.EXPIRED]


def test_reissuing_is_allowed_from_pending_and_expired_only() -> None:
    assert sources_of(Transition.REISSUE_INVITATION) == [S.PENDING, S.EXPIRED]


@pytest.mark.parametrize("verb", [Transition.ACCEPT_INVITATION, Transition.EXPIRE_INVITATION])
def test_accepting_and_expiring_are_allowed_from_pending_only(verb: Transition) -> None:
    assert sources_of(verb) == [S.PENDING]


def test_reactivation_is_allowed_from_deactivated_and_legacy_statuses_only() -> None:
    assert set(sources_of(Transition.REACTIVATE)) == {S.DEACTIVATED, S.BLOCKED, S.DISABLED}


@pytest.mark.parametrize("current", [None, *UserStatus])
@pytest.mark.parametrize("verb", list(Transition))
def test_allowed_answers_from_the_table(verb: Transition, current: UserStatus | None) -> None:
    assert allowed(verb, current) is ((verb, current) in TRANSITIONS)


def test_status_definitions_list_every_status_once_in_order() -> None:
    assert [definition.status for definition in status_definitions()] == list(UserStatus)


@pytest.mark.parametrize("legacy", sorted(LEGACY_STATUSES))
def test_a_legacy_status_is_defined_as_legacy_and_not_assignable(legacy: UserStatus) -> None:
    definition = next(d for d in status_definitions() if d.status is legacy)

    assert (definition.legacy, definition.assignable) == (True, False)


@pytest.mark.parametrize("current", CURRENT_STATUSES)
def test_a_current_status_is_defined_as_assignable_and_not_legacy(current: UserStatus) -> None:
    definition = next(d for d in status_definitions() if d.status is current)

    assert (definition.legacy, definition.assignable) == (False, True)


def test_erased_is_reached_by_erasure_alone_and_left_by_nothing() -> None:
    definition = next(d for d in status_definitions() if d.status is UserStatus.ERASED)
    into = {verb for (verb, _), reached in TRANSITIONS.items() if reached is UserStatus.ERASED}
    out = [key for key in TRANSITIONS if key[1] is UserStatus.ERASED]

    assert (definition.legacy, definition.assignable, into, out) == (
        False,
        False,
        {Transition.ERASE},
        [],
    )


def test_every_status_definition_carries_its_meaning() -> None:
    assert all(d.meaning == MEANINGS[d.status] and d.meaning for d in status_definitions())


@pytest.mark.parametrize("legacy", sorted(LEGACY_STATUSES))
def test_a_legacy_meaning_says_it_is_never_assigned(legacy: UserStatus) -> None:
    assert MEANINGS[legacy].startswith("Legacy:")
