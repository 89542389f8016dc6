"""startBulkAction and bulkActionProgress over HTTP and WebSocket: actions on listed users
and on a filter's, what is skipped, what is refused, who may, and the progress."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from settings import Settings
from tests.api.bulk import (
    BULK,
    BULK_PROGRESS,
    batch_users,
    bulk_done,
    expire,
    history,
    imported,
    start_bulk,
)
from tests.api.operations import Administrator, error_codes, event_count, store_for_module
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """Every test registers users of its own (filters name them by a search of their own)."""
    with (
        store_for_module(tmp_path_factory.mktemp("bulk")) as env,
        ThreadedServer(Settings.from_env(env)) as running,
    ):
        yield running


def registered(server: ThreadedServer, count: int) -> tuple[str, list[str]]:
    """A word of their own, and the ids of `count` new PENDING users with it in their name."""
    word = f"zq{uuid4().hex[:8]}"
    admin = Administrator(server.api)
    ids = [
        admin.register("Ana", f"{word} {n}", f"ana.{n}.{word}@acme.com")["id"] for n in range(count)
    ]
    return word, ids


def statuses(server: ThreadedServer, ids: list[str]) -> list[str]:
    admin = Administrator(server.api)
    return [admin.user(user_id)["status"] for user_id in ids]


def test_deactivating_listed_users_skips_those_already_deactivated(
    server: ThreadedServer,
) -> None:
    api = server.api
    _, (first, second, gone) = registered(server, 3)
    Administrator(api).deactivate(gone)
    started = start_bulk(api, "DEACTIVATE", ids=[first, second, gone], reason="left")
    assert (started["__typename"], started["action"], started["total"]) == (
        "BulkActionProgress",
        "DEACTIVATE",
        3,
    )
    done = bulk_done(api, started["id"])
    assert (done["processed"], done["changed"], done["skipped"]) == (3, 2, 1)
    assert (done["actor"], done["reason"]) == ("admin", "left")
    assert statuses(server, [first, second, gone]) == ["DEACTIVATED"] * 3
    last = history(api, first)[-1]
    assert (last["to"], last["source"], last["reason"]) == ("DEACTIVATED", "ADMINISTRATOR", "left")
    assert len(history(api, gone)) == 2  # registered, deactivated once


def test_resending_every_expired_invitation_by_filter(server: ThreadedServer) -> None:
    api = server.api
    word, ids = registered(server, 4)
    expire(server, *ids[:3])
    started = start_bulk(api, "RESEND_INVITATION", filter={"search": word, "status": ["EXPIRED"]})
    assert started["total"] == 3
    done = bulk_done(api, started["id"])
    assert (done["changed"], done["skipped"]) == (3, 0)
    assert statuses(server, ids) == ["PENDING"] * 4
    assert [len(history(api, user_id)) for user_id in ids] == [3, 3, 3, 1]


def test_reactivating_listed_users(server: ThreadedServer) -> None:
    api = server.api
    _, (pending, deactivated) = registered(server, 2)
    Administrator(api).deactivate(deactivated)
    done = bulk_done(api, start_bulk(api, "REACTIVATE", ids=[pending, deactivated])["id"])
    assert (done["changed"], done["skipped"]) == (1, 1)
    assert statuses(server, [pending, deactivated]) == ["PENDING", "PENDING"]


def test_a_filter_by_import_batch_takes_only_its_users(server: ThreadedServer) -> None:
    api = server.api
    batch_id, users = imported(api, 3, f"{uuid4().hex[:8]}.example.com")
    _, others = registered(server, 1)
    started = start_bulk(api, "DEACTIVATE", filter={"importBatchId": batch_id})
    assert started["total"] == 3
    bulk_done(api, started["id"])
    assert [user["status"] for user in batch_users(api, batch_id)] == ["DEACTIVATED"] * 3
    assert statuses(server, others) == ["PENDING"]
    assert batch_users(api, batch_id, "PENDING") == []
    assert {user["id"] for user in batch_users(api, batch_id)} == {user["id"] for user in users}


def test_the_users_are_those_matching_when_it_starts(server: ThreadedServer) -> None:
    """Users registered after the start are not taken, whatever the filter."""
    api = server.api
    word, _ = registered(server, 2)
    started = start_bulk(api, "DEACTIVATE", filter={"search": word})
    Administrator(api).register("Ana", f"{word} late", f"late.{word}@acme.com")
    done = bulk_done(api, started["id"])
    assert (done["total"], done["changed"]) == (2, 2)


def test_an_empty_selection_is_completed_at_once(server: ThreadedServer) -> None:
    started = start_bulk(server.api, "DEACTIVATE", filter={"search": f"zz{uuid4().hex}"})
    assert (started["status"], started["total"], started["processed"]) == ("COMPLETED", 0, 0)


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({}, "filter", "ONE_SELECTION"),
        ({"filter": {"search": "a"}, "ids": []}, "userIds", "ONE_SELECTION"),
        ({"ids": ["USER"]}, "userIds[1]", "UNKNOWN_USER"),
        ({"ids": ["USER", "ana"]}, "userIds[1]", "INVALID_ID"),
        ({"ids": ["USER"], "reason": "x" * 501}, "reason", "TOO_LONG"),
        ({"filter": {"importBatchId": "batch"}}, "filter.importBatchId", "INVALID_ID"),
        ({"filter": {"search": "x" * 201}}, "filter.search", "TOO_LONG"),
    ],
)
def test_a_refused_start_is_invalid_input_and_changes_nothing(
    server: ThreadedServer, given: dict[str, Any], field: str, code: str
) -> None:
    api = server.api
    _, (user_id,) = registered(server, 1)
    if "ids" in given:
        given["ids"] = [user_id if i == "USER" else i for i in given["ids"]]
        if code == "UNKNOWN_USER":
            given["ids"].append(str(uuid4()))
    before = event_count(api)
    outcome = start_bulk(api, "DEACTIVATE", **given)
    assert (outcome["__typename"], outcome["field"], outcome["code"]) == (
        "InvalidInput",
        field,
        code,
    )
    assert outcome["message"]
    assert event_count(api) == before
    assert statuses(server, [user_id]) == ["PENDING"]


@pytest.mark.parametrize("profile", [VIEWER, AUDITOR])
def test_only_an_administrator_may_start_or_follow_one(
    server: ThreadedServer, profile: Any
) -> None:
    api = server.api
    _, (user_id,) = registered(server, 1)
    before = event_count(api)
    refused = api.post(
        "mutation($ids: [ID!]) { startBulkAction(action: DEACTIVATE, userIds: $ids)"
        " { __typename } }",
        {"ids": [user_id]},
        as_=token(profile),
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert event_count(api) == before
    action_id = start_bulk(api, "DEACTIVATE", ids=[user_id])["id"]
    assert error_codes(api.post(BULK, {"id": action_id}, as_=token(profile))) == ["FORBIDDEN"]
    with api.websocket(token(profile)) as ws:
        ws.subscribe(BULK_PROGRESS, {"id": action_id})
        message = ws.receive()
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"]
    bulk_done(api, action_id)  # the other tests count events


def test_an_unknown_action_reads_as_null(server: ThreadedServer) -> None:
    result = server.api.data(BULK, {"id": str(uuid4())}, as_=token(ADMIN))
    assert result == {"bulkActionProgress": None}


def test_progress_is_streamed_until_completed(env: dict[str, str]) -> None:
    """With no worker running the action waits RUNNING until one runs it."""
    settings = Settings.from_env({**env, "ROSTER_IMPORT_WORKER": "off"})
    with ThreadedServer(settings) as server:
        _, ids = registered(server, 3)
        started = start_bulk(server.api, "DEACTIVATE", ids=ids)
        assert started["status"] == "RUNNING"
        with server.api.websocket(token(ADMIN)) as ws:
            operation = ws.subscribe(BULK_PROGRESS, {"id": started["id"]})
            first = ws.next_payload()["data"]["bulkActionProgress"]
            assert (first["status"], first["processed"]) == ("RUNNING", 0)
            server.app.state.services.bulk_worker.run_once()
            messages = []
            deadline = time.monotonic() + 30
            while (message := ws.receive(timeout=deadline - time.monotonic()))["type"] != (
                "complete"
            ):
                assert message["id"] == operation
                messages.append(message["payload"]["data"]["bulkActionProgress"])
        assert (messages[-1]["status"], messages[-1]["changed"]) == ("COMPLETED", 3)


def test_a_subscription_to_an_unknown_action_is_not_found(server: ThreadedServer) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        ws.subscribe(BULK_PROGRESS, {"id": str(uuid4())})
        message = ws.receive()
    assert message["type"] in ("next", "error"), message
    payload = message["payload"]
    errors = payload["errors"] if message["type"] == "next" else payload
    assert [error["extensions"]["code"] for error in errors] == ["NOT_FOUND"]


def test_ids_that_are_no_uuids_find_nothing_or_are_refused(server: ThreadedServer) -> None:
    """Whatever text comes as an id (a NUL, which PostgreSQL refuses outright, too)."""
    api, as_ = server.api, token(ADMIN)
    for given in ("batch", "\u0000"):
        found = api.data(
            "query($id: ID!) { importBatch(id: $id) { id } bulkActionProgress(id: $id) { id } }",
            {"id": given},
            as_=as_,
        )
        assert found == {"importBatch": None, "bulkActionProgress": None}
        refused = api.post(
            "query($b: ID) { users(importBatchId: $b) { totalCount } }", {"b": given}, as_=as_
        )
        assert error_codes(refused) == ["BAD_USER_INPUT"]
