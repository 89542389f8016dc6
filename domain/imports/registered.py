"""Which of a file's emails and usernames are registered already.

The one fact of a review that comes from outside the file. `HeldKeys.look_up` asks the
store once per kind for a whole chunk of rows; the answer is plain data, so an event
can record it and a replay can review the same rows against the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.imports.rows import CheckedRow, RowError, shown
from domain.uniqueness import KeyKind, UniqueKeys


@dataclass(frozen=True)
class HeldKeys:
    """The email and username keys found registered: a `UniqueKeys` that answers from them."""

    emails: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()

    @classmethod
    def look_up(cls, rows: Iterable[CheckedRow], registered: UniqueKeys) -> HeldKeys:
        """One question per kind, whatever the number of rows; none when no row has a key."""
        emails: dict[str, None] = {}
        usernames: dict[str, None] = {}
        for row in rows:
            if (email := row.email_key()) is not None:
                emails[email] = None
            if (username := row.username_key()) is not None:
                usernames[username] = None
        return cls(
            frozenset(_taken(registered, KeyKind.EMAIL, list(emails))),
            frozenset(_taken(registered, KeyKind.USERNAME, list(usernames))),
        )

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        held = self.emails if kind is KeyKind.EMAIL else self.usernames
        return {key for key in keys if key in held}

    def errors(self, row: CheckedRow) -> tuple[RowError, ...]:
        """EMAIL_TAKEN and USERNAME_TAKEN, as the row deserves."""
        errors: list[RowError] = []
        if row.email is not None and row.email_key() in self.emails:
            errors.append(
                RowError(
                    "email",
                    "EMAIL_TAKEN",
                    f"The access email {shown(row.email)} is already registered; "
                    "exclude this row or use another email.",
                )
            )
        if row.username is not None and row.username_key() in self.usernames:
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
