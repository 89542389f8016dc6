"""What the erasure tests share: a person with distinctive values and every form Roster
may store them in, their life in Roster (an import with errors, mails, status changes),
and the search for any byte of them left in the database files, a dump of the database
or the outbox folder, each found trace named by where it is (file and table)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import sqlite3
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projections.database import ReadDatabase, schema_statements
from projections.encoding import fold
from settings import Settings
from tests.api.importing import Importer, csv_file
from tests.api.operations import Administrator
from tests.integration.harness import settled
from tests.support import Api

ERASE_USER = """
mutation($id: ID!, $reason: String!) { eraseUser(userId: $id, reason: $reason) {
  __typename ... on User { id status } ... on Problem { code message }
} }"""
HISTORY = """
query($id: ID!) { userStatusHistory(userId: $id) { from to actor source reason } }"""
TABLE = re.compile(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)")


@dataclass(frozen=True)
class Person:
    """Values found nowhere else (non-ASCII letters, mixed case), and the email as the
    file first gave it, before the review corrected it."""

    first_name: str = "Ysoldë"
    last_name: str = "Quarrington-Øvre"
    email: str = "Ysolde.Quarrington.7x@Example.org"
    username: str = "YQuarrington7x"
    mistyped_email: str = "Ysolde.Quarrington.7x@@Example.org"

    def traces(self) -> dict[bytes, str]:
        """Each byte sequence to look for, with what it is: every value as given, lower
        and upper case, case-folded, folded for search (no accents), decomposed (NFD),
        and escaped as JSON writes non-ASCII text, in UTF-8."""
        found: dict[bytes, str] = {}
        for name, value in vars(self).items():
            forms = {
                value,
                value.lower(),
                value.upper(),
                value.casefold(),
                fold(value),
                unicodedata.normalize("NFD", value),
                json.dumps(value)[1:-1],
            }
            for form in forms:
                found.setdefault(form.encode(), f"{name} {form!r}")
        return found


# ---------------------------------------------------------------- the person's life


def imported(api: Api, person: Person) -> str:
    """Imports the person from a file with errors: their own row's email is mistyped and
    corrected in the review, other rows stay invalid and are left out. Their user's id."""
    importer = Importer(api)
    content = csv_file(
        f"{person.first_name},{person.last_name},{person.mistyped_email},{person.username}",
        "Person,No1,person.1@acme.com,",
        "Bad,Row,not-an-email,",
        "Person,No2,person.2@acme.com,",
        "Also,Bad,,",
    )
    batch_id = importer.started(content, filename="staff.csv")["id"]
    corrected = importer.update_row(
        batch_id,
        1,
        firstName=person.first_name,
        lastName=person.last_name,
        email=person.email,
        username=person.username,
    )
    assert corrected["status"] == "VALID", corrected
    assert importer.committed(batch_id, exclude_invalid=True)["status"] == "COMPLETED"
    user_id: str = importer.row_nodes(batch_id)[0]["userId"]
    return user_id


def lived(api: Api, person: Person) -> tuple[str, Administrator]:
    """The person imported, mailed, deactivated, reactivated (mailed again), deactivated:
    their user's id, and the administrator who did it."""
    user_id = imported(api, person)
    admin = Administrator(api, subject="hr.lead")
    mailed(admin, user_id)
    assert admin.deactivate(user_id, f"{person.first_name} asked for a pause")["status"] == (
        "DEACTIVATED"
    )
    assert admin.reactivate(user_id, f"{person.email} is back")["status"] == "PENDING"
    mailed(admin, user_id)
    assert admin.deactivate(user_id, f"{person.last_name} left")["status"] == "DEACTIVATED"
    return user_id, admin


def mailed(admin: Administrator, user_id: str) -> None:
    """Once the user's current invitation was sent."""
    sent = settled(lambda: admin.user(user_id)["invitation"]["sentAt"] is not None, True, within=30)
    assert sent, "the invitation mail was not sent"


def erase(admin: Administrator, user_id: str) -> dict[str, Any]:
    result: dict[str, Any] = admin.api.data(
        ERASE_USER, {"id": user_id, "reason": "GDPR request 2026-117"}, as_=admin.token
    )["eraseUser"]
    return result


