"""revertImport over HTTP and WebSocket: who is deactivated and who stays, the history it
leaves, what it refuses, the invitations and mails of reverted users, and its progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from settings import Settings
from tests.api.bulk import (
    batch_users,
    expire,
    history,
    imported,
    revert,
    reverted_batch,
)
from tests.api.importing import PROGRESS_FIELDS, Importer, people
from tests.api.operations import Administrator, error_codes, event_count, store_for_module
from tests.api.test_import_progress import progress_until_complete
from tests.api.test_invitations import DEACTIVATED, accept, token_of
from tests.support import ADMIN, VIEWER, ThreadedServer, token

REVERT_PROGRESS = f"""
subscription($batchId: ID!) {{ importProgress(batchId: $batchId) {{
  {PROGRESS_FIELDS} reverted kept }} }}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """Every test imports people of a domain of its own."""
    with (
        store_for_module(tmp_path_factory.mktemp("revert")) as env,
        ThreadedServer(Settings.from_env(env)) as running,
    ):
        yield running


def domain() -> str:
    return f"{uuid4().hex[:10]}.example.com"


def test_users_who_have_not_accepted_are_deactivated_and_those_who_have_stay(
    server: ThreadedServer,
) -> None:
    api = server.api
    batch_id, users = imported(api, 5, domain())
    accepted, expired, deactivated, *pending = [user["id"] for user in users]
    assert accept(api, token_of(server, accepted))["status"] == "ACTIVE"
    expire(server, expired)
    assert Administrator(api).deactivate(deactivated)["status"] == "DEACTIVATED"

    started = revert(api, batch_id, "wrong file")
    assert started["__typename"] == "ImportBatch"
    assert started["status"] in ("REVERTING", "REVERTED")
    batch = reverted_batch(api, batch_id)

    statuses = {user["id"]: user["status"] for user in batch_users(api, batch_id)}
    assert statuses == {
        accepted: "ACTIVE",
        expired: "DEACTIVATED",
        deactivated: "DEACTIVATED",
        **dict.fromkeys(pending, "DEACTIVATED"),
    }
    for user_id in (expired, *pending):
        last = history(api, user_id)[-1]
        assert (last["to"], last["source"], last["reason"], last["actor"]) == (
            "DEACTIVATED",
            "IMPORT_REVERT",
            "wrong file",
            "admin",
        )
    assert [change["source"] for change in history(api, deactivated)] == [
        "IMPORT",
        "ADMINISTRATOR",
    ]
    revert_ = batch["revert"]
    assert (revert_["total"], revert_["reverted"], revert_["skipped"], revert_["kept"]) == (
        5,
        3,
        1,
        1,
    )
    assert (revert_["status"], revert_["reason"], revert_["actor"]) == (
        "COMPLETED",
        "wrong file",
        "admin",
    )
    kept = revert_["keptUsers"]
    assert (kept["totalCount"], [edge["node"]["id"] for edge in kept["edges"]]) == (
        1,
        [accepted],
    )
    assert (batch["progress"]["reverted"], batch["progress"]["kept"]) == (3, 1)


def test_reverting_twice_changes_nothing_more(server: ThreadedServer) -> None:
    api = server.api
    batch_id, _ = imported(api, 2, domain())
    assert revert(api, batch_id)["__typename"] == "ImportBatch"
    reverted_batch(api, batch_id)
    before = event_count(api)
    again = revert(api, batch_id, "another reason")
    assert (again["__typename"], again["status"]) == ("ImportBatch", "REVERTED")
    assert again["revert"]["reason"] == "wrong file"
    assert event_count(api) == before


def test_a_batch_not_completed_is_an_invalid_state(server: ThreadedServer) -> None:
    api = server.api
    batch_id = Importer(api).started(people(2, domain=domain()))["id"]
    before = event_count(api)
    outcome = revert(api, batch_id)
    assert (outcome["__typename"], outcome["code"]) == ("InvalidState", "INVALID_STATE")
    assert "COMPLETED" in outcome["message"]
    assert event_count(api) == before


