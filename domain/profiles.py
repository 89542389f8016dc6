"""Who a caller is: the profiles an organisation gives the people who manage users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Profile(StrEnum):
    USER_MANAGEMENT_ADMIN = "USER_MANAGEMENT_ADMIN"
    USER_MANAGEMENT_VIEWER = "USER_MANAGEMENT_VIEWER"
    AUDITOR = "AUDITOR"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: `subject` is the actor recorded on every event it causes;
    `expires_at` is when the proof of who it is (its token) runs out, if it does."""

    subject: str
    profiles: frozenset[Profile]
    expires_at: datetime | None = None

    def has_any(self, profiles: frozenset[Profile]) -> bool:
        return bool(self.profiles & profiles)
