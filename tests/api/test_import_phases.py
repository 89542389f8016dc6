"""ImportProgress.phase and etaSeconds through the query and the subscription, across a
commit (REGISTERING, then DONE). CHECKING and RECORDING pass too quickly for a small file
to be caught here: tests/domain/imports/test_phases.py maps them, and
tests/projections/test_import_review_table.py starts their clock."""

from __future__ import annotations

from typing import Any

from tests.api.importing import Importer
from tests.api.test_import_progress import commit, first_progress, progress_until_complete, reviewed
from tests.support import ThreadedServer

PHASES = """
subscription($batchId: ID!) {
  importProgress(batchId: $batchId) { status phase etaSeconds processed valid }
}"""
BATCH_PHASE = "query($id: ID!) { importBatch(id: $id) { progress { status phase etaSeconds } } }"
PHASE_OF = {"COMMITTING": "REGISTERING", "COMPLETED": "DONE"}


def progress(importer: Importer, batch_id: str) -> dict[str, Any]:
    found: dict[str, Any] = importer.api.data(BATCH_PHASE, {"id": batch_id}, as_=importer.token)[
        "importBatch"
    ]["progress"]
    return found


def test_a_batch_in_review_is_done_with_nothing_left(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, 3)

    assert progress(importer, batch_id) == {"status": "IN_REVIEW", "phase": "DONE", "etaSeconds": 0}


def test_a_commit_is_registering_with_an_estimate_then_done(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, 6_000)

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PHASES, {"batchId": batch_id})
        assert first_progress(ws)["phase"] == "DONE"
        commit(importer, batch_id)
        messages = progress_until_complete(ws, operation)

    assert [m["phase"] for m in messages] == [PHASE_OF[m["status"]] for m in messages]
    registering = [m for m in messages if m["phase"] == "REGISTERING"]
    assert any(0 < m["processed"] < m["valid"] for m in registering), messages
    # Before any rows are registered there is no rate yet; after, an estimate.
    for message in registering:
        if message["processed"] == 0:
            assert message["etaSeconds"] is None
        else:
            assert isinstance(message["etaSeconds"], int)
            assert message["etaSeconds"] >= 0
    assert (messages[-1]["phase"], messages[-1]["etaSeconds"]) == ("DONE", 0)
    assert progress(importer, batch_id) == {"status": "COMPLETED", "phase": "DONE", "etaSeconds": 0}
