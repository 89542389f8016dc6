"""Copies of an erased person's data outside the read models: uploaded files kept past
their read, and SQLite's write-ahead log, forgotten once the erasure is applied."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from uuid import UUID

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser
from settings import Settings
from tests.api.importing import people
from tests.conftest import ON_POSTGRES
from tests.integration.test_projections import ACTOR


@pytest.fixture
def services(env: dict[str, str]) -> Iterator[Services]:
    """The store with every uploaded file kept for a worker (none runs here)."""
    built = build_services(Settings.from_env({**env, "ROSTER_IMPORT_INLINE_ROWS": "0"}))
    yield built
    built.close()


def kept(services: Services) -> UUID:
    """A batch whose file is kept, waiting to be read."""
    return services.intake.accept(io.BytesIO(people(3)), "people.csv", actor=ACTOR).id


def kept_files(services: Services) -> set[str]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT DISTINCT batch_id FROM import_uploads")
        return {row["batch_id"] for row in cursor.fetchall()}


def erase_someone(services: Services) -> None:
    user_id = services.roster.register_user(NewUser("Zoë", "Quist", "zq@acme.com"), actor=ACTOR).id
    services.read_model.catch_up()
    services.roster.erase_user(user_id, actor=ACTOR, reason="request 14", rows=[])
    services.read_model.catch_up()


def test_an_erasure_forgets_the_kept_files_their_batches_have_read(services: Services) -> None:
    read = kept(services)
    intake = services.intake
    stored = intake.uploads.open(read)
    assert stored is not None
    # As a crash between the read and the deletion of its file leaves it.
    assert intake.importer.read(read, io.BufferedReader(stored), intake.limits) is not None
    waiting = kept(services)
    services.read_model.catch_up()
    assert kept_files(services) == {str(read), str(waiting)}

    erase_someone(services)

    assert kept_files(services) == {str(waiting)}


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write-ahead log")
def test_the_log_is_truncated_once_an_erasure_is_applied(services: Services) -> None:
    log = f"{services.settings.store.sqlite_path}-wal"
    services.roster.register_user(NewUser("Bo", "Ng", "bo@acme.com"), actor=ACTOR)
    services.read_model.catch_up()
    assert os.path.getsize(log) > 0

    erase_someone(services)

    assert os.path.getsize(log) == 0
