"""Unique values (emails, usernames, group names) and the port that guards them.

The event store records a registration's unique keys in the same atomic write as its
events, so two writers that claim the same value cannot both succeed: the second
write fails whole and records nothing. `taken` answers which keys are held already,
for clear refusals and for choosing free usernames before writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class KeyKind(StrEnum):
    EMAIL = "email"
    USERNAME = "username"
    GROUP_NAME = "group-name"


@dataclass(frozen=True)
class UniqueKey:
    kind: KeyKind
    key: str
    owner_id: UUID


class UniqueKeys(Protocol):
    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        """Those of `keys` that are held already."""
        ...


class KeyOwners(UniqueKeys, Protocol):
    def owners(self, kind: KeyKind, keys: Sequence[str]) -> dict[str, UUID]:
        """The owner of each of `keys` that is held."""
        ...

    def held_by(self, owner_id: UUID) -> list[UniqueKey]:
        """Every key the owner holds (a look through all of them: for the rare erasure
        of a person whose email can no longer be read)."""
        ...
