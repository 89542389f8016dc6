"""eraseActor: a token subject who acted (registered users, uploaded and committed an
import, deactivated someone, ran a bulk action) reads as one pseudonym everywhere, a
rebuild gives the same, and no byte of the subject is left in the database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bootstrap import Services
from domain.actor_erasure import ActorErasure
from store.keyring import Keyring
from tests.api.bulk import bulk_done, start_bulk
from tests.api.importing import Importer, people
from tests.api.operations import Administrator, error_codes, event_count
from tests.support import ADMIN, AUDITOR, ROOT, VIEWER, ThreadedServer, token

SUBJECT = "a@example.com"
ERASE = """
mutation($subject: String!, $reason: String!) { eraseActor(subject: $subject, reason: $reason) {
  __typename ... on ErasedActor { pseudonym } ... on Problem { code message }
  ... on InvalidInput { field } } }"""
HISTORY = "query($id: ID!) { userStatusHistory(userId: $id) { to actor } }"
BATCHES = "{ importBatches(first: 50) { edges { node { id createdBy } } } }"
BULK = "query($id: ID!) { bulkActionProgress(id: $id) { actor } }"
PSEUDONYM = re.compile(r"erased-actor-[0-9a-f]{12}")


@dataclass(frozen=True)
class Acted:
    """What SUBJECT did, and one user that another administrator registered."""

    user_ids: list[str]
    batch_id: str
    action_id: str
    other_user_id: str


def erase(server: ThreadedServer, subject: str = SUBJECT, **more: Any) -> dict[str, Any]:
    as_ = more.pop("as_", token(ADMIN, subject="root"))
    variables = {"subject": subject, "reason": more.pop("reason", "GDPR request 42")}
    result: dict[str, Any] = server.api.data(ERASE, variables, as_=as_)["eraseActor"]
    return result


def services(server: ThreadedServer) -> Services:
    found: Services = server.app.state.services
    return found


def key_id(server: ThreadedServer, subject: str = SUBJECT) -> UUID | None:
    with services(server).database.reading() as cursor:
        return Keyring(services(server).database).actor_key_id(cursor, subject)


@pytest.fixture
def acted(server: ThreadedServer) -> Acted:
    admin = Administrator(server.api, SUBJECT)
    ana = admin.register("Ana", "Silva", "ana@acme.com")["id"]
    bia = admin.register("Bia", "Lima", "bia@acme.com")["id"]
    assert admin.deactivate(ana, reason="left")["__typename"] == "User"
    importer = Importer(server.api, as_=admin.token)
    batch_id = importer.started(people(2, domain="acme.org"))["id"]
    assert importer.committed(batch_id)["status"] == "COMPLETED"
    bulk = start_bulk(server.api, "DEACTIVATE", as_=admin.token, ids=[bia], reason="moved")
    bulk_done(server.api, bulk["id"])
    imported = [n["userId"] for n in importer.row_nodes(batch_id)]
    other = Administrator(server.api, "b@example.org").register("Cid", "Reis", "cid@acme.com")
    return Acted([ana, bia, *imported], batch_id, bulk["id"], other["id"])


def seen(server: ThreadedServer, acted: Acted) -> dict[str, Any]:
    """Every actor the API and the export show for what SUBJECT and the other did."""
    auditor = token(AUDITOR)
    histories = {
        user_id: server.api.data(HISTORY, {"id": user_id}, as_=auditor)["userStatusHistory"]
        for user_id in [*acted.user_ids, acted.other_user_id]
    }
    batches = server.api.data(BATCHES, as_=auditor)["importBatches"]["edges"]
    bulk = server.api.data(BULK, {"id": acted.action_id}, as_=token(ADMIN))
    export = server.api.http.get(
        "/status-changes.csv", headers={"authorization": f"Bearer {auditor}"}
    )
    assert export.status_code == 200, export.text
    return {
        "histories": histories,
        "uploaders": [edge["node"]["createdBy"] for edge in batches],
        "bulk": bulk["bulkActionProgress"]["actor"],
        "export": export.text,
    }


def actors(shown: dict[str, Any]) -> set[str]:
    """The actors of SUBJECT's actions as shown: their users' histories, their batch,
    their bulk action."""
    found = {shown["bulk"], *shown["uploaders"]}
    for changes in shown["histories"].values():
        found.update(c["actor"] for c in changes if c["actor"] != "b@example.org")
    return found


def rebuild(env: dict[str, str]) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "cli", "projections", "rebuild"],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr


def database_bytes(env: dict[str, str]) -> bytes:
    """The database as stored: the SQLite file and its log after a checkpoint, or a
    pg_dump of the PostgreSQL database."""
    url = env["ROSTER_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        log = path.with_name(path.name + "-wal")
        return path.read_bytes() + (log.read_bytes() if log.exists() else b"")
    dumped = subprocess.run(["pg_dump", url], capture_output=True, check=True)
    return dumped.stdout


def test_every_action_of_the_actor_shows_one_pseudonym(
    server: ThreadedServer, acted: Acted
) -> None:
    assert actors(seen(server, acted)) == {SUBJECT}

    erased = erase(server)

    assert erased["__typename"] == "ErasedActor", erased
    assert PSEUDONYM.fullmatch(erased["pseudonym"])
    shown = seen(server, acted)
    assert actors(shown) == {erased["pseudonym"]}
    assert SUBJECT not in shown["export"]
    assert erased["pseudonym"] in shown["export"]
    assert {c["actor"] for c in shown["histories"][acted.other_user_id]} == {"b@example.org"}


def test_a_rebuild_gives_the_same_read_models(
    server: ThreadedServer, acted: Acted, env: dict[str, str]
) -> None:
    assert erase(server)["__typename"] == "ErasedActor"
    before = seen(server, acted)

    rebuild(env)

    assert seen(server, acted) == before


def test_no_byte_of_the_subject_is_left_in_the_database(
    server: ThreadedServer, acted: Acted, env: dict[str, str]
) -> None:
    assert SUBJECT.encode() in database_bytes(env)

    assert erase(server)["__typename"] == "ErasedActor"

    assert SUBJECT.encode() not in database_bytes(env)


def test_a_second_erasure_is_not_found_and_changes_nothing(
    server: ThreadedServer, acted: Acted
) -> None:
    assert erase(server)["__typename"] == "ErasedActor"
    shown, events = seen(server, acted), event_count(server.api)

    again = erase(server)

    assert again["__typename"] == "NotFound"
    assert again["code"] == "NOT_FOUND"
    assert "No actions are recorded for this subject" in again["message"]
    assert (seen(server, acted), event_count(server.api)) == (shown, events)


def test_a_subject_who_never_acted_is_not_found(server: ThreadedServer) -> None:
    events = event_count(server.api)

    assert erase(server, "nobody@example.com")["code"] == "NOT_FOUND"
    assert event_count(server.api) == events


def test_a_reason_is_required(server: ThreadedServer, acted: Acted) -> None:
    refused = erase(server, reason="  ")

    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "InvalidInput",
        "REQUIRED",
        "reason",
    )
    assert actors(seen(server, acted)) == {SUBJECT}


@pytest.mark.parametrize("profile", [VIEWER, AUDITOR])
def test_viewers_and_auditors_may_not_erase(
    server: ThreadedServer, acted: Acted, profile: Any
) -> None:
    events = event_count(server.api)
    variables = {"subject": SUBJECT, "reason": "asked"}

    result = server.api.post(ERASE, variables, as_=token(profile))

    assert error_codes(result) == ["FORBIDDEN"]
    assert event_count(server.api) == events
    assert actors(seen(server, acted)) == {SUBJECT}


def test_the_erasure_is_recorded_without_the_subject(server: ThreadedServer, acted: Acted) -> None:
    key = key_id(server)
    assert key is not None

    pseudonym = erase(server)["pseudonym"]

    recorded: ActorErasure = services(server).roster.repository.get(ActorErasure.create_id(key))
    assert (recorded.key_id, recorded.pseudonym) == (key, pseudonym)
    assert (recorded.actor, recorded.reason) == ("root", "GDPR request 42")
    assert key_id(server) is None


def test_an_erasure_cut_short_by_a_crash_is_finished_once(
    server: ThreadedServer, acted: Acted
) -> None:
    """The erasure was recorded, then the process died before the read models and the key
    were done: asking again finishes it, without recording it twice."""
    key = key_id(server)
    assert key is not None
    crashed = ActorErasure(
        key_id=key, pseudonym=f"erased-actor-{key.hex[:12]}", actor="root", reason="first"
    )
    services(server).roster.save(crashed)
    events = event_count(server.api)

    finished = erase(server)

    assert finished["pseudonym"] == crashed.pseudonym
    assert event_count(server.api) == events
    assert actors(seen(server, acted)) == {crashed.pseudonym}
    assert services(server).roster.repository.get(crashed.id).reason == "first"


def test_an_administrator_may_erase_themselves(server: ThreadedServer, acted: Acted) -> None:
    key = key_id(server)
    assert key is not None

    pseudonym = erase(server, as_=token(ADMIN, subject=SUBJECT))["pseudonym"]

    assert actors(seen(server, acted)) == {pseudonym}
    assert services(server).roster.repository.get(ActorErasure.create_id(key)).actor == pseudonym


def test_an_erased_actor_who_acts_again_gets_a_new_pseudonym(
    server: ThreadedServer, acted: Acted
) -> None:
    first = erase(server)["pseudonym"]
    admin = Administrator(server.api, SUBJECT)
    dan = admin.register("Dan", "Melo", "dan@acme.com")["id"]
    assert server.api.data(HISTORY, {"id": dan}, as_=token(AUDITOR))["userStatusHistory"] == [
        {"to": "PENDING", "actor": SUBJECT}
    ]

    second = erase(server)["pseudonym"]

    assert second != first
    changes = server.api.data(HISTORY, {"id": dan}, as_=token(AUDITOR))["userStatusHistory"]
    assert [c["actor"] for c in changes] == [second]
    assert actors(seen(server, acted)) == {first}
