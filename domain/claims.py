"""Claims on unique values: one aggregate per claimed email, username or group name.

A claim's id is derived from what it claims, so two writers claiming the same value
write the same (originator_id, version 1) and the event store lets only one of them
through, in the same atomic save as the user or group that holds it.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class ClaimKind(StrEnum):
    EMAIL = "emails"
    USERNAME = "usernames"
    GROUP_NAME = "group-names"


class Claim(Aggregate):
    """Holds one unique value for its owner (a user or a group)."""

    @staticmethod
    def create_id(kind: ClaimKind, key: str, owner_id: UUID) -> UUID:
        return claim_id(kind, key)

    @event("Claimed")
    def __init__(self, kind: ClaimKind, key: str, owner_id: UUID) -> None:
        self.kind = kind
        self.key = key
        self.owner_id = owner_id


def claim_id(kind: ClaimKind, key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/{kind}/{key}")
