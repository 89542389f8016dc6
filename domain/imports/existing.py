"""What an import does with a row whose email belongs to a registered user (EXISTING):
the reviewer picks an action per row, and the commit carries it out once.

Which action fits which status comes from the transition table (`domain.statuses`):
RESEND_INVITATION is the reissue of an invitation, REACTIVATE a reactivation; SKIP
and UPDATE_ACCESS fit every status.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.errors import InvalidStateError
from domain.statuses import Transition, UserStatus, allowed, sources_of


class ExistingUserAction(StrEnum):
    SKIP = "SKIP"
    RESEND_INVITATION = "RESEND_INVITATION"
    REACTIVATE = "REACTIVATE"
    UPDATE_ACCESS = "UPDATE_ACCESS"

    @property
    def transition(self) -> Transition | None:
        return _TRANSITIONS.get(self)

    def fits(self, status: UserStatus) -> bool:
        transition = self.transition
        return transition is None or allowed(transition, status)

    def statuses(self) -> list[UserStatus]:
        """The statuses the action fits."""
        transition = self.transition
        if transition is None:
            return list(UserStatus)
        return [status for status in sources_of(transition) if status is not None]


_TRANSITIONS = {
    ExistingUserAction.RESEND_INVITATION: Transition.REISSUE_INVITATION,
    ExistingUserAction.REACTIVATE: Transition.REACTIVATE,
}

#: How many row numbers a refusal names before it says how many more.
NAMED_ROWS = 20


def rows_named(numbers: Iterable[int]) -> str:
    """'rows 2, 5 and 9', at most NAMED_ROWS of them, then how many more."""
    ordered = sorted(numbers)
    shown = [str(n) for n in ordered[:NAMED_ROWS]]
    more = len(ordered) - len(shown)
    if more:
        return f"rows {', '.join(shown)} and {more} more"
    if len(shown) == 1:
        return f"row {shown[0]}"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"


def check_fit(action: ExistingUserAction, statuses: dict[int, UserStatus]) -> None:
    """InvalidState naming the rows (by row number) whose user's status the action does
    not fit; nothing when it fits them all."""
    unfit = [number for number, status in statuses.items() if not action.fits(status)]
    if unfit:
        fits = ", ".join(action.statuses())
        raise InvalidStateError(
            f"{action} does not fit the user of {rows_named(unfit)}: it is only for users "
            f"who are {fits}. Choose another action for those rows."
        )
