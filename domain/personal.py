"""Which fields of an event hold personal data, and whose.

An event class lists its personal fields in `__personal__`. The event store encrypts
each of them with the key of the person it is about (store/keyring.py), and erasing a
person destroys that key: the events stay, their personal fields can no longer be read
(crypto-shredding). Read back without the key, a field gives its `erased` value.

- `About`: fields about the aggregate's own person (a User's name, email, username).
- `Actor`: a token subject who did something (an actor, an uploader). Its key is the
  subject's own, found by the subject; once erased, the field reads as the subject's
  stable pseudonym (`pseudonym`).
- `Rows`: a list whose items are each about one row of an import batch: item i about
  row `event.<start> + i`. `part` names the one key of each item (a dict) that is
  personal, when the rest (a row's status) is not.
- `ByRow`: a dict keyed by row number, each value about its row, `part` as in `Rows`.

A row's person is the user the row registers (`ImportBatch.user_id_for`): the same key
serves the row's values before the commit and the user's events after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

#: What an erased name, email or username reads as.
ERASED_TEXT = ""
#: What an erased row of a file reads as: first name, last name, email, username.
ERASED_ROW: list[str | None] = ["", "", "", None]
#: An erased row's email and username keys.
ERASED_KEYS: list[str | None] = [None, None]


@dataclass(frozen=True)
class About:
    fields: tuple[str, ...]
    erased: Any = ERASED_TEXT


@dataclass(frozen=True)
class Actor:
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Rows:
    field: str
    start: str
    erased: Any
    part: str | None = None


@dataclass(frozen=True)
class ByRow:
    field: str
    erased: Any
    part: str | None = None


Declaration = About | Actor | Rows | ByRow


def about(*fields: str) -> About:
    return About(fields)


def actors(*fields: str) -> Actor:
    return Actor(fields)


def full_name(first_name: str, last_name: str) -> str:
    """A person's name as shown and as mails are addressed; empty once they are erased
    (both names read "")."""
    return " ".join(name for name in (first_name, last_name) if name)


def pseudonym(key_id: UUID) -> str:
    """What an erased actor reads as, everywhere: the same for all their actions, and
    telling nothing about them (their key's id is random)."""
    return f"erased-actor-{key_id.hex[:12]}"


def is_pseudonym(subject: str) -> bool:
    return subject.startswith("erased-actor-")
