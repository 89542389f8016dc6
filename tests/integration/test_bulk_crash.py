"""Bulk actions and reverts that outlive their processes: a server killed (SIGKILL) in the
middle of one, and the process started after it finishing it. Each ends on the same
check: every user of the action changed exactly once, counted in the status history."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from domain.application import NewUser
from domain.bulk.action import BulkAction, BulkActionStatus
from domain.imports.batch import ImportBatch, ImportStatus
from domain.statuses import StatusChangeSource
from tests.api.bulk import BULK, REVERTED_BATCH, revert, start_bulk
from tests.api.importing import Importer, people
from tests.api.operations import Administrator
from tests.integration.harness import Spawn
from tests.integration.test_import_crash import LEASE, kill, opened
from tests.support import ServerProcess


def registered(env: dict[str, str], count: int) -> None:
    """`count` PENDING users, registered straight into the store (a thousand a write)."""
    with opened(env) as services:
        for start in range(0, count, 1000):
            services.roster.register_users(
                [
                    NewUser(first_name="Person", last_name=f"No{n}", email=f"p.{n}@acme.com")
                    for n in range(start, min(start + 1000, count))
                ],
                actor="setup",
                source=StatusChangeSource.REGISTRATION,
            )


def stored_action(env: dict[str, str], action_id: str) -> BulkAction:
    with opened(env) as services:
        return services.roster.get_aggregate(BulkAction, UUID(action_id), "bulk action")


def deactivations(env: dict[str, str], source: str) -> dict[str, int]:
    """How often each user was deactivated from `source`, as the status history says."""
    with opened(env) as services:
        services.read_model.catch_up()
        with services.database.reading() as cursor:
            cursor.execute(
                "SELECT user_id, count(*) AS n FROM status_changes"
                " WHERE to_status = 'DEACTIVATED' AND source = %s GROUP BY user_id",
                (source,),
            )
            return {row["user_id"]: int(row["n"]) for row in cursor.fetchall()}


def poll(read: Any, reached: Any, within: float = 120) -> Any:
    deadline = time.monotonic() + within
    while not reached(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(0.02)
    return value


def bulk_progress(server: ServerProcess, action_id: str) -> dict[str, Any]:
    found: dict[str, Any] = server.api.data(
        BULK, {"id": action_id}, as_=Administrator(server.api).token
    )["bulkActionProgress"]
    return found


def test_a_bulk_action_killed_midway_is_finished_by_the_next_server_each_user_once(
    spawn: Spawn, env: dict[str, str]
) -> None:
    users = 6_000
    registered(env, users)
    first = spawn.start(LEASE)
    action_id = start_bulk(first.api, "DEACTIVATE", filter={}, reason="crash")["id"]
    poll(lambda: bulk_progress(first, action_id), lambda p: p["processed"] >= 1_000)
    kill(first.process)
    left = stored_action(env, action_id)
    assert left.status is BulkActionStatus.RUNNING
    assert 0 < left.cursor < users, f"not killed midway: {left.cursor} of {users}"

    second = spawn.start(LEASE)

    done = poll(lambda: bulk_progress(second, action_id), lambda p: p["status"] == "COMPLETED")
    assert (done["total"], done["changed"], done["skipped"]) == (users, users, 0)
    counted = deactivations(env, "ADMINISTRATOR")
    assert (len(counted), set(counted.values())) == (users, {1})


def reverted_batch(server: ServerProcess, batch_id: str) -> dict[str, Any]:
    found: dict[str, Any] = server.api.data(
        REVERTED_BATCH, {"id": batch_id}, as_=Administrator(server.api).token
    )["importBatch"]
    return found


def test_a_revert_killed_midway_is_finished_by_the_next_server_each_user_once(
    spawn: Spawn, env: dict[str, str]
) -> None:
    rows = 4_000
    first = spawn.start(LEASE)
    importer = Importer(first.api)
    batch_id = importer.started(people(rows))["id"]
    assert importer.committed(batch_id)["status"] == "COMPLETED"
    assert revert(first.api, batch_id, "crash")["status"] == "REVERTING"
    poll(lambda: reverted_batch(first, batch_id)["progress"], lambda p: p["reverted"] >= 1_000)
    kill(first.process)
    with opened(env) as services:
        batch = services.roster.get_aggregate(ImportBatch, UUID(batch_id), "import batch")
        assert batch.status is ImportStatus.REVERTING
        assert batch.revert_action_id is not None
        left = services.roster.get_aggregate(BulkAction, batch.revert_action_id, "bulk action")
    assert 0 < left.cursor < rows, f"not killed midway: {left.cursor} of {rows}"

    second = spawn.start(LEASE)

    done = poll(lambda: reverted_batch(second, batch_id), lambda b: b["status"] == "REVERTED")
    assert (done["revert"]["total"], done["revert"]["reverted"]) == (rows, rows)
    counted = deactivations(env, "IMPORT_REVERT")
    assert (len(counted), set(counted.values())) == (rows, {1})
