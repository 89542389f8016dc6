"""User statuses and the one table of allowed transitions.

The table is the single source of truth: the aggregate consults it before recording
a status change, and `statusDefinitions` is derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UserStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DEACTIVATED = "DEACTIVATED"
    BLOCKED = "BLOCKED"
    DISABLED = "DISABLED"
    #: The person was erased (eraseUser): no transition leads out.
    ERASED = "ERASED"


class StatusChangeSource(StrEnum):
    REGISTRATION = "REGISTRATION"
    IMPORT = "IMPORT"
    INVITATION = "INVITATION"
    ADMINISTRATOR = "ADMINISTRATOR"
    EXPIRY = "EXPIRY"
    LEGACY_MIGRATION = "LEGACY_MIGRATION"
    #: Deactivated because the import that created the user was reverted (revertImport).
    IMPORT_REVERT = "IMPORT_REVERT"
    #: The person was erased at their request (eraseUser).
    ERASURE = "ERASURE"


class Transition(StrEnum):
    """The verbs that move a user between statuses."""

    REGISTER = "register"
    ACCEPT_INVITATION = "accept invitation"
    EXPIRE_INVITATION = "expire invitation"
    REISSUE_INVITATION = "reissue invitation"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    ERASE = "erase"


S = UserStatus

#: (transition, from status) -> status reached. `None` is "not registered yet".
TRANSITIONS: dict[tuple[Transition, UserStatus | None], UserStatus] = {
    (Transition.REGISTER, None): S.PENDING,
    (Transition.ACCEPT_INVITATION, S.PENDING): S.ACTIVE,
    (Transition.EXPIRE_INVITATION, S.PENDING): S.EXPIRED,
    (Transition.REISSUE_INVITATION, S.PENDING): S.PENDING,
    (Transition.REISSUE_INVITATION, S.EXPIRED): S.PENDING,
    (Transition.DEACTIVATE, S.PENDING): S.DEACTIVATED,
    (Transition.DEACTIVATE, S.ACTIVE): S.DEACTIVATED,
    (Transition.DEACTIVATE, S.EXPIRED): S.DEACTIVATED,
    # Reactivation leads to ACTIVE when the user had accepted an invitation before,
    # otherwise to PENDING with a new invitation: see User.reactivate.
    (Transition.REACTIVATE, S.DEACTIVATED): S.ACTIVE,
    (Transition.REACTIVATE, S.BLOCKED): S.ACTIVE,
    (Transition.REACTIVATE, S.DISABLED): S.ACTIVE,
}
# Erasure is the end, from every status but itself.
TRANSITIONS.update({(Transition.ERASE, status): S.ERASED for status in S if status is not S.ERASED})

#: Where reactivation leads for a user who never accepted an invitation.
REACTIVATE_WITHOUT_ACCEPTANCE = S.PENDING

LEGACY_STATUSES = frozenset({S.BLOCKED, S.DISABLED})


def allowed(transition: Transition, current: UserStatus | None) -> bool:
    return (transition, current) in TRANSITIONS


def sources_of(transition: Transition) -> list[UserStatus | None]:
    return [current for (verb, current) in TRANSITIONS if verb is transition]


@dataclass(frozen=True)
class StatusDefinition:
    status: UserStatus
    meaning: str
    legacy: bool
    assignable: bool


MEANINGS: dict[UserStatus, str] = {
    S.PENDING: "Invited: the invitation was issued to the access email and is neither "
    "accepted nor expired.",
    S.ACTIVE: "The invitation was accepted.",
    S.EXPIRED: "The invitation expired before it was accepted. Resending it makes the user "
    "PENDING again.",
    S.DEACTIVATED: "An administrator removed the user's access.",
    S.BLOCKED: "Legacy: historical reference only. Never assigned to a new registration or "
    "by any transition.",
    S.DISABLED: "Legacy: historical reference only. Never assigned to a new registration or "
    "by any transition.",
    S.ERASED: "Erased at the person's request: their name, email and username are gone for "
    "good, their status history remains. Only eraseUser leads here, and nothing leads out.",
}


def status_definitions() -> list[StatusDefinition]:
    reachable = set(TRANSITIONS.values()) - {S.ERASED} | {REACTIVATE_WITHOUT_ACCEPTANCE}
    return [
        StatusDefinition(
            status=status,
            meaning=MEANINGS[status],
            legacy=status in LEGACY_STATUSES,
            assignable=status in reachable,
        )
        for status in UserStatus
    ]
