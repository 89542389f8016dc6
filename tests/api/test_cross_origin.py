"""Browser frontends on other origins: allowed only when listed in ROSTER_CORS_ORIGINS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol

from settings import Settings
from tests.support import ThreadedServer

FRONTEND = "https://portal.example.com"
ELSEWHERE = "https://evil.example.net"


@pytest.fixture
def cors_server(settings: Settings) -> Iterator[ThreadedServer]:
    with ThreadedServer(replace(settings, cors_origins=(FRONTEND,))) as running:
        yield running


def preflight(server: ThreadedServer, origin: str) -> httpx.Response:
    return httpx.options(
        f"{server.base_url}/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_a_listed_origin_passes_the_preflight(cors_server: ThreadedServer) -> None:
    response = preflight(cors_server, FRONTEND)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_an_unlisted_origin_fails_the_preflight(cors_server: ThreadedServer) -> None:
    response = preflight(cors_server, ELSEWHERE)

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_no_origin_is_allowed_by_default(server: ThreadedServer) -> None:
    assert "access-control-allow-origin" not in preflight(server, FRONTEND).headers


def test_credentials_are_never_allowed_cross_origin(cors_server: ThreadedServer) -> None:
    response = preflight(cors_server, FRONTEND)

    assert response.headers.get("access-control-allow-credentials") != "true"


def websocket_from(server: ThreadedServer, origin: str) -> str | None:
    """Opens a WebSocket from `origin`; returns the subprotocol the server accepted."""
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    with connect(
        url, origin=Origin(origin), subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        return ws.subprotocol


def test_a_listed_origin_may_open_a_websocket(cors_server: ThreadedServer) -> None:
    assert websocket_from(cors_server, FRONTEND) == "graphql-transport-ws"


def test_an_unlisted_origin_may_not_open_a_websocket(cors_server: ThreadedServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        websocket_from(cors_server, ELSEWHERE)

    assert refused.value.response.status_code == 403
