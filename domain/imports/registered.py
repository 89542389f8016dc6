"""Which of a file's emails and usernames are registered already, and by whom.

The one fact of a review that comes from outside the file. `HeldKeys.look_up` asks the
store once per kind for a whole chunk of rows; the answer is plain data, so an event
can record it and a replay can review the same rows against the same answer.

Asked of `RegisteredPeople` (the store's key owners and the users' statuses), the
answer also says who holds each registered email: such a row is that same person
(EXISTING), not an error. Asked of bare `UniqueKeys`, a registered email is
EMAIL_TAKEN, as in batches reviewed before people were recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from uuid import UUID

from domain.imports.rows import CheckedRow, RowError, shown
from domain.statuses import UserStatus
from domain.uniqueness import KeyKind, UniqueKeys


@dataclass(frozen=True, slots=True)
class ExistingUser:
    """The registered user a row's email belongs to, with their status when reviewed."""

    user_id: UUID
    status: UserStatus


@runtime_checkable
class RegisteredPeople(UniqueKeys, Protocol):
    def owners(self, kind: KeyKind, keys: Sequence[str]) -> dict[str, UUID]:
        """The owner of each of `keys` that is held."""
        ...

    def statuses(self, user_ids: Sequence[UUID]) -> dict[UUID, UserStatus]:
        """The status of each of these users now."""
        ...


@dataclass(frozen=True)
class HeldKeys:
    """The email and username keys found registered: a `UniqueKeys` that answers from them.
    `people` gives the user of each email key whose holder is known, `username_owners`
    the holder of each username key whose holder is known."""

    emails: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    people: Mapping[str, ExistingUser] = field(default_factory=dict)
    username_owners: Mapping[str, UUID] = field(default_factory=dict)

    @classmethod
    def look_up(cls, rows: Iterable[CheckedRow], registered: UniqueKeys) -> HeldKeys:
        """One question per kind, whatever the number of rows; none when no row has a key.
        Keys found already (a replay, an edit worked out from the table) answer as they are."""
        if isinstance(registered, HeldKeys):
            return registered
        emails: dict[str, None] = {}
        usernames: dict[str, None] = {}
        for row in rows:
            if (email := row.email_key()) is not None:
                emails[email] = None
            if (username := row.username_key()) is not None:
                usernames[username] = None
        if isinstance(registered, RegisteredPeople):
            return cls._of_people(registered, list(emails), list(usernames))
        return cls(
            frozenset(_taken(registered, KeyKind.EMAIL, list(emails))),
            frozenset(_taken(registered, KeyKind.USERNAME, list(usernames))),
        )

    @classmethod
    def _of_people(
        cls, registered: RegisteredPeople, emails: list[str], usernames: list[str]
    ) -> HeldKeys:
        email_owners = registered.owners(KeyKind.EMAIL, emails) if emails else {}
        username_owners = registered.owners(KeyKind.USERNAME, usernames) if usernames else {}
        ids = list(dict.fromkeys(email_owners.values()))
        statuses = registered.statuses(ids) if ids else {}
        return cls(
            frozenset(email_owners),
            frozenset(username_owners),
            {
                key: ExistingUser(owner, statuses[owner])
                for key, owner in email_owners.items()
                if owner in statuses
            },
            username_owners,
        )

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        held = self.emails if kind is KeyKind.EMAIL else self.usernames
        return {key for key in keys if key in held}

    def existing(self, row: CheckedRow) -> ExistingUser | None:
        """The registered user whose email the row has, when known."""
        key = row.email_key()
        return None if key is None else self.people.get(key)

    def errors(self, row: CheckedRow) -> tuple[RowError, ...]:
        """EMAIL_TAKEN (an email held by a user not known) and USERNAME_TAKEN (a username
        held by someone else than the row's existing user), as the row deserves."""
        errors: list[RowError] = []
        person = self.existing(row)
        if row.email is not None and row.email_key() in self.emails and person is None:
            errors.append(
                RowError(
                    "email",
                    "EMAIL_TAKEN",
                    f"The access email {shown(row.email)} is already registered; "
                    "exclude this row or use another email.",
                )
            )
        username = row.username_key()
        if row.username is not None and username in self.usernames:
            owner = self.username_owners.get(username)
            if person is None or owner != person.user_id:
                errors.append(
                    RowError(
                        "username",
                        "USERNAME_TAKEN",
                        f"The username {shown(row.username)} is already taken; "
                        "choose another or leave it out to have one derived from the email.",
                    )
                )
        return tuple(errors)


def _taken(registered: UniqueKeys, kind: KeyKind, keys: list[str]) -> set[str]:
    return registered.taken(kind, keys) if keys else set()
