"""Imports that outlive their processes: a server killed (SIGKILL) while it reads a file
or registers rows, and the process started after it finishing the batch; a server
frozen (SIGSTOP) past its lease while another takes the batch over; two servers on one
store; and, on PostgreSQL, separate `roster worker` processes.

Every commit ends on the same check: each row of the file registered exactly once, as
the user its row derives (`ImportBatch.user_id_for`), and nobody else. What a batch had
recorded when its process was killed is read from the store with the process dead, so
each test knows that it really stopped the work midway.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from bootstrap import Services, build_services
from domain.imports.batch import ImportBatch, ImportStatus
from domain.imports.process import COMMIT_ROWS
from projections.paging import encode_cursor
from settings import Settings, Store
from tests.api.importing import Importer, people
from tests.integration.harness import ON_POSTGRES, Spawn, all_at_once, settled
from tests.support import ROOT, ServerProcess

#: A short lease, so that another worker takes over a dead or frozen one within seconds.
LEASE = {"ROSTER_IMPORT_LEASE": "2s"}
#: Files of more rows than this are kept in the store and read by a worker.
KEPT = {"ROSTER_IMPORT_INLINE_ROWS": "100"}
NO_OWN_WORKER = {"ROSTER_IMPORT_WORKER": "off"}

USERS = """
query($after: String) { users(first: 500, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id email importBatchId } }
} }"""

Workers = Callable[[], subprocess.Popen[bytes]]


# ---------------------------------------------------------------------- processes


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def frozen(process: subprocess.Popen[bytes], store: Store) -> Iterator[None]:
    """The process stopped (SIGSTOP) at a moment it is inside no transaction: frozen
    inside one, it would hold up the other processes (SQLite's write lock, PostgreSQL's
    locks on the events table or a read model's position) until it wakes. Woken
    (SIGCONT) at the end."""
    for _ in range(50):
        process.send_signal(signal.SIGSTOP)
        if not writes_held(store):
            break
        process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    else:
        raise AssertionError("The process was inside a write at each of 50 attempts.")
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def writes_held(store: Store) -> bool:
    """Whether some transaction holds on to what it locked: SQLite's write lock is taken,
    or a PostgreSQL transaction is still open 0.3 s later (a live one would have ended)."""
    if not store.is_postgres:
        with closing(sqlite3.connect(store.sqlite_path, timeout=0.3)) as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            connection.rollback()
            return False
    with psycopg.connect(store.url, autocommit=True) as connection:
        open_now = _open_transactions(connection)
        time.sleep(0.3)
        return bool(open_now & _open_transactions(connection))


def _open_transactions(connection: psycopg.Connection[Any]) -> set[tuple[Any, ...]]:
    return set(
        connection.execute(
            "SELECT pid, xact_start FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        ).fetchall()
    )


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    """Starts `roster worker` processes on the test store: `workers()`."""
    started: list[subprocess.Popen[bytes]] = []
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "cli.py", "worker"],
                cwd=ROOT,
                env={**inherited, **env, **LEASE},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)


# ---------------------------------------------------------------------- the store


@contextmanager
def opened(env: dict[str, str]) -> Iterator[Services]:
    """The store the servers share, opened in the test process to read it."""
    services = build_services(Settings.from_env(env))
    try:
        yield services
    finally:
        services.close()


def stored_batch(env: dict[str, str], batch_id: str) -> ImportBatch:
    with opened(env) as services:
        return services.roster.get_aggregate(ImportBatch, UUID(batch_id), "import batch")


def by_lease(
    servers: tuple[ServerProcess, ServerProcess], env: dict[str, str], batch_id: str
) -> tuple[ServerProcess, ServerProcess]:
    """The server whose worker holds the batch's lease (waiting for one to take it), and
    the other. A worker's name holds its process id."""
    deadline = time.monotonic() + 30
    with opened(env) as services:
        while time.monotonic() < deadline:
            with services.database.reading() as cursor:
                cursor.execute("SELECT owner FROM import_leases WHERE batch_id = %s", (batch_id,))
                owner = (cursor.fetchone() or {}).get("owner", "")
            for holder, other in (servers, servers[::-1]):
                if f":{holder.process.pid}:" in owner:
                    return holder, other
            time.sleep(0.01)
    raise AssertionError("No server took the batch's lease within 30s.")


def kill_between_registering_and_recording(
    process: subprocess.Popen[bytes], services: Services, batch_id: str, *, within: float = 60
) -> None:
    """SIGKILLs the process once it has registered a range of rows and the batch does
    not say so yet. Whenever the store grows by a range's users the process is frozen
    and the store read: killed if the batch is behind, else let go on."""
    roster, deadline = services.roster, time.monotonic() + within
    seen = roster.recorder.max_notification_id() or 0
    while time.monotonic() < deadline:
        if (roster.recorder.max_notification_id() or 0) - seen < COMMIT_ROWS:
            time.sleep(0.002)
            continue
        process.send_signal(signal.SIGSTOP)
        batch = roster.get_aggregate(ImportBatch, UUID(batch_id), "import batch")
        following = ImportBatch.user_id_for(batch.id, batch.commit_cursor + 1)
        if batch.status is ImportStatus.COMMITTING and following in roster.repository:
            kill(process)
            return
        seen = roster.recorder.max_notification_id() or 0
        process.send_signal(signal.SIGCONT)
    raise AssertionError(f"No range was caught registered and unrecorded within {within}s.")


# ---------------------------------------------------------------------- the API


def committing(importer: Importer, content: bytes) -> str:
    """Uploads the file, gives the rows no groups and commits: the batch's id."""
    batch_id = str(importer.started(content)["id"])
    chosen = importer.set_access(batch_id, mode="CUSTOMIZE", rows=[])
    assert chosen["__typename"] == "ImportBatch", chosen
    committed = importer.commit(batch_id)
    assert committed["status"] == "COMMITTING", committed
    return batch_id


def progress_when(
    importer: Importer, batch_id: str, reached: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The batch's progress as soon as `reached(progress)`."""
    deadline = time.monotonic() + 60
    progress: dict[str, Any] = importer.batch(batch_id)["progress"]
    while not reached(progress):
        assert time.monotonic() < deadline, f"not reached within 60s: {progress}"
        time.sleep(0.02)
        progress = importer.batch(batch_id)["progress"]
    return progress


def every(page_of: Callable[[str | None], dict[str, Any]]) -> list[Any]:
    """Every node of a connection, page after page."""
    nodes: list[Any] = []
    after = None
    while True:
        page = page_of(after)
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(nodes)
            return nodes
        after = page["pageInfo"]["endCursor"]


def row_at(importer: Importer, batch_id: str, number: int) -> list[dict[str, Any]]:
    """Row `number` of the review table (none past the end): the page of one row after
    row `number - 1`, under a cursor made as the server makes them."""
    after = encode_cursor(f"import-rows:{batch_id}", [number - 1]) if number > 1 else None
    return [edge["node"] for edge in importer.rows(batch_id, first=1, after=after)["edges"]]


def assert_each_row_registered_once(importer: Importer, batch_id: str, count: int) -> None:
    """The batch COMPLETED with every row CREATED as its own derived user, and the users
    are exactly those: the file's emails, nobody twice, nobody else."""
    batch = importer.wait_for(batch_id, "COMPLETED", "CANCELLED", timeout=120)
    counts = [batch["progress"][k] for k in ("total", "processed", "created", "failed")]
    assert (batch["status"], counts) == ("COMPLETED", [count, count, count, 0])
    derived = {n: str(ImportBatch.user_id_for(UUID(batch_id), n)) for n in range(1, count + 1)}
    rows = every(lambda after: importer.rows(batch_id, first=500, after=after))
    wrong = [r for r in rows if (r["status"], r["userId"]) != ("CREATED", derived[r["rowNumber"]])]
    assert (len(rows), wrong[:3]) == (count, [])
    users = every(
        lambda after: importer.api.data(USERS, {"after": after}, as_=importer.token)["users"]
    )
    found = {(u["id"], u["email"], u["importBatchId"]) for u in users}
    expected = {(derived[n], f"person.{n}@acme.com", batch_id) for n in derived}
    assert (len(users), sorted(found - expected)[:3], sorted(expected - found)[:3]) == (
        count,
        [],
        [],
    )


# ---------------------------------------------------------------------- killed


def test_a_server_killed_while_registering_rows_leaves_the_rest_to_the_next_one(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 20_000
    first = spawn.start(LEASE)
    batch_id = committing(Importer(first.api), people(rows))
    before = progress_when(Importer(first.api), batch_id, lambda p: p["processed"] >= 2_000)
    kill(first.process)
    left = stored_batch(env, batch_id)
    assert left.status is ImportStatus.COMMITTING, (left.status, before)
    assert 0 < left.commit_cursor < rows, f"not killed midway: {left.commit_cursor} of {rows}"

    second = spawn.start(LEASE)

    assert_each_row_registered_once(Importer(second.api), batch_id, rows)


def test_users_registered_just_before_a_kill_are_recorded_created_not_registered_again(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 10_000
    first = spawn.start(LEASE)
    batch_id = committing(Importer(first.api), people(rows))
    with opened(env) as services:
        kill_between_registering_and_recording(first.process, services, batch_id)

    second = spawn.start(LEASE)

    assert_each_row_registered_once(Importer(second.api), batch_id, rows)


def test_a_server_killed_while_reading_a_file_leaves_the_rest_to_the_next_one(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 100_000
    first = spawn.start({**LEASE, **KEPT})
    batch_id = str(Importer(first.api).start(people(rows))["id"])
    progress_when(Importer(first.api), batch_id, lambda p: p["validated"] >= 10_000)
    kill(first.process)
    left = stored_batch(env, batch_id)
    assert left.status is ImportStatus.VALIDATING, left.status
    assert 0 < left.total_rows < rows, f"not killed midway: {left.total_rows} of {rows}"

    importer = Importer(spawn.start({**LEASE, **KEPT}).api)

    reviewed = importer.wait_for(batch_id, "IN_REVIEW", timeout=120)
    counts = [reviewed["progress"][k] for k in ("total", "validated", "valid", "invalid")]
    assert counts == [rows, rows, rows, 0]
    assert stored_batch(env, batch_id).total_rows == rows
    for number in (1, left.total_rows, left.total_rows + 1, rows):
        [row] = row_at(importer, batch_id, number)
        assert (row["rowNumber"], row["email"], row["status"]) == (
            number,
            f"person.{number}@acme.com",
            "VALID",
        )
    assert row_at(importer, batch_id, rows + 1) == []


# ---------------------------------------------------------------------- shared


def test_two_servers_committing_one_batch_at_once_register_each_row_once(spawn: Spawn) -> None:
    rows = 10_000
    a, b = spawn.start(LEASE), spawn.start(LEASE)
    batch_id = str(Importer(a.api).started(people(rows))["id"])
    chosen = Importer(a.api).set_access(batch_id, mode="CUSTOMIZE", rows=[])
    assert chosen["__typename"] == "ImportBatch", chosen

    commits = all_at_once([partial(Importer(s.api).commit, batch_id) for s in (a, b)])

    assert [c["status"] for c in commits] == ["COMMITTING", "COMMITTING"], commits
    assert_each_row_registered_once(Importer(b.api), batch_id, rows)


def test_a_server_frozen_past_its_lease_while_committing_registers_nobody_twice(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 10_000
    servers = (spawn.start(LEASE), spawn.start(LEASE))
    batch_id = committing(Importer(servers[0].api), people(rows))
    progress_when(Importer(servers[0].api), batch_id, lambda p: p["processed"] >= 1_000)
    holder, other = by_lease(servers, env, batch_id)

    with frozen(holder.process, Settings.from_env(env).store):
        at = Importer(other.api).batch(batch_id)["progress"]["processed"]
        progress_when(Importer(other.api), batch_id, lambda p: p["processed"] >= at + 2_000)

    assert_each_row_registered_once(Importer(other.api), batch_id, rows)


def test_a_server_frozen_past_its_lease_while_reading_leaves_the_review_to_the_other(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 60_000
    servers = (spawn.start({**LEASE, **KEPT}), spawn.start({**LEASE, **KEPT}))
    batch_id = str(Importer(servers[0].api).start(people(rows))["id"])
    holder, other = by_lease(servers, env, batch_id)
    importer = Importer(other.api)

    with frozen(holder.process, Settings.from_env(env).store):
        importer.wait_for(batch_id, "IN_REVIEW")

    status = settled(lambda: importer.batch(batch_id)["status"], "CANCELLED", within=3)
    assert status == "IN_REVIEW"


# ---------------------------------------------------------------------- roster worker


@pytest.mark.skipif(not ON_POSTGRES, reason="separate workers are for PostgreSQL")
def test_servers_without_their_own_worker_leave_the_import_to_roster_worker(
    spawn: Spawn, workers: Workers
) -> None:
    rows = 2_000
    importer = Importer(spawn.start({**LEASE, **KEPT, **NO_OWN_WORKER}).api)
    batch_id = str(importer.start(people(rows))["id"])
    time.sleep(1.5)  # a worker of the server's own would have been woken by the upload
    assert importer.batch(batch_id)["status"] == "VALIDATING"

    workers()

    importer.wait_for(batch_id, "IN_REVIEW")
    importer.set_access(batch_id, mode="CUSTOMIZE", rows=[])
    assert importer.commit(batch_id)["status"] == "COMMITTING"
    assert_each_row_registered_once(importer, batch_id, rows)


@pytest.mark.skipif(not ON_POSTGRES, reason="separate workers are for PostgreSQL")
def test_a_worker_killed_while_registering_rows_leaves_the_rest_to_the_next_worker(
    spawn: Spawn, env: dict[str, str], workers: Workers
) -> None:
    rows = 10_000
    importer = Importer(spawn.start({**LEASE, **NO_OWN_WORKER}).api)
    first = workers()
    batch_id = committing(importer, people(rows))
    progress_when(importer, batch_id, lambda p: p["processed"] >= 2_000)
    kill(first)
    left = stored_batch(env, batch_id)
    assert left.status is ImportStatus.COMMITTING, left.status
    assert 0 < left.commit_cursor < rows, f"not killed midway: {left.commit_cursor} of {rows}"

    workers()

    assert_each_row_registered_once(importer, batch_id, rows)
