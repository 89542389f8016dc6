"""Fixtures shared by every layer: a fresh store (SQLite file or PostgreSQL database),
settings for it, and the real ASGI app served by uvicorn on a free local port.

ROSTER_TEST_DATABASE_URL picks the store: unset (or "sqlite") gives a new SQLite file
per test; a PostgreSQL URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres) gives a
new database per test on that server, dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from settings import Settings
from tests.support import (
    TEST_SECRET,
    ServerProcess,
    ThreadedServer,
    create_database,
    drop_database,
)

TEST_DATABASE = os.environ.get("ROSTER_TEST_DATABASE_URL", "sqlite")
ON_POSTGRES = TEST_DATABASE.startswith(("postgresql://", "postgres://"))

# Property tests try the same examples every run (reproducible, never flaky in CI) and keep
# no example database; `pytest --hypothesis-profile=explore` looks for new ones.
hypothesis_settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=200
)
hypothesis_settings.register_profile("explore", database=None, deadline=None, max_examples=2000)
hypothesis_settings.load_profile("ci")


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'roster.db'}"
        return
    url = create_database(TEST_DATABASE)
    try:
        yield url
    finally:
        drop_database(TEST_DATABASE, url)


@pytest.fixture
def env(store_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment a server process gets: only ROSTER_* variables configure it."""
    return {
        "ROSTER_DATABASE_URL": store_url,
        "ROSTER_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ROSTER_ERASURE_LEDGER": str(tmp_path / "erasures.jsonl"),
        # Mails record events of their own, at their own pace: tests that count events
        # would race them. The mail tests turn delivery on.
        "ROSTER_MAIL_DELIVERY": "off",
        "ROSTER_JWT_SECRET": TEST_SECRET,
        "ROSTER_INVITATION_TTL": "7d",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
def server(settings: Settings) -> Iterator[ThreadedServer]:
    with ThreadedServer(settings) as running:
        yield running


@pytest.fixture
def spawn(env: dict[str, str], tmp_path: Path) -> Iterator[type[ServerProcess]]:
    """Starts more server processes on the same store: `spawn.start(env)`."""
    started: list[ServerProcess] = []

    class Spawn(ServerProcess):
        @classmethod
        def start(cls, extra: dict[str, str] | None = None) -> ServerProcess:
            process = ServerProcess.launch({**env, **(extra or {})}, tmp_path)
            started.append(process)
            return process

    yield Spawn
    for process in started:
        process.stop()
