"""importProgress over graphql-transport-ws: the progress at once, then its changes (at
most about ten a second, the last never dropped), completed once the batch is done."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest

from tests.api.importing import PROGRESS, Importer, people
from tests.api.operations import ON_POSTGRES, error_codes
from tests.integration.harness import Spawn
from tests.support import ADMIN, AUDITOR, GraphQLWebSocket, ThreadedServer, token

#: The contract's rate is about ten messages a second; allow some slack for timing.
MESSAGES_PER_SECOND = 12


def progress_until_complete(
    ws: GraphQLWebSocket, operation: str, *, within: float = 60
) -> list[dict[str, Any]]:
    """Every progress message of the subscription until the server completes it."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while True:
        message = ws.receive(timeout=max(deadline - time.monotonic(), 0.1))
        assert message["id"] == operation, message
        if message["type"] == "complete":
            return received
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        received.append(message["payload"]["data"]["importProgress"])


def first_progress(ws: GraphQLWebSocket) -> dict[str, Any]:
    progress: dict[str, Any] = ws.next_payload()["data"]["importProgress"]
    return progress


def reviewed(importer: Importer, rows: int) -> str:
    """A batch of `rows` valid rows IN_REVIEW, with access chosen."""
    batch_id: str = importer.started(people(rows))["id"]
    chosen = importer.set_access(batch_id, mode="CUSTOMIZE", rows=[])
    assert chosen["__typename"] == "ImportBatch", chosen
    return batch_id


def commit(importer: Importer, batch_id: str) -> None:
    result = importer.commit(batch_id)
    assert result["__typename"] == "ImportBatch", result


def assert_rising(messages: list[dict[str, Any]]) -> None:
    """Counts never go back, and no message repeats the one before."""
    for before, after in pairwise(messages):
        assert after != before
        assert after["processed"] >= before["processed"]
        assert after["created"] >= before["created"]


def refusal(server: ThreadedServer, authorization: str, batch_id: str) -> list[str]:
    """The error codes a subscription answers with (as `next` with errors, or `error`)."""
    with server.api.websocket(authorization) as ws:
        ws.subscribe(PROGRESS, {"batchId": batch_id})
        message = ws.receive()
    assert message["type"] in ("next", "error"), message
    payload = message["payload"]
    return error_codes(payload if isinstance(payload, dict) else {"errors": payload})


# ---------------------------------------------------------------------------- messages


def test_a_batch_in_review_gives_its_progress_at_once(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch = importer.started(people(3))

    with server.api.websocket(importer.token) as ws:
        ws.subscribe(PROGRESS, {"batchId": batch["id"]})
        progress = first_progress(ws)

    assert progress == batch["progress"]
    assert (progress["status"], progress["total"], progress["processed"]) == ("IN_REVIEW", 3, 0)


def test_a_commit_is_followed_to_completed_then_the_subscription_completes(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, 3_000)

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        assert first_progress(ws)["status"] == "IN_REVIEW"
        commit(importer, batch_id)
        messages = progress_until_complete(ws, operation)

    assert_rising(messages)
    assert {m["status"] for m in messages[:-1]} <= {"COMMITTING"}
    assert messages[-1] == importer.batch(batch_id)["progress"]
    assert (messages[-1]["status"], messages[-1]["created"]) == ("COMPLETED", 3_000)


def test_a_long_commit_sends_about_ten_messages_a_second_at_most(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, 5_000)

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        first_progress(ws)
        started = time.monotonic()
        commit(importer, batch_id)
        messages = progress_until_complete(ws, operation)
        elapsed = time.monotonic() - started

    assert len(messages) <= elapsed * MESSAGES_PER_SECOND + 3, (len(messages), elapsed)
    assert_rising(messages)
    assert any(0 < m["processed"] < 5_000 for m in messages), messages  # ranges show
    assert messages[-1] == importer.batch(batch_id)["progress"]
    assert messages[-1]["processed"] == 5_000


def test_rapid_edits_are_coalesced_and_the_last_state_is_sent(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = importer.started(people(60))["id"]

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        first_progress(ws)
        started = time.monotonic()
        for number in range(1, 61):
            assert importer.exclude(batch_id, number)["__typename"] == "ImportBatch"
        messages = [first_progress(ws)]
        while messages[-1]["excluded"] < 60:
            messages.append(first_progress(ws))
        elapsed = time.monotonic() - started
        importer.cancel(batch_id)
        ending = progress_until_complete(ws, operation)

    assert len(messages) <= elapsed * MESSAGES_PER_SECOND + 3, (len(messages), elapsed)
    assert [m["excluded"] for m in messages] == sorted({m["excluded"] for m in messages})
    assert (messages[-1]["excluded"], messages[-1]["valid"]) == (60, 0)
    assert [m["status"] for m in ending] == ["CANCELLED"]


def test_a_cancelled_batch_completes_the_subscription(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = importer.started(people(3))["id"]

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        first_progress(ws)
        assert importer.cancel(batch_id)["status"] == "CANCELLED"
        messages = progress_until_complete(ws, operation)

    assert messages == [importer.batch(batch_id)["progress"]]
    assert messages[0]["status"] == "CANCELLED"


def test_a_finished_batch_gives_its_final_progress_and_completes(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, 2)
    commit(importer, batch_id)
    final = importer.wait_for(batch_id, "COMPLETED")["progress"]

    with server.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        messages = progress_until_complete(ws, operation)

    assert messages == [final]


# ---------------------------------------------------------------------------- refusals


def test_an_unknown_batch_is_not_found(server: ThreadedServer) -> None:
    assert refusal(server, token(ADMIN), str(UUID(int=7))) == ["NOT_FOUND"]


def test_a_malformed_batch_id_is_bad_user_input(server: ThreadedServer) -> None:
    assert refusal(server, token(ADMIN), "batch-7") == ["BAD_USER_INPUT"]


def test_an_auditor_may_not_follow_an_import(server: ThreadedServer) -> None:
    batch_id = Importer(server.api).started(people(1))["id"]

    assert refusal(server, token(AUDITOR), batch_id) == ["FORBIDDEN"]


# ---------------------------------------------------------------------------- processes


@pytest.mark.skipif(not ON_POSTGRES, reason="only PostgreSQL tells other processes at once")
def test_a_subscriber_at_one_process_follows_a_commit_run_by_another(
    server: ThreadedServer, spawn: Spawn
) -> None:
    # The commit runs in this process's server; the subscriber is served by another
    # process, whose own worker is off.
    watched = spawn.start({"ROSTER_IMPORT_WORKER": "off"})
    importer = Importer(server.api)
    batch_id = reviewed(importer, 2_000)
    Importer(watched.api).wait_for(batch_id, "IN_REVIEW")

    with watched.api.websocket(importer.token) as ws:
        operation = ws.subscribe(PROGRESS, {"batchId": batch_id})
        assert first_progress(ws)["status"] == "IN_REVIEW"
        commit(importer, batch_id)
        messages = progress_until_complete(ws, operation)

    assert_rising(messages)
    assert messages[-1] == importer.wait_for(batch_id, "COMPLETED")["progress"]
    assert messages[-1]["created"] == 2_000
