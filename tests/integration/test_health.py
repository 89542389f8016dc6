"""GET /health: what a load balancer or orchestrator asks before sending traffic."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.integration.harness import CREATE_USER, ON_POSTGRES, Spawn, person
from tests.support import ADMIN, ThreadedServer, drop_database, token

ON_POSTGRES_ONLY = pytest.mark.skipif(
    not ON_POSTGRES, reason="a SQLite file cannot be taken away from a running server"
)
#: What a probe waits at most for an answer (Kubernetes' default is 1 s).
PROBE_TIMEOUT = 5


def test_health_is_ok_on_a_running_server(server: ThreadedServer) -> None:
    response = server.api.http.get("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == "ok"


def test_health_reports_a_read_model_level_with_the_store(server: ThreadedServer) -> None:
    server.api.data(CREATE_USER, {"input": person("ann@acme.com")}, as_=token(ADMIN))

    health = server.api.http.get("/health").json()

    assert health["store"] == ("postgres" if ON_POSTGRES else "sqlite")
    assert health["events"] == health["readModelPosition"] > 0


@pytest.fixture
def orphaned(spawn: Spawn, store_url: str) -> str:
    """The base URL of a server process whose PostgreSQL database was dropped under it."""
    process = spawn.start()
    drop_database(os.environ["ROSTER_TEST_DATABASE_URL"], store_url)
    return process.base_url


@ON_POSTGRES_ONLY
def test_health_is_unavailable_once_the_database_is_gone(orphaned: str) -> None:
    response = httpx.get(f"{orphaned}/health", timeout=PROBE_TIMEOUT)

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@ON_POSTGRES_ONLY
def test_health_keeps_answering_promptly_while_the_database_is_gone(orphaned: str) -> None:
    httpx.get(f"{orphaned}/health", timeout=PROBE_TIMEOUT)

    response = httpx.get(f"{orphaned}/health", timeout=PROBE_TIMEOUT)

    assert response.status_code == 503
