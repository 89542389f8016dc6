"""Processes that start at once on one PostgreSQL database (servers, workers, `roster`
commands) all start: the event store's tables are made by one at a time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from domain.application import Roster
from domain.invitations import InvitationTokens
from settings import Settings
from tests.conftest import ON_POSTGRES

STARTS = 6
ROUNDS = 5

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="SQLite lets one writer at a time")


def start_at_once(settings: Settings) -> list[str]:
    """STARTS applications opening the store together; the errors they met."""
    errors: list[str] = []
    barrier = threading.Barrier(STARTS)

    def start() -> None:
        barrier.wait()
        try:
            Roster(
                settings.store.event_store_env(),
                tokens=InvitationTokens(settings.invitation_key()),
                invitation_ttl=timedelta(days=1),
            ).close()
        except Exception as error:  # each is an outcome to report
            errors.append(repr(error))

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_processes_starting_at_once_on_a_new_database_all_start(settings: Settings) -> None:
    assert start_at_once(settings) == []


def test_processes_starting_at_once_on_an_existing_database_all_start(
    settings: Settings,
) -> None:
    errors = [error for _ in range(ROUNDS) for error in start_at_once(settings)]

    assert errors == []
