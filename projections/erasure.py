"""What erasing a person (User.Erased) does to the read models.

The rule: each table ends as a rebuild writes it. A rebuild reads the person's events
without their keys, so every personal field comes back as its erased value (see
domain/personal.py); the live read model must write exactly those values when it meets
the erasure, or a rebuild would change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.personal import ERASED_KEYS, ERASED_ROW
from domain.users import User
from projections.database import Cursor
from projections.encoding import to_json
from store.keyring import Keyring

_BLANK_ROW = (
    "first_name = %s, last_name = %s, email = %s, username = %s, email_key = %s,"
    " username_key = %s, errors = %s, erased = 1"
)


def erase_rows(cursor: Cursor, event: Any) -> None:
    """The rows of files about the person (the event's, and the row that registered
    them) as a rebuild reads them: blank values, no keys, no errors (their messages
    quote the values). Their status, user and action stay: they are not about the
    person but about the import."""
    blank = (*ERASED_ROW, *ERASED_KEYS, to_json([]))
    cursor.executemany(
        f"UPDATE import_rows SET {_BLANK_ROW} WHERE batch_id = %s AND row_number = %s",
        [(*blank, str(batch_id), int(number)) for batch_id, number in event.rows],
    )
    cursor.execute(
        f"UPDATE import_rows SET {_BLANK_ROW} WHERE user_id = %s",
        (*blank, str(event.originator_id)),
    )


class ErasedKeysView:
    """Destroys the keys of each User.Erased again, as the read model meets it.

    `Roster.erase_user` records the erasure, then destroys the keys it lists: a process
    that dies between the two leaves the keys behind. The follower applies every event
    exactly once, in the same transaction as its position, so destroying them here with
    the read model's cursor makes sure they go however the erasing process ended.
    Destroying keys that are gone already changes nothing.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def clear(self, cursor: Cursor) -> None:
        """Nothing: the keys are not a read model, and a rebuild never brings one back."""

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        for event, _ in events:
            if isinstance(event, User.Erased):
                self.keyring.destroy(event.key_ids, cursor)
