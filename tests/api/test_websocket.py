"""The limits of a GraphQL WebSocket: graphql-transport-ws only, messages no larger than a
request body, a bounded number of operations, and no life beyond its token's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from settings import Settings
from tests.api.operations import store_for_module
from tests.support import ADMIN, GraphQLWebSocket, ThreadedServer, token

MAX_BODY_BYTES = 16_384
MAX_SUBSCRIPTIONS = 2
FEED = "subscription { statusChanged { to } }"
UNKNOWN_BATCH = (
    'subscription { importProgress(batchId: "00000000-0000-4000-8000-000000000000") { total } }'
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with store_for_module(tmp_path_factory.mktemp("websocket")) as env:
        limits = {
            "ROSTER_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            "ROSTER_MAX_SUBSCRIPTIONS": str(MAX_SUBSCRIPTIONS),
        }
        with ThreadedServer(Settings.from_env({**env, **limits})) as running:
            yield running


def padded_ping(size: int) -> str:
    """A ping message of exactly `size` bytes."""
    bare = json.dumps({"type": "ping", "padding": ""})
    return json.dumps({"type": "ping", "padding": "x" * (size - len(bare))})


def test_a_message_over_the_body_limit_closes_the_socket_unparsed(server: ThreadedServer) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        # Not JSON either: parsed, it would be closed with 4400 for that.
        ws.ws.send("{" * (MAX_BODY_BYTES + 1))
        assert ws.closed() == (1009, f"A message may hold {MAX_BODY_BYTES} bytes at most.")


def test_a_message_over_the_limit_in_bytes_but_not_in_characters_is_refused(
    server: ThreadedServer,
) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        ws.ws.send(padded_ping(MAX_BODY_BYTES).replace("x", "é", 1))
        assert ws.closed()[0] == 1009


def test_a_message_of_the_body_limit_is_read(server: ThreadedServer) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        ws.ws.send(padded_ping(MAX_BODY_BYTES))
        assert json.loads(ws.ws.recv(timeout=10)) == {"type": "pong"}


def test_an_operation_beyond_the_most_a_connection_runs_is_refused(
    server: ThreadedServer,
) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        for _ in range(MAX_SUBSCRIPTIONS):
            ws.subscribe(FEED)
        refused = ws.subscribe(UNKNOWN_BATCH)
        answer = ws.receive()
    assert (answer["type"], answer["id"]) == ("error", refused)
    assert [e["extensions"]["code"] for e in answer["payload"]] == ["TOO_MANY_SUBSCRIPTIONS"]


def test_a_connection_at_its_most_operations_runs_another_once_one_completes(
    server: ThreadedServer,
) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        first = ws.subscribe(FEED)
        for _ in range(MAX_SUBSCRIPTIONS - 1):
            ws.subscribe(FEED)
        ws.send({"id": first, "type": "complete"})
        ws.subscribe(UNKNOWN_BATCH)
        answer = ws.receive()
    assert answer["type"] == "next", answer
    # Run, as far as the lookup of the batch, which is not there.
    assert [e["extensions"]["code"] for e in answer["payload"]["errors"]] == ["NOT_FOUND"]


def test_a_connection_is_closed_with_4401_when_its_token_expires(server: ThreadedServer) -> None:
    """Closed at the token's `exp`, on a timer: no status change happens meanwhile."""
    with server.api.websocket(token(ADMIN, ttl=timedelta(seconds=3))) as ws:
        ws.subscribe(FEED)
        assert ws.closed(timeout=15) == (
            4401,
            "The token has expired; connect again with a new one.",
        )


def test_a_websocket_speaks_only_graphql_transport_ws(server: ThreadedServer) -> None:
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[Subprotocol("graphql-ws")]) as raw:
        assert GraphQLWebSocket(raw).closed() == (4406, "Subprotocol not acceptable")
