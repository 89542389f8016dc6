"""What the integration tests share: GraphQL documents, a way to make calls really
overlap, polling with a deadline, running the `roster` command, and reading back
every read-model table."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from projections.database import ReadDatabase
from tests.support import ROOT, ServerProcess

T = TypeVar("T")

ON_POSTGRES = os.environ.get("ROSTER_TEST_DATABASE_URL", "sqlite").startswith(
    ("postgresql://", "postgres://")
)

CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on User { id email username status }
    ... on Problem { code message }
  }
}
"""

CREATE_GROUP = """
mutation($name: String!) {
  createGroup(name: $name) {
    __typename
    ... on Group { id name }
    ... on Problem { code message }
  }
}
"""

DEACTIVATE_USER = """
mutation($id: ID!, $reason: String) {
  deactivateUser(userId: $id, reason: $reason) {
    __typename
    ... on User { id status }
    ... on Problem { code message }
  }
}
"""

STATUS_CHANGED = "subscription { statusChanged { userId from to source actor reason } }"

USER_COUNT = "{ users { totalCount } }"

USER_BY_EMAIL = "query($email: String!) { userByEmail(email: $email) { id status } }"

#: Read-model tables, each with the columns that order its rows deterministically.
READ_MODEL_TABLES = {
    "projection_positions": "name",
    "users": "seq",
    "group_members": "group_id, user_id",
    "access_groups": "id",
    "status_changes": "position",
}


class Spawn(Protocol):
    """The `spawn` fixture: starts another `uvicorn server:app` process on the test store."""

    def start(self, extra: dict[str, str] | None = None) -> ServerProcess: ...


def person(email: str, username: str | None = None) -> dict[str, Any]:
    """A createUser input."""
    given = {"username": username} if username is not None else {}
    return {"firstName": "Ann", "lastName": "Lee", "email": email, **given}


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Runs every call in its own thread, released together by a barrier so that they
    really overlap; returns their results in the order of `calls`."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result(timeout=120) for future in futures]


def settled(read: Callable[[], T], expected: T, *, within: float = 5.0) -> T:
    """`read()` once it returns `expected`, or its last result when the deadline passes
    (for what another thread or process will do soon: assert on the result)."""
    deadline = time.monotonic() + within
    while (result := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def roster(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs the `roster` command (`python -m cli`) in the repository, configured by `env`
    (and by no ROSTER_* variable of the test run)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**inherited, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_model_rows(database: ReadDatabase) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table, in a deterministic order."""
    with database.reading() as cursor:
        rows: dict[str, list[dict[str, Any]]] = {}
        for table, order in READ_MODEL_TABLES.items():
            cursor.execute(f"SELECT * FROM {table} ORDER BY {order}")
            rows[table] = cursor.fetchall()
        return rows
