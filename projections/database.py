"""The read-model database: the same SQLite file or PostgreSQL database as the events.

Queries are written once with `%s` placeholders; the SQLite side translates them.
Blocking calls: call these from worker threads, never from the event loop.
"""

from __future__ import annotations

import queue
import re
import sqlite3
from collections.abc import Iterator, Sequence, Sized
from contextlib import contextmanager
from importlib import resources
from typing import Any, Literal, Protocol, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from store.recorders import CACHE_KIB, CHECKPOINT_PAGES, RECONNECT_SECONDS

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self) -> Row | None: ...
    def fetchall(self) -> list[Row]: ...


class ReadDatabase(Protocol):
    dialect: Dialect

    def writing(self) -> Any: ...
    def reading(self) -> Any: ...
    def create_tables(self, work: Sequence[str] = ()) -> None: ...
    def forget_deleted(self) -> bool: ...
    def close(self) -> None: ...


#: Raise it whenever a table of sql/*.sql changes: at start-up, tables of another
#: version are dropped and made anew, and the read models are rebuilt from the events.
READ_MODEL_VERSION = 11
_TABLE = re.compile(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)")


def marks(values: Sized) -> str:
    """The placeholders of an `IN (...)` list of these values: "%s, %s, %s"."""
    return ", ".join(["%s"] * len(values))


def insert_rows(
    cursor: Cursor, dialect: Dialect, table: str, columns: Sequence[str], rows: Sequence[Any]
) -> None:
    """Inserts many rows: PostgreSQL's COPY (one stream instead of a statement a row),
    SQLite's executemany (no round trips to save)."""
    if not rows:
        return
    names = ", ".join(columns)
    if dialect == "postgres":
        copying = cast(psycopg.Cursor[Row], cursor)
        with copying.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks(columns)})", rows)


def schema_statements(dialect: Dialect, package: str = "projections") -> list[str]:
    """The statements of a package's `sql/<dialect>.sql`."""
    text = resources.files(package).joinpath(f"sql/{dialect}.sql").read_text()
    return [s.strip() for s in text.split(";\n") if s.strip()]


def create_tables(cursor: Cursor, dialect: Dialect, work: Sequence[str] = ()) -> None:
    """The read-model tables of this version, in one transaction. Tables of another
    version (or of none: before versions were kept) are dropped first; their read
    models are then empty at position 0, so followers rebuild them from the events.
    The tables of `work` in progress (files waiting to be read, leases) are only made
    when missing: no version change drops them. The event store's own tables are not
    touched."""
    statements = schema_statements(dialect)
    cursor.execute("CREATE TABLE IF NOT EXISTS read_model_version (version INTEGER NOT NULL)")
    cursor.execute("SELECT version FROM read_model_version")
    found = cursor.fetchone()
    if found is None or int(found["version"]) != READ_MODEL_VERSION:
        cascade = " CASCADE" if dialect == "postgres" else ""
        for statement in reversed(statements):
            if table := _TABLE.search(statement):
                cursor.execute(f"DROP TABLE IF EXISTS {table.group(1)}{cascade}")
        cursor.execute("DELETE FROM read_model_version")
        cursor.execute(
            "INSERT INTO read_model_version (version) VALUES (%s)", (READ_MODEL_VERSION,)
        )
    for statement in (*statements, *work):
        cursor.execute(statement)


class SQLiteCursor:
    _placeholder = re.compile(r"%s")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._placeholder.sub("?", sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(self._placeholder.sub("?", sql), rows)

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]


class SQLiteDatabase:
    """A small pool of sqlite3 connections to one WAL-mode file."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str, *, pool_size: int = 8) -> None:
        self.path = path
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._pool_size = pool_size

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA cache_size={CACHE_KIB}")
        connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        # What is deleted or overwritten is overwritten with zeros: an erased person's
        # rows leave no bytes behind in free pages (README, "Erasure").
        connection.execute("PRAGMA secure_delete=ON")
        return connection

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        finally:
            if self._idle.qsize() < self._pool_size:
                self._idle.put(connection)
            else:
                connection.close()

    @contextmanager
    def writing(self) -> Iterator[SQLiteCursor]:
        """One write transaction; SQLite lets one writer at a time through."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteCursor(connection.cursor())
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[SQLiteCursor]:
        """A consistent snapshot for the queries of one read."""
        with self._connection() as connection:
            connection.execute("BEGIN")
            try:
                yield SQLiteCursor(connection.cursor())
            finally:
                connection.execute("ROLLBACK")

    def create_tables(self, work: Sequence[str] = ()) -> None:
        with self.writing() as cursor:
            create_tables(cursor, "sqlite", work)

    def forget_deleted(self) -> bool:
        """Leaves no copy of deleted rows outside the tables (after an erasure): the
        write-ahead log, which holds the pages as they were before each write, is
        checkpointed and truncated to nothing; and ANALYZE's samples of index keys
        (sqlite_stat4, on builds of SQLite that keep it: Roster never runs ANALYZE, an
        operator may) are dropped, sqlite_stat1's counts kept. The free pages and cells
        of the file are zeros already (secure_delete). False when readers held the log
        for the whole busy timeout: it is then truncated by the next call."""
        with self._connection() as connection:
            samples = connection.execute(
                "SELECT name FROM sqlite_schema WHERE name IN ('sqlite_stat3', 'sqlite_stat4')"
            ).fetchall()
            for (name,) in samples:
                connection.execute(f"DELETE FROM {name}")
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class PostgresDatabase:
    dialect: Dialect = "postgres"

    def __init__(self, conninfo: str, *, pool_size: int = 8) -> None:
        self.conninfo = conninfo
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "autocommit": False, "connect_timeout": 5},
            timeout=10,
            # Checked as it is handed out: after a restart of the database, a dead
            # connection is replaced rather than failing the call that got it.
            check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_SECONDS,
            open=True,
            name="roster-read-model",
        )

    @contextmanager
    def writing(self) -> Iterator[psycopg.Cursor[Row]]:
        with (
            self.pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[psycopg.Cursor[Row]]:
        with (
            self.pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield cursor

    def create_tables(self, work: Sequence[str] = ()) -> None:
        with self.writing() as cursor:
            # Two processes starting at once must not both create the tables.
            cursor.execute("SELECT pg_advisory_xact_lock(7283391)")
            create_tables(cast(Cursor, cursor), "postgres", work)

    def forget_deleted(self) -> bool:
        """Nothing to do here: a deleted row is dead to every query and every dump at
        once; VACUUM reclaims its space in the files, and the server recycles its write-
        ahead log by itself (README, "Erasure")."""
        return True

    def close(self) -> None:
        self.pool.close()