def history(admin: Administrator, user_id: str) -> list[tuple[Any, ...]]:
    changes = admin.api.data(HISTORY, {"id": user_id}, as_=admin.token)["userStatusHistory"]
    return [(c["from"], c["to"], c["source"], c["reason"]) for c in changes]


# ---------------------------------------------------------------- what is left


def leaks(settings: Settings, outbox: Path, person: Person) -> list[str]:
    """Where any trace of the person is left: in the database's files (SQLite) or a
    dump of it (PostgreSQL), and in the outbox folder."""
    traces = person.traces()
    store = settings.store
    if store.is_postgres:
        found = pg_dump_leaks(store.url, traces)
    else:
        found = sqlite_leaks(Path(store.sqlite_path), traces)
    return found + outbox_leaks(outbox, traces)


def sqlite_leaks(path: Path, traces: dict[bytes, str]) -> list[str]:
    """Traces in the file, its write-ahead log and the log's index, each named by the
    table (or index) whose page holds it, as SQLite's dbstat tells."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        owners = {
            page: name for name, page in connection.execute("SELECT name, pageno FROM dbstat")
        }
    finally:
        connection.close()
    found = []
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        data = file.read_bytes() if file.exists() else b""
        for trace, what in traces.items():
            for offset in occurrences(data, trace):
                page = page_of(file, data, offset, page_size)
                found.append(f"{what} in {file.name} at {offset}: {owner(owners, page)}")
    return found


def page_of(file: Path, data: bytes, offset: int, page_size: int) -> int | None:
    """The database page the byte at `offset` belongs to: in the file, by position; in
    the log, the page number its frame's header gives."""
    if file.name.endswith("-wal"):
        frame = (offset - 32) // (24 + page_size)
        start = 32 + frame * (24 + page_size)
        return int.from_bytes(data[start : start + 4], "big") if offset >= 32 else None
    if file.name.endswith("-shm"):
        return None
    return offset // page_size + 1


def owner(owners: dict[int, str], page: int | None) -> str:
    if page is None:
        return "the log's index"
    return f"page {page} of {owners[page]}" if page in owners else f"page {page} (free)"


def pg_dump_leaks(url: str, traces: dict[bytes, str]) -> list[str]:
    """Traces in a plain dump of the database, each named by the table whose COPY holds
    it."""
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--dbname", url], capture_output=True, check=True, timeout=120
    ).stdout
    found = []
    for trace, what in traces.items():
        for offset in occurrences(dump, trace):
            copy = dump.rfind(b"\nCOPY ", 0, offset)
            table = dump[copy + 6 : dump.find(b" ", copy + 6)].decode() if copy >= 0 else "?"
            line = dump.count(b"\n", 0, offset) + 1
            found.append(f"{what} in pg_dump line {line}: table {table}")
    return found


def outbox_leaks(outbox: Path, traces: dict[bytes, str]) -> list[str]:
    """Traces in any file of the outbox folder, as written and as its mail reads once
    decoded (headers, quoted-printable or base64 parts)."""
    found = []
    files = sorted(outbox.rglob("*")) if outbox.exists() else []
    for file in (f for f in files if f.is_file()):
        raw = file.read_bytes()
        data = raw + b"\n" + decoded(raw)
        for trace, what in traces.items():
            if trace in data:
                found.append(f"{what} in the outbox file {file.name}")
    return found


def decoded(data: bytes) -> bytes:
    message = email.message_from_bytes(data, policy=email.policy.default)
    texts = [str(value) for value in message.values()]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
    return "\n".join(texts).encode()


def occurrences(data: bytes, trace: bytes) -> Iterator[int]:
    start = data.find(trace)
    while start >= 0:
        yield start
        start = data.find(trace, start + 1)


# ---------------------------------------------------------------- read models


def read_models(database: ReadDatabase) -> dict[str, list[str]]:
    """Every row of every read-model table, in an order of their own."""
    tables = [
        found.group(1)
        for statement in schema_statements(database.dialect)
        if (found := TABLE.search(statement))
    ]
    rows: dict[str, list[str]] = {}
    with database.reading() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            rows[table] = sorted(repr(sorted(row.items())) for row in cursor.fetchall())
    return rows


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [table for table in before if before[table] != after.get(table)]
