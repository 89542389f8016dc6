"""The commit's part for EXISTING rows: each row's chosen action carried out on its user.

`carry_out` changes the users in memory only; the commit saves them in the same atomic
write as the batch's RowsRegistered event for their range, so after a crash either
both were recorded or neither (then the range is done again, from the users as they
are), and no action is applied twice.

An action is checked again against the user's status now: a user who changed status
since the review (accepted their invitation, say) is not changed, and the row ends
FAILED saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from domain.errors import InvalidStateError
from domain.imports.existing import ExistingUserAction
from domain.imports.review import RowError
from domain.imports.table import StoredRow
from domain.invitations import Invitation
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User

IMPORT = StatusChangeSource.IMPORT


@dataclass
class ActionOutcome:
    """The rows UPDATED, SKIPPED and FAILED, and the users to save with the range."""

    updated: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, list[RowError]] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)


@dataclass(frozen=True)
class Orders:
    """What the actions need besides the rows: who commits, which batch (for the reason
    a reactivation records), each row's access, and fresh invitations."""

    actor: str
    filename: str
    access: Callable[[int], tuple[list[UUID], list[str]]]
    new_invitation: Callable[[], Invitation]


def acting(rows: Sequence[StoredRow]) -> list[UUID]:
    """The users whose rows have an action other than SKIP."""
    return [
        row.existing.user_id
        for row in rows
        if row.existing is not None and row.action not in (None, ExistingUserAction.SKIP)
    ]


def carry_out(rows: Sequence[StoredRow], users: dict[UUID, User], orders: Orders) -> ActionOutcome:
    """Applies each EXISTING row's action to its user (from `users`, as loaded now)."""
    outcome = ActionOutcome()
    for row in rows:
        action = row.action or ExistingUserAction.SKIP
        if action is ExistingUserAction.SKIP or row.existing is None:
            outcome.skipped.append(row.number)
            continue
        user = users.get(row.existing.user_id)
        if user is not None and user.status is UserStatus.ERASED:
            outcome.skipped.append(row.number)  # nothing is done to an erased person
            continue
        if user is None:
            outcome.failed[row.number] = [_gone(row)]
            continue
        try:
            _apply(action, user, row.number, orders)
        except InvalidStateError:
            outcome.failed[row.number] = [_status_changed(row, user, action)]
            continue
        outcome.updated.append(row.number)
        if user.pending_events:
            outcome.users.append(user)
    return outcome


def _apply(action: ExistingUserAction, user: User, row_number: int, orders: Orders) -> None:
    if action is ExistingUserAction.RESEND_INVITATION:
        user.reissue_invitation(orders.actor, orders.new_invitation(), source=IMPORT)
    elif action is ExistingUserAction.REACTIVATE:
        user.reactivate(
            orders.actor,
            f"Invited again by the import of {orders.filename}.",
            orders.new_invitation(),
            source=IMPORT,
            invite_again=True,
        )
    elif action is ExistingUserAction.UPDATE_ACCESS:
        group_ids, permissions = orders.access(row_number)
        groups = sorted(set(group_ids), key=str)
        user.set_access(groups, list(permissions), orders.actor, source=IMPORT)


def _status_changed(row: StoredRow, user: User, action: ExistingUserAction) -> RowError:
    assert row.existing is not None
    return RowError(
        None,
        "USER_STATUS_CHANGED",
        f"The user of {row.values.email} is {user.status} now, no longer "
        f"{row.existing.status} as when reviewed: {action} was not carried out. Do it "
        "on the user directly if it is still wanted.",
    )


def _gone(row: StoredRow) -> RowError:
    return RowError(
        "email",
        "USER_NOT_FOUND",
        f"The user the review found for {row.values.email} was not found at commit time.",
    )
