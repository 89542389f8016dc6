"""Which unique keys are held, asked of the store in bulk (see `KeyLookup`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from domain import values
from domain.uniqueness import KeyKind, UniqueKey, UniqueKeys

if TYPE_CHECKING:
    from domain.application import NewUser


class KeyLookup:
    """Which unique keys are held: asks the store for many keys at once and remembers,
    counting keys held by earlier rows of the same batch. Only a look-ahead: the atomic
    write is what guarantees uniqueness."""

    def __init__(self, store: UniqueKeys) -> None:
        self._store = store
        self._known: dict[tuple[KeyKind, str], bool] = {}
        #: Groups checked to exist for the whole batch.
        self.known_groups: set[UUID] = set()

    def prefetch(self, kind: KeyKind, keys: Sequence[str]) -> None:
        unknown = [key for key in dict.fromkeys(keys) if (kind, key) not in self._known]
        if unknown:
            held = self._store.taken(kind, unknown)
            self._known.update(((kind, key), key in held) for key in unknown)

    def prefetch_for(self, batch: Sequence[NewUser]) -> None:
        emails, usernames = [], []
        for new in batch:
            try:
                emails.append(values.email_key(values.clean(new.email)))
                usernames.append(
                    values.username_key(
                        values.clean(new.username or "") or values.username_base(new.email)
                    )
                )
            except ValueError:
                continue  # reported when the row itself is checked
        self.prefetch(KeyKind.EMAIL, emails)
        self.prefetch(KeyKind.USERNAME, usernames)

    def is_held(self, kind: KeyKind, key: str) -> bool:
        known = self._known.get((kind, key))
        if known is None:
            self.prefetch(kind, [key])
            known = self._known[(kind, key)]
        return known

    def hold(self, keys: Sequence[UniqueKey]) -> None:
        self._known.update(((key.kind, key.key), True) for key in keys)
