"""The columns that keep a token subject as actor or uploader, and their erasure
(domain.actor_erasure's `ActorRecords`).

A read model copies actors out of the events; once an actor's key is destroyed, the
events give their pseudonym instead, so a rebuild would write the pseudonym where the
subject was. Erasing the actor writes it there at once, in the transaction that
destroys the key. The outbox (`mail_deliveries`) is work in progress that a rebuild
keeps as it is: it is rewritten the same way, or it would keep the subject for good.
"""

from __future__ import annotations

from uuid import UUID

from projections.database import ReadDatabase
from projections.follower import Follower
from store.keyring import Keyring

#: Every (table, column) that holds a token subject copied from an event's actor.
ACTOR_COLUMNS = (
    ("status_changes", "actor"),
    ("import_batches", "created_by"),
    ("bulk_actions", "actor"),
    ("mail_deliveries", "inviter"),
)


class ActorColumns:
    def __init__(self, database: ReadDatabase, keyring: Keyring, read_model: Follower) -> None:
        self.database = database
        self.keyring = keyring
        self.read_model = read_model

    def key_id(self, subject: str) -> UUID | None:
        with self.database.reading() as cursor:
            return self.keyring.actor_key_id(cursor, subject)

    def erase(self, subject: str, key_id: UUID, pseudonym: str) -> None:
        """The read model first takes in every event recorded so far (the subject's rows are
        all there to rewrite); no pass of it runs while the rows are rewritten, so none
        can write the subject back from events it opened with the key."""
        self.read_model.catch_up()
        # A read of events between `destroy` and the commit may cache the key again: it is
        # forgotten once more before this process's read model opens any event.
        with self.read_model.holding(then=lambda: self.keyring.forget([key_id])) as cursor:
            for table, column in ACTOR_COLUMNS:
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {column} = %s",
                    (pseudonym, subject),
                )
            self.keyring.destroy([key_id], cursor)
