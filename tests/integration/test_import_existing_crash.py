"""A server killed (SIGKILL) while a commit carries out the actions of EXISTING rows, and
the server started after it finishing the batch: each user's action is applied exactly
once, because a range's users are saved in the same write as the batch's record of it."""

from __future__ import annotations

from collections import Counter
from typing import cast
from uuid import UUID

from domain.application import EventsOfMany
from domain.imports.batch import ImportBatch, ImportStatus
from tests.api.importing import Importer, people
from tests.integration.harness import Spawn
from tests.integration.test_import_crash import (
    LEASE,
    committing,
    every,
    kill,
    opened,
    progress_when,
    stored_batch,
)

SET_ACTION = """
mutation($batchId: ID!) {
  setImportRowAction(batchId: $batchId, rowNumbers: null, action: RESEND_INVITATION) {
    __typename
  }
}"""


def test_a_server_killed_while_resending_invitations_resends_each_exactly_once(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 10_000
    first = spawn.start(LEASE)
    importer = Importer(first.api)
    registering = committing(importer, people(rows))
    importer.wait_for(registering, "COMPLETED", timeout=120)
    again = str(importer.started(people(rows))["id"])
    assert importer.batch(again)["progress"]["valid"] == 0
    chosen = importer.api.data(SET_ACTION, {"batchId": again}, as_=importer.token)
    assert chosen["setImportRowAction"]["__typename"] == "ImportBatch"
    assert importer.set_access(again, mode="CUSTOMIZE", rows=[])["__typename"] == "ImportBatch"
    assert importer.commit(again)["status"] == "COMMITTING"
    progress_when(importer, again, lambda p: p["processed"] >= 2_000)
    kill(first.process)
    left = stored_batch(env, again)
    assert left.status is ImportStatus.COMMITTING, left.status
    assert 0 < left.commit_cursor < rows, f"not killed midway: {left.commit_cursor} of {rows}"

    importer = Importer(spawn.start(LEASE).api)

    batch = importer.wait_for(again, "COMPLETED", timeout=120)
    rows_seen = every(lambda after: importer.rows(again, first=500, after=after))
    assert Counter(row["status"] for row in rows_seen) == {"UPDATED": rows}
    assert batch["progress"]["processed"] == rows
    registered = [ImportBatch.user_id_for(UUID(registering), n) for n in range(1, rows + 1)]
    with opened(env) as services:
        recorder = cast(EventsOfMany, services.roster.recorder)
        events = [
            event
            for start in range(0, rows, 500)
            for event in recorder.events_of(registered[start : start + 500])
        ]
    reissued = Counter(e.originator_id for e in events if e.topic.endswith("InvitationReissued"))
    assert (len(reissued), set(reissued.values())) == (rows, {1})
