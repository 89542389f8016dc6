"""Two server processes on one store: what one writes, the other serves.

Process A follows the store in the background (LISTEN/NOTIFY on PostgreSQL, polling on
SQLite), so its queries and statusChanged subscribers see writes made through B.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.harness import (
    CREATE_USER,
    DEACTIVATE_USER,
    STATUS_CHANGED,
    USER_BY_EMAIL,
    Spawn,
    person,
    settled,
)
from tests.support import ADMIN, AUDITOR, GraphQLWebSocket, ServerProcess, token

Servers = tuple[ServerProcess, ServerProcess]


@pytest.fixture
def servers(spawn: Spawn) -> Servers:
    """A, which is read from, and B, which is written to."""
    return spawn.start(), spawn.start()


def create_user(server: ServerProcess, email: str) -> str:
    result = server.api.data(CREATE_USER, {"input": person(email)}, as_=token(ADMIN))
    assert result["createUser"]["__typename"] == "User", result
    return str(result["createUser"]["id"])


def wait_until_live(ws: GraphQLWebSocket, writer: ServerProcess) -> None:
    """Returns once the subscription delivers changes. The protocol does not say when a
    subscription has started, and a change made before that is not sent: so register
    probe users through `writer` until one of them arrives."""
    for attempt in range(10):
        create_user(writer, f"probe{attempt}@acme.com")
        try:
            ws.next_payload(timeout=2)
        except TimeoutError:
            continue
        return
    raise AssertionError("The subscription delivered none of 10 changes.")


def next_change_of(ws: GraphQLWebSocket, user_id: str, within: float = 10) -> dict[str, Any]:
    """The next change the subscription sends about `user_id` (late probes are skipped)."""
    deadline = time.monotonic() + within
    while True:
        payload = ws.next_payload(timeout=max(deadline - time.monotonic(), 0.1))
        change: dict[str, Any] = payload["data"]["statusChanged"]
        if change["userId"] == user_id:
            return change


def test_a_subscriber_at_one_process_receives_a_user_created_at_another(
    servers: Servers,
) -> None:
    a, b = servers
    with a.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(STATUS_CHANGED)
        wait_until_live(ws, b)

        user_id = create_user(b, "ann@acme.com")

        change = next_change_of(ws, user_id)
    assert change == {
        "userId": user_id,
        "from": None,
        "to": "PENDING",
        "source": "REGISTRATION",
        "actor": "tester",
        "reason": None,
    }


def test_a_subscriber_at_one_process_receives_a_deactivation_made_at_another(
    servers: Servers,
) -> None:
    a, b = servers
    user_id = create_user(b, "ann@acme.com")
    with a.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(STATUS_CHANGED)
        wait_until_live(ws, b)

        b.api.data(DEACTIVATE_USER, {"id": user_id, "reason": "left"}, as_=token(ADMIN))

        change = next_change_of(ws, user_id)
    assert change == {
        "userId": user_id,
        "from": "PENDING",
        "to": "DEACTIVATED",
        "source": "ADMINISTRATOR",
        "actor": "tester",
        "reason": "left",
    }


def test_a_query_at_one_process_sees_a_user_created_at_another_within_seconds(
    servers: Servers,
) -> None:
    a, b = servers
    user_id = create_user(b, "ann@acme.com")

    def found_at_a() -> Any:
        return a.api.data(USER_BY_EMAIL, {"email": "ann@acme.com"}, as_=token(ADMIN))

    expected = {"userByEmail": {"id": user_id, "status": "PENDING"}}
    assert settled(found_at_a, expected) == expected
