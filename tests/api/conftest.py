"""Fixtures of the mail tests: real SMTP servers, and the app with mail delivery on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from settings import Settings
from tests.mail import MailServer
from tests.support import ThreadedServer


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A mail server that accepts everything (without SMTPUTF8, aiosmtpd's default)."""
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def stopped_mail_server() -> Iterator[MailServer]:
    """A mail server not listening yet: `start()` it."""
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def serve(env: dict[str, str]) -> Iterator[Callable[..., ThreadedServer]]:
    """Starts the app on the test store, mail delivery on (the `env` fixture turns it off),
    with more settings: `serve(ROSTER_X="…")`."""
    running: list[ThreadedServer] = []

    def start(**extra: str) -> ThreadedServer:
        settings = Settings.from_env({**env, "ROSTER_MAIL_DELIVERY": "on", **extra})
        server = ThreadedServer(settings).__enter__()
        running.append(server)
        return server

    yield start
    for server in running:
        server.__exit__(None, None, None)
