"""Work in progress is not a read model: a change of the read models' version rebuilds
them from the events, and leaves alone the files that batches still have to read."""

from __future__ import annotations

from settings import Settings
from tests.api.importing import Importer, people
from tests.support import ThreadedServer

ROWS = 3_000


def test_a_version_change_keeps_a_waiting_file_and_its_batch_completes(
    env: dict[str, str],
) -> None:
    waiting = {**env, "ROSTER_IMPORT_WORKER": "off", "ROSTER_IMPORT_INLINE_ROWS": "100"}
    with ThreadedServer(Settings.from_env(waiting)) as server:
        batch_id = Importer(server.api).start(people(ROWS))["id"]
        services = server.app.state.services
        with services.database.writing() as cursor:
            # As a server of an older version would leave the store.
            cursor.execute("UPDATE read_model_version SET version = 1")
            cursor.execute("SELECT count(*) AS parts FROM import_uploads")
            kept = cursor.fetchone()
        assert kept is not None
        assert kept["parts"] > 0

    with ThreadedServer(Settings.from_env(env)) as server:
        importer = Importer(server.api)
        assert importer.batch(batch_id)["status"] in ("VALIDATING", "IN_REVIEW")
        importer.wait_for(batch_id, "IN_REVIEW")
        importer.set_access(batch_id, mode="ASSIGN_GROUPS", groupIds=[])
        done = importer.committed(batch_id)

    assert done["status"] == "COMPLETED"
    assert (done["progress"]["total"], done["progress"]["created"]) == (ROWS, ROWS)
