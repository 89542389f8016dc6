"""Who a caller is: the profiles an organisation gives the people who manage users."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Profile(StrEnum):
    USER_MANAGEMENT_ADMIN = "USER_MANAGEMENT_ADMIN"
    USER_MANAGEMENT_VIEWER = "USER_MANAGEMENT_VIEWER"
    AUDITOR = "AUDITOR"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: `subject` is the actor recorded on every event it causes."""

    subject: str
    profiles: frozenset[Profile]

    def has_any(self, profiles: frozenset[Profile]) -> bool:
        return bool(self.profiles & profiles)
