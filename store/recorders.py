"""Application recorders that also write unique keys, atomically with the events.

`Roster.save(..., unique_keys=[...])` passes the keys down to `insert_events`; they go
into the `unique_keys` table (primary key: kind and key) in the same transaction as
the events, so a clash fails the whole write with IntegrityError. This is the pattern
of the library's `searchabletimestamps` example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor as PgCursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.uniqueness import KeyKind, UniqueKey
from store.mapper import COMPRESSED_STATE_SIZE

CHUNK = 500  # keys per look-up statement
#: How long a connection pool tries to replace a lost connection before it gives up on it
#: (the next caller to wait for one starts afresh). psycopg_pool doubles its pause after
#: each failed attempt: with its default of five minutes, the connections lost when the
#: database restarted came back up to as long after it as it had been down.
RECONNECT_SECONDS = 5.0

#: SQLite's page cache per connection (negative: KiB), 8 MiB: a server holds a dozen
#: connections or more, and caches of 64 MiB each took its RSS from 300 to 460 MiB at
#: 300,000 users, with no gain in speed (the pages stay in the system's file cache).
CACHE_KIB = -8192
#: Checkpoint every ~40 MB of log rather than 4 MB: a bulk write's pages are copied back
#: once, not again after every few transactions.
CHECKPOINT_PAGES = 10000

#: The advisory lock that makes the event store's tables one process at a time (any
#: number unlikely to be another application's).
CREATE_TABLES_LOCK = 7283392

Method = TypeVar("Method", bound=Callable[..., Any])


def _retried(method: Method) -> Method:
    """The retries the library gives its own recorders' reads and writes: a call whose
    connection was lost (or that found none for a while) is made again, on a fresh one.
    So our reads ride out a restart of the database as the library's do."""
    again = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    return cast(Method, again(method))


def _rows(keys: Sequence[UniqueKey]) -> list[tuple[str, str, str]]:
    return [(str(k.kind), k.key, str(k.owner_id)) for k in keys]


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        UUID(str(row["originator_id"])),
        row["originator_version"],
        row["topic"],
        bytes(row["state"]),
    )


def _id_text(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _chunks(keys: Sequence[str]) -> list[Sequence[str]]:
    return [keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK)]


class SQLiteRosterRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS unique_keys (kind TEXT NOT NULL, key TEXT NOT NULL, "
            "owner_id TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID",
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        unique_keys: Sequence[UniqueKey] = (),
        released_keys: Sequence[UniqueKey] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The library's connections have SQLite's defaults: a 2 MiB page cache, and a
        # checkpoint whenever the log passes 4 MiB, which copies each page a bulk write
        # dirtied back to the file at almost every commit. The read model's settings,
        # deleted rows overwritten with zeros included (an erased email's unique key).
        c.execute(f"PRAGMA cache_size={CACHE_KIB}")
        c.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        c.execute("PRAGMA secure_delete=ON")
        if released_keys:
            c.executemany(
                "DELETE FROM unique_keys WHERE kind = ? AND key = ? AND owner_id = ?",
                _rows(released_keys),
            )
        if unique_keys:
            c.executemany(
                "INSERT INTO unique_keys (kind, key, owner_id) VALUES (?, ?, ?)",
                _rows(unique_keys),
            )
        return self._insert_all(c, stored_events)

    def _insert_all(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The library's insert, in one statement for all the events rather than one each
        (which it needs for each row's id). Holding the write lock, SQLite gives each new
        row the id after the table's largest, so the events' ids are the last one's and
        those just before it; the first event is looked up to confirm it."""
        rows = [
            (_id_text(s.originator_id), s.originator_version, s.topic, s.state)
            for s in stored_events
        ]
        if not rows:
            return []
        c.executemany(self.insert_events_statement, rows)
        c.execute("SELECT last_insert_rowid() AS last")
        first = c.fetchone()["last"] - len(rows) + 1
        c.execute(
            f"SELECT originator_id, originator_version FROM {self.events_table_name}"
            " WHERE rowid = ?",
            (first,),
        )
        found = c.fetchone()
        if found is None or (found["originator_id"], found["originator_version"]) != rows[0][:2]:
            raise OperationalError("The event store ran out of consecutive row ids.")
        return list(range(first, first + len(rows)))

    def events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """See `domain.application.EventsOfMany`."""
        marks = ", ".join("?" * len(originator_ids))
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.events_table_name} WHERE originator_id IN ({marks})"
                " ORDER BY originator_id, originator_version",
                [originator_id.hex for originator_id in originator_ids],  # as stored
            )
            return [_stored(row) for row in c.fetchall()]

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        return set(self.owners(kind, keys))

    def owners(self, kind: KeyKind, keys: Sequence[str]) -> dict[str, UUID]:
        found: dict[str, UUID] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(keys):
                marks = ", ".join("?" * len(chunk))
                c.execute(
                    f"SELECT key, owner_id FROM unique_keys WHERE kind = ? AND key IN ({marks})",
                    [str(kind), *chunk],
                )
                found.update((row["key"], UUID(row["owner_id"])) for row in c.fetchall())
        return found

    def held_by(self, owner_id: UUID) -> list[UniqueKey]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT kind, key FROM unique_keys WHERE owner_id = ?", (str(owner_id),))
            return [UniqueKey(KeyKind(r["kind"]), r["key"], owner_id) for r in c.fetchall()]

    def count_notifications(self, start: int, stop: int) -> int:
        """See `projections.follower.NotificationCounts`."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT count(*) AS n FROM {self.events_table_name}"
                " WHERE rowid > ? AND rowid <= ?",
                (start, stop),
            )
            return int(c.fetchone()["n"])

    def notifications_within(self, start: int, limit: int, max_bytes: int) -> int | None:
        """See `NotificationSizes`."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid AS id, CASE WHEN substr(state, 1, 1) = x'78' THEN"
                f" {COMPRESSED_STATE_SIZE} ELSE length(state) END AS size"
                f" FROM {self.events_table_name}"
                " WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            return _last_within([(row["id"], row["size"]) for row in c.fetchall()], max_bytes)


class PostgresRosterRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        # eventsourcing has no setting for it; the pool reads it at each reconnection.
        datastore.pool.reconnect_timeout = RECONNECT_SECONDS
        self.events_table = Identifier(datastore.schema, events_table_name)
        self.keys_table = Identifier(datastore.schema, f"{events_table_name}_unique_keys")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (kind text NOT NULL, key text NOT NULL, "
                "owner_id text NOT NULL, PRIMARY KEY (kind, key))"
            ).format(self.keys_table)
        )

    def create_table(self) -> None:
        """The library's tables, types and functions, made by one process at a time:
        several starting at once (servers, workers, `roster` commands) would otherwise
        race on them, and PostgreSQL refuses the loser ("tuple concurrently updated",
        or a duplicate type). The lock is held by a connection of the pool for the
        while, and let go with it should the process die."""
        with self.datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (CREATE_TABLES_LOCK,))
            try:
                super().create_table()
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (CREATE_TABLES_LOCK,))

    def _insert_events(
        self,
        curs: PgCursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        unique_keys: Sequence[UniqueKey] = (),
        released_keys: Sequence[UniqueKey] = (),
        **kwargs: Any,
    ) -> None:
        if released_keys:
            kinds, keys, owners = zip(*_rows(released_keys), strict=True)
            curs.execute(
                SQL(
                    "DELETE FROM {} WHERE (kind, key, owner_id) IN"
                    " (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))"
                ).format(self.keys_table),
                (list(kinds), list(keys), list(owners)),
            )
        if unique_keys:
            # No statement of the write may fail on the server: after an error inside
            # psycopg's pipeline, the statements it had prepared for the connection are
            # lost, and the connection's next write fails. So skip taken keys, count the
            # ones written, and refuse the write here, before the events go in.
            kinds, keys, owners = zip(*_rows(unique_keys), strict=True)
            curs.execute(
                SQL(
                    "INSERT INTO {} (kind, key, owner_id)"
                    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[])"
                    " ON CONFLICT DO NOTHING RETURNING key"
                ).format(self.keys_table),
                (list(kinds), list(keys), list(owners)),
            )
            if len(curs.fetchall()) != len(unique_keys):
                raise IntegrityError("A unique key of this write is held already.")
        super()._insert_events(curs, stored_events, **kwargs)

    @_retried
    def events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """See `domain.application.EventsOfMany`."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT * FROM {} WHERE originator_id = ANY(%s)"
                    " ORDER BY originator_id, originator_version"
                ).format(self.events_table),
                (list(originator_ids),),
            )
            return [_stored(row) for row in curs.fetchall()]

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        return set(self.owners(kind, keys))

    @_retried
    def owners(self, kind: KeyKind, keys: Sequence[str]) -> dict[str, UUID]:
        found: dict[str, UUID] = {}
        with self.datastore.transaction(commit=False) as curs:
            for chunk in _chunks(keys):
                curs.execute(
                    SQL("SELECT key, owner_id FROM {} WHERE kind = %s AND key = ANY(%s)").format(
                        self.keys_table
                    ),
                    (str(kind), list(chunk)),
                )
                found.update((row["key"], UUID(row["owner_id"])) for row in curs.fetchall())
        return found

    @_retried
    def held_by(self, owner_id: UUID) -> list[UniqueKey]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT kind, key FROM {} WHERE owner_id = %s").format(self.keys_table),
                (str(owner_id),),
            )
            return [UniqueKey(KeyKind(r["kind"]), r["key"], owner_id) for r in curs.fetchall()]

    @_retried
    def count_notifications(self, start: int, stop: int) -> int:
        """See `projections.follower.NotificationCounts`."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT count(*) AS n FROM {}"
                    " WHERE notification_id > %s AND notification_id <= %s"
                ).format(self.events_table),
                (start, stop),
            )
            row = curs.fetchone()
            assert row is not None
            return int(row["n"])

    @_retried
    def notifications_within(self, start: int, limit: int, max_bytes: int) -> int | None:
        """See `NotificationSizes`."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id AS id, CASE WHEN substring(state from 1 for 1)"
                    " = '\\x78'::bytea THEN %s ELSE octet_length(state) END AS size FROM {}"
                    " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                ).format(self.events_table),
                (COMPRESSED_STATE_SIZE, start, limit),
            )
            return _last_within([(row["id"], row["size"]) for row in curs.fetchall()], max_bytes)


def _last_within(sizes: Sequence[tuple[int, int]], max_bytes: int) -> int | None:
    """The last id whose states, with those before it, stay within max_bytes; the first
    id in any case (a reader must be able to take one event, however large)."""
    total, last = 0, None
    for notification_id, size in sizes:
        if last is not None and total + size > max_bytes:
            break
        total += size
        last = notification_id
    return last