@pytest.mark.parametrize(
    ("batch_id", "reason", "expected"),
    [
        (str(uuid4()), "why", ("NotFound", "NOT_FOUND", None)),
        ("batch-1", "why", ("InvalidInput", "INVALID_ID", "batchId")),
        (None, "  ", ("InvalidInput", "REQUIRED", "reason")),
    ],
)
def test_a_revert_refused_changes_nothing(
    server: ThreadedServer, batch_id: str | None, reason: str, expected: tuple[Any, ...]
) -> None:
    api = server.api
    if batch_id is None:
        batch_id, _ = imported(api, 1, domain())
    before = event_count(api)
    outcome = revert(api, batch_id, reason)
    assert (outcome["__typename"], outcome["code"], outcome.get("field")) == expected
    assert event_count(api) == before


def test_a_viewer_may_not_revert(server: ThreadedServer) -> None:
    api = server.api
    batch_id, _ = imported(api, 1, domain())
    before = event_count(api)
    result = api.post(
        'mutation($b: ID!) { revertImport(batchId: $b, reason: "x") { __typename } }',
        {"b": batch_id},
        as_=token(VIEWER),
    )
    assert error_codes(result) == ["FORBIDDEN"]
    assert event_count(api) == before


def test_the_invitation_of_a_reverted_user_no_longer_accepts(server: ThreadedServer) -> None:
    api = server.api
    batch_id, users = imported(api, 1, domain())
    invitation = token_of(server, users[0]["id"])
    revert(api, batch_id)
    reverted_batch(api, batch_id)
    outcome = accept(api, invitation)
    assert outcome["__typename"] == "InvalidInvitation"
    assert outcome["message"].startswith(DEACTIVATED)


def test_the_unsent_mails_of_reverted_users_are_not_sent(server: ThreadedServer) -> None:
    """Mail delivery is off in this server: the batch's mails wait in the outbox until the
    revert, and the delivery run afterwards sends only the mail of someone else."""
    api = server.api
    batch_id, users = imported(api, 3, domain())
    other = Administrator(api).register("Eve", "Other", f"eve@{domain()}")
    revert(api, batch_id)
    reverted_batch(api, batch_id)
    services = server.app.state.services
    outbox = Path(server.settings.outbox_dir)
    while services.delivery.run_once():
        pass
    sent = {path.read_text(errors="replace") for path in outbox.glob("*.eml")}
    assert any(other["email"] in mail for mail in sent)
    assert not any(user["email"] in mail for mail in sent for user in users)


def test_progress_streams_until_reverted(
    env: dict[str, str],
) -> None:
    """With no worker running, the batch stays REVERTING until one runs it."""
    settings = Settings.from_env({**env, "ROSTER_IMPORT_WORKER": "off"})
    with ThreadedServer(settings) as server:
        services = server.app.state.services
        importer = Importer(server.api)
        batch_id = importer.start(people(3, domain=domain()))["id"]
        services.worker.run_once()  # reads the file
        importer.set_access(batch_id, mode="CUSTOMIZE", rows=[])
        importer.commit(batch_id)
        services.worker.run_once()  # registers the rows
        assert revert(server.api, batch_id)["status"] == "REVERTING"
        with server.api.websocket(token(ADMIN)) as ws:
            operation = ws.subscribe(REVERT_PROGRESS, {"batchId": batch_id})
            first = ws.next_payload()["data"]["importProgress"]
            assert (first["status"], first["reverted"], first["kept"]) == ("REVERTING", 0, 0)
            services.bulk_worker.run_once()
            messages = progress_until_complete(ws, operation)
        last = messages[-1]
        assert (last["status"], last["reverted"], last["kept"]) == ("REVERTED", 3, 0)
