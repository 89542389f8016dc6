"""The floor of bench/import.py: the file's valid rows put into one bare table the fastest
honest way, so that the server's time over it, the ratio, means something.

The table is the one our performance issue defines: id, first name, last name, email,
username, created; email and username unique; a trigram index over name, email and username.
The indexes are there before the rows come, as the server's are; rows go in by transactions
of ROWS_PER_TRANSACTION, as an importer that does not hold the store for a whole file would
commit them. On SQLite: `executemany` on the server's pragmas, an FTS5 trigram table. On
PostgreSQL: `COPY`, unique indexes and a pg_trgm GIN index. A floor keeps its table between
loads, so that bench/import.py --curve sees it grow as the server's store does.
"""

from __future__ import annotations

import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from domain.imports.rows import CleanRow
from domain.values import username_candidates
from projections.encoding import iso
from projections.users import search_text

ROWS_PER_TRANSACTION = 2000
# Emails and usernames are the same whatever their case, for the review and for the
# server's unique keys: a UNIQUE on the column as written would let "Ann@x.org" in beside
# "ann@x.org", a promise the server keeps and the floor would not. (SQLite's lower() folds
# ASCII only; the bench's emails and usernames are ASCII.)
SQLITE_TABLES = [
    "CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,"
    " last_name TEXT NOT NULL, email TEXT NOT NULL, username TEXT NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE UNIQUE INDEX people_email ON people (lower(email))",
    "CREATE UNIQUE INDEX people_username ON people (lower(username))",
    # The server's folded search text (accents and case away), as bench/search.py's floor.
    "CREATE VIRTUAL TABLE people_search USING fts5(search_text, tokenize='trigram')",
]
# The pragmas of the server's read-model connections (projections/database.py). Its event
# store's connections (the eventsourcing library's) set WAL only: synchronous stays FULL.
SQLITE_PRAGMAS = [
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "cache_size=-65536",
    "wal_autocheckpoint=10000",
]
# PostgreSQL indexes columns, not a second table: the folded search text is one.
POSTGRES_TABLES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE SCHEMA floor",
    "CREATE TABLE floor.people (id bigint PRIMARY KEY, first_name text NOT NULL,"
    " last_name text NOT NULL, email text NOT NULL, username text NOT NULL,"
    " created_at timestamptz NOT NULL, search_text text NOT NULL)",
    "CREATE UNIQUE INDEX people_email ON floor.people (lower(email))",
    "CREATE UNIQUE INDEX people_username ON floor.people (lower(username))",
    "CREATE INDEX people_search ON floor.people USING gin (search_text gin_trgm_ops)",
]
COPY = (
    "COPY floor.people (id, first_name, last_name, email, username, created_at, search_text)"
    " FROM STDIN"
)

#: id, first name, last name, email, username, created at, search text.
Person = tuple[int, str, str, str, str, str, str]


@dataclass(frozen=True)
class Load:
    """One load's seconds: making the rows (ids, free usernames, search texts), and putting
    them in (the floor proper)."""

    rows: int
    prepare: float
    insert: float

    def __str__(self) -> str:
        return (
            f"{self.rows:,} rows in {self.insert:.2f} s by transactions of "
            f"{ROWS_PER_TRANSACTION:,} = {self.rows / self.insert:,.0f} users/s "
            f"(made beforehand in {self.prepare:.2f} s: ids, free usernames, search texts)"
        )


class Floor(ABC):
    """The bare table on one store, and the usernames it holds (usernames derived from the
    email, as the server's, take the first free one of base, base-2, base-3...)."""

    name = ""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.next_id = 1

    def load(self, rows: list[CleanRow]) -> Load:
        started = time.perf_counter()
        people = self.prepare(rows)
        prepared = time.perf_counter()
        for first in range(0, len(people), ROWS_PER_TRANSACTION):
            self.insert(people[first : first + ROWS_PER_TRANSACTION])
        return Load(len(rows), prepared - started, time.perf_counter() - prepared)

    def prepare(self, rows: list[CleanRow]) -> list[Person]:
        now, people = iso(datetime.now(UTC)), list[Person]()
        for row in rows:
            username = row.username or next(
                c for c in username_candidates(row.email) if c.lower() not in self.taken
            )
            self.taken.add(username.lower())
            text = search_text(row.first_name, row.last_name, row.email, username)
            people.append(
                (self.next_id, row.first_name, row.last_name, row.email, username, now, text)
            )
            self.next_id += 1
        return people

    @abstractmethod
    def insert(self, people: list[Person]) -> None:
        """One transaction's rows, committed."""

    @abstractmethod
    def close(self) -> None: ...


class SQLiteFloor(Floor):
    name = "SQLite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.connection = sqlite3.connect(path)
        for pragma in SQLITE_PRAGMAS:
            self.connection.execute(f"PRAGMA {pragma}")
        for statement in SQLITE_TABLES:
            self.connection.execute(statement)
        self.connection.commit()

    def insert(self, people: list[Person]) -> None:
        with self.connection:  # one transaction, committed
            self.connection.executemany(
                "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)", [p[:6] for p in people]
            )
            self.connection.executemany(
                "INSERT INTO people_search (rowid, search_text) VALUES (?, ?)",
                [(p[0], p[6]) for p in people],
            )

    def close(self) -> None:
        self.connection.close()


class PostgresFloor(Floor):
    """In a schema of its own, in the server's database (the bench's fresh one)."""

    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.connection = psycopg.connect(url, autocommit=True)
        for statement in POSTGRES_TABLES:
            self.connection.execute(statement)

    def insert(self, people: list[Person]) -> None:
        with (
            self.connection.transaction(),
            self.connection.cursor() as cursor,
            cursor.copy(COPY) as copy,
        ):
            for person in people:
                copy.write_row(person)

    def close(self) -> None:
        self.connection.close()


@contextmanager
def floors(url: str, scratch: Path) -> Iterator[list[Floor]]:
    """The SQLite floor, in the scratch directory; and the PostgreSQL one when the server
    runs on PostgreSQL (its goal is set against that one)."""
    found: list[Floor] = [SQLiteFloor(scratch / "floor.db")]
    if url.startswith(("postgresql://", "postgres://")):
        found.append(PostgresFloor(url))
    try:
        yield found
    finally:
        for floor in found:
            floor.close()
