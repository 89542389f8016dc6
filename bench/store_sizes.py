"""Sizes of the server's store, table by table with its indexes: the event store (events,
unique keys, snapshots), the read models and the jobs' tables. SQLite: the pages `dbstat`
counts (FTS5's shadow tables under their index); PostgreSQL: pg_total_relation_size of the
tables of the public schema (indexes and TOAST included; the floor has a schema of its own).
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
EVENT_TABLES = {
    "sqlite": ["stored_events", "unique_keys", "stored_snapshots"],
    "postgres": ["roster_events", "roster_events_unique_keys", "roster_snapshots"],
}
JOB_TABLES = re.findall(
    r"CREATE TABLE IF NOT EXISTS (\w+)", (ROOT / "jobs/sql/sqlite.sql").read_text()
)
#: The keys of personal data (store/keyring.py), kept beside the events they decrypt.
KEY_TABLES = re.findall(
    r"CREATE TABLE IF NOT EXISTS (\w+)", (ROOT / "store/sql/sqlite.sql").read_text()
)
SHOWN_SHARE = 0.005  # smaller tables are summed as "the others"


@dataclass
class StoreSizes:
    """Bytes per table (with its indexes) of the event store, the keys of personal data, the
    read models and the jobs."""

    events: dict[str, int]
    keys: dict[str, int]
    read_model: dict[str, int]
    jobs: dict[str, int]

    @property
    def total(self) -> int:
        parts = (self.events, self.keys, self.read_model, self.jobs)
        return sum(sum(part.values()) for part in parts)

    def show(self, users: int) -> None:
        print(f"\n{f'Store, {users:,} users':<36} {'MiB':>9} {'bytes/user':>11}")
        for title, sizes in (
            ("event store", self.events),
            ("personal data keys", self.keys),
            ("read model", self.read_model),
            ("jobs", self.jobs),
        ):
            line(title, sum(sizes.values()), users)
            shown = sorted(
                (n for n in sizes if sizes[n] >= SHOWN_SHARE * self.total),
                key=lambda n: -sizes[n],
            )
            for name in shown:
                line(f"  {name}", sizes[name], users)
            rest = sum(size for name, size in sizes.items() if name not in shown)
            if rest >= users:  # a byte per user or more
                line("  the others", rest, users)
        line("whole store", self.total, users)


def line(label: str, size: int, users: int) -> None:
    print(f"{label:<36} {size / 2**20:9.1f} {size / max(users, 1):11,.0f}")


def store_sizes(url: str) -> StoreSizes:
    if url.startswith("sqlite:///"):
        sizes, dialect = sqlite_sizes(Path(url.removeprefix("sqlite:///"))), "sqlite"
    else:
        sizes, dialect = postgres_sizes(url), "postgres"
    events = {name: sizes.pop(name) for name in EVENT_TABLES[dialect] if name in sizes}
    keys = {name: sizes.pop(name) for name in KEY_TABLES if name in sizes}
    jobs = {name: sizes.pop(name) for name in JOB_TABLES if name in sizes}
    return StoreSizes(events, keys=keys, read_model=sizes, jobs=jobs)


def sqlite_sizes(path: Path) -> dict[str, int]:
    """Each table's pages and its indexes' (FTS5's shadow tables count as their index's)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_master"))
        virtual = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
            )
        ]
        sizes: dict[str, int] = {}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owners.get(name, name)
            table = next((v for v in virtual if table.startswith(f"{v}_")), table)
            sizes[table] = sizes.get(table, 0) + int(size)
    return sizes


def postgres_sizes(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        ).fetchall()
    return {str(name): int(size) for name, size in rows}
