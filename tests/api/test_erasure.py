"""Erasing a person (eraseUser) over HTTP: the user stays ERASED with their history, every
old value of theirs is gone from the user list, its search and the review tables of the
imports about them, the email registers again, and a rebuild writes the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.users import User
from settings import Settings
from tests.api.importing import Importer, csv_file
from tests.api.operations import (
    USER,
    USER_RESULT,
    Administrator,
    error_codes,
    event_count,
    store_for_module,
)
from tests.api.test_import_existing import set_action
from tests.integration.harness import roster
from tests.support import AUDITOR, VIEWER, ThreadedServer, token

ERASE = f"""
mutation($id: ID!, $reason: String!) {{ eraseUser(userId: $id, reason: $reason) {{
  {USER_RESULT} }} }}
{USER}"""
ERASE_WITHOUT_REASON = "mutation($id: ID!) { eraseUser(userId: $id) { __typename } }"
HISTORY = """
query($id: ID!) { userStatusHistory(userId: $id) { from to actor source reason version } }"""
SEARCH = "query($search: String!) { users(search: $search) { totalCount edges { node { id } } } }"
ERASED_USERS = "{ users(status: [ERASED], first: 500) { edges { node { id } } } }"
BY_EMAIL = "query($email: String!) { userByEmail(email: $email) { id } }"
ROWS = """
query($id: ID!) { importBatch(id: $id) { rows(first: 100) { edges { node {
  rowNumber firstName lastName email username status userId existingUserId erased
  errors { code }
} } } } }"""
#: Every read-model table, each with the columns that order its rows deterministically.
READ_MODEL_TABLES = {
    "projection_positions": "name",
    "users": "seq",
    "user_words": "prefix, seq",
    "invitations": "id",
    "group_members": "group_id, user_id",
    "access_groups": "id",
    "status_changes": "position",
    "import_batches": "seq",
    "import_rows": "batch_id, row_number",
    "bulk_actions": "seq",
    "bulk_action_kept": "action_id, seq",
}
REASON = "Request 2026-117 (GDPR art. 17)"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with store_for_module(tmp_path_factory.mktemp("erasure")) as env:
        yield env


@pytest.fixture(scope="module")
def server(store: dict[str, str]) -> Iterator[ThreadedServer]:
    """One server for the module: each test has people of its own."""
    with ThreadedServer(Settings.from_env(store)) as running:
        yield running


@pytest.fixture
def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api, "alice")


@pytest.fixture
def unique() -> str:
    """Letters no other test's people have in their names, emails or usernames."""
    return "".join(chr(ord("a") + int(digit, 16) % 26) for digit in uuid.uuid4().hex[:10])


@pytest.fixture
def person(admin: Administrator, unique: str) -> dict[str, Any]:
    """Registered by alice, deactivated ("left") and reactivated ("back") by her."""
    user = admin.register(
        f"Zelda{unique}", f"Quist{unique}", f"zq.{unique}@acme.com", username=f"zq-{unique}"
    )
    admin.deactivate(user["id"], reason="left")
    admin.reactivate(user["id"], reason="back")
    return user


def erase(server: ThreadedServer, user_id: str, reason: str, *, as_: str | None) -> Any:
    return server.api.post(ERASE, {"id": user_id, "reason": reason}, as_=as_)


def erased(admin: Administrator, user_id: str, reason: str = REASON) -> dict[str, Any]:
    result: dict[str, Any] = admin.api.data(
        ERASE, {"id": user_id, "reason": reason}, as_=admin.token
    )["eraseUser"]
    return result


def history(server: ThreadedServer, user_id: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = server.api.data(HISTORY, {"id": user_id}, as_=token(AUDITOR))[
        "userStatusHistory"
    ]
    return changes


def found(server: ThreadedServer, search: str) -> list[str]:
    users = server.api.data(SEARCH, {"search": search}, as_=token(VIEWER))["users"]
    return [edge["node"]["id"] for edge in users["edges"]]


def rows_of(importer: Importer, batch_id: str) -> dict[int, dict[str, Any]]:
    batch = importer.api.data(ROWS, {"id": batch_id}, as_=importer.token)["importBatch"]
    return {edge["node"]["rowNumber"]: edge["node"] for edge in batch["rows"]["edges"]}


def read_model_rows(server: ThreadedServer) -> dict[str, list[dict[str, Any]]]:
    with server.app.state.services.database.reading() as cursor:
        rows: dict[str, list[dict[str, Any]]] = {}
        for table, order in READ_MODEL_TABLES.items():
            cursor.execute(f"SELECT * FROM {table} ORDER BY {order}")
            rows[table] = cursor.fetchall()
        return rows


# ---------------------------------------------------------------------------- the user


def test_an_erased_user_is_erased_with_nothing_of_them_left(
    admin: Administrator, person: dict[str, Any]
) -> None:
    answered = erased(admin, person["id"])

    assert answered["__typename"] == "User"
    assert admin.user(person["id"]) | {"__typename": "User"} == answered
    assert {key: answered[key] for key in ("firstName", "lastName", "email", "username")} == {
        "firstName": "",
        "lastName": "",
        "email": "",
        "username": "",
    }
    assert (answered["id"], answered["status"], answered["createdAt"]) == (
        person["id"],
        "ERASED",
        person["createdAt"],
    )


def test_the_history_still_replays_every_change_and_the_erasure(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    erased(admin, person["id"])

    changes = history(server, person["id"])

    assert [(c["from"], c["to"], c["actor"], c["source"], c["reason"]) for c in changes] == [
        (None, "PENDING", "alice", "REGISTRATION", None),
        ("PENDING", "DEACTIVATED", "alice", "ADMINISTRATOR", None),
        ("DEACTIVATED", "PENDING", "alice", "ADMINISTRATOR", None),
        ("PENDING", "ERASED", "alice", "ERASURE", REASON),
    ]
    assert [c["version"] for c in changes] == [1, 2, 3, 4]


@pytest.mark.parametrize("value", ["firstName", "lastName", "email", "username", "two letters"])
def test_no_search_finds_an_old_value(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any], value: str
) -> None:
    search = person["lastName"][:2] if value == "two letters" else person[value]
    assert person["id"] in found(server, search)

    erased(admin, person["id"])

    assert person["id"] not in found(server, search)


def test_the_erased_status_lists_them(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    erased(admin, person["id"])

    users = server.api.data(ERASED_USERS, as_=token(VIEWER))["users"]
    assert person["id"] in [edge["node"]["id"] for edge in users["edges"]]


def test_user_by_email_finds_nobody(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    erased(admin, person["id"])

    answer = server.api.data(BY_EMAIL, {"email": person["email"]}, as_=token(VIEWER))
    assert answer["userByEmail"] is None


def test_the_email_and_username_register_again_as_a_new_person(
    admin: Administrator, person: dict[str, Any]
) -> None:
    erased(admin, person["id"])

    again = admin.register("Zelda", "Quist", person["email"], username=person["username"])

    assert again["id"] != person["id"]
    assert (again["email"], again["username"], again["status"]) == (
        person["email"],
        person["username"],
        "PENDING",
    )
    assert admin.user(person["id"])["status"] == "ERASED"


# ---------------------------------------------------------------------------- refusals


def test_a_second_erasure_is_an_invalid_state_that_changes_nothing(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    erased(admin, person["id"])
    before = event_count(server.api)

    again = erased(admin, person["id"], "asked twice")

    assert (again["__typename"], again["code"]) == ("InvalidState", "INVALID_STATE")
    assert "ERASED" in again["message"]
    assert event_count(server.api) == before
    assert history(server, person["id"])[-1]["reason"] == REASON


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_empty_reason_is_required_and_changes_nothing(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any], reason: str
) -> None:
    before = event_count(server.api)

    outcome = erased(admin, person["id"], reason)

    assert (outcome["__typename"], outcome["field"], outcome["code"]) == (
        "InvalidInput",
        "reason",
        "REQUIRED",
    )
    assert "why" in outcome["message"]
    assert event_count(server.api) == before
    user = admin.user(person["id"])
    assert (user["status"], user["email"]) == ("PENDING", person["email"])
    assert person["id"] in found(server, person["email"])


def test_a_missing_reason_is_refused_before_anything_runs(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    before = event_count(server.api)

    result = server.api.post(ERASE_WITHOUT_REASON, {"id": person["id"]}, as_=admin.token)

    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "reason" in result["errors"][0]["message"]
    assert event_count(server.api) == before


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        (token(VIEWER), "FORBIDDEN"),
        (token(AUDITOR), "FORBIDDEN"),
        (token(), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ],
    ids=["viewer", "auditor", "no profiles", "no token"],
)
def test_only_an_administrator_may_erase(
    server: ThreadedServer,
    admin: Administrator,
    person: dict[str, Any],
    caller: str | None,
    code: str,
) -> None:
    before = event_count(server.api)

    result = erase(server, person["id"], REASON, as_=caller)

    assert error_codes(result) == [code]
    assert event_count(server.api) == before
    assert admin.user(person["id"])["email"] == person["email"]


def test_an_unknown_user_is_not_found(admin: Administrator) -> None:
    outcome = erased(admin, str(uuid.uuid4()))
    assert (outcome["__typename"], outcome["code"]) == ("NotFound", "NOT_FOUND")


# ---------------------------------------------------------------------------- imports


@pytest.fixture
def imported(server: ThreadedServer, unique: str) -> dict[str, Any]:
    """A batch that registered the person (row 1) and someone else (row 2), and a later
    batch, left in review, whose row 2 names the person as registered already."""
    importer = Importer(server.api)
    email = f"ines.{unique}@acme.com"
    first = importer.started(
        csv_file(f"Ines,Moura{unique},{email},", f"Other,Person{unique},op.{unique}@acme.com,")
    )
    importer.committed(first["id"])
    later = importer.started(
        csv_file(f"New,Person{unique},np.{unique}@acme.com,", f"Ines,Moura{unique},{email},")
    )
    rows = rows_of(importer, first["id"])
    return {
        "importer": importer,
        "email": email,
        "first": first["id"],
        "later": later["id"],
        "user_id": rows[1]["userId"],
        "other": rows[2],
        "new": rows_of(importer, later["id"])[1],
    }


BLANK: dict[str, Any] = {
    "firstName": "",
    "lastName": "",
    "email": "",
    "username": None,
    "errors": [],
}


def test_the_row_that_registered_an_erased_user_is_blank(
    admin: Administrator, imported: dict[str, Any]
) -> None:
    erased(admin, imported["user_id"])

    rows = rows_of(imported["importer"], imported["first"])
    assert rows[1] == rows[1] | BLANK | {"erased": True, "status": "CREATED"}
    assert rows[1]["userId"] == imported["user_id"]
    assert rows[2] == imported["other"]
    assert rows[2]["erased"] is False


def test_a_later_row_naming_an_erased_user_is_blank(
    admin: Administrator, imported: dict[str, Any]
) -> None:
    rows = rows_of(imported["importer"], imported["later"])
    assert (rows[2]["status"], rows[2]["existingUserId"]) == ("EXISTING", imported["user_id"])

    erased(admin, imported["user_id"])

    rows = rows_of(imported["importer"], imported["later"])
    assert rows[2] == rows[2] | BLANK | {"erased": True, "status": "EXISTING"}
    assert rows[1] == imported["new"]


def test_an_invalid_row_holding_an_erased_user_s_email_is_blank(
    admin: Administrator, imported: dict[str, Any]
) -> None:
    importer = imported["importer"]
    batch = importer.started(csv_file(f"Ines,,{imported['email']},"))
    (row,) = rows_of(importer, batch["id"]).values()
    assert (row["status"], row["errors"] != []) == ("INVALID", True)

    erased(admin, imported["user_id"])

    (row,) = rows_of(importer, batch["id"]).values()
    assert row == row | BLANK | {"erased": True, "status": "INVALID"}


def test_a_row_in_review_about_an_erased_person_registers_nobody_at_the_commit(
    admin: Administrator, imported: dict[str, Any], unique: str
) -> None:
    """Reviewed VALID, then the person registered by hand and erased: the row was theirs."""
    importer = imported["importer"]
    email = f"ruth.{unique}@acme.com"
    batch = importer.started(csv_file(f"Ruth,Amaral{unique},{email},"))
    assert rows_of(importer, batch["id"])[1]["status"] == "VALID"
    erased(admin, admin.register("Ruth", f"Amaral{unique}", email)["id"])

    done = importer.committed(batch["id"])

    (row,) = rows_of(importer, batch["id"]).values()
    assert (row["status"], row["userId"], row["erased"]) == ("SKIPPED", None, True)
    assert (done["status"], done["progress"]["created"], done["progress"]["failed"]) == (
        "COMPLETED",
        0,
        0,
    )


def test_an_existing_row_whose_user_was_erased_is_left_alone_at_the_commit(
    admin: Administrator, imported: dict[str, Any], server: ThreadedServer
) -> None:
    importer = imported["importer"]
    chosen = set_action(importer, imported["later"], [2], "RESEND_INVITATION")
    assert chosen["__typename"] == "ImportBatch", chosen
    erased(admin, imported["user_id"])

    done = importer.committed(imported["later"])

    rows = rows_of(importer, imported["later"])
    assert (rows[2]["status"], rows[2]["erased"]) == ("SKIPPED", True)
    assert (done["progress"]["created"], done["progress"]["failed"]) == (1, 0)
    assert [change["to"] for change in history(server, imported["user_id"])][-1] == "ERASED"


# ---------------------------------------------------------------------------- rebuild


def test_a_rebuild_writes_the_same_rows(
    server: ThreadedServer,
    admin: Administrator,
    person: dict[str, Any],
    imported: dict[str, Any],
    store: dict[str, str],
) -> None:
    """Erased users (one of them with an invitation the mail server refused, quoting their
    address), an imported one, and the email registered again."""
    roster_app = server.app.state.services.roster
    user = roster_app.get_aggregate(User, UUID(person["id"]), "user")
    refusal = f"550 {person['email']}: no such user"
    roster_app.record_invitation_undeliverable(user.id, user.invitation.id, refusal)
    erased(admin, person["id"])
    erased(admin, imported["user_id"])
    admin.register("Zelda", "Quist", person["email"])
    live = read_model_rows(server)
    (row,) = [user for user in live["users"] if user["id"] == person["id"]]
    assert row["invitation_delivery_error"] == ""

    result = roster("projections", "rebuild", env=store)

    assert (result.returncode, result.stderr) == (0, "")
    assert read_model_rows(server) == live
    assert person["id"] not in found(server, person["email"])
    assert found(server, person["email"]) != []


# ---------------------------------------------------------------------------- keys


def has_key(server: ThreadedServer, user_id: str) -> bool:
    with server.app.state.services.database.reading() as cursor:
        cursor.execute(
            "SELECT id FROM personal_keys WHERE id = %s AND key IS NOT NULL",
            (UUID(user_id).bytes,),
        )
        return cursor.fetchone() is not None


def test_the_person_s_key_is_destroyed(
    server: ThreadedServer, admin: Administrator, person: dict[str, Any]
) -> None:
    assert has_key(server, person["id"])

    erased(admin, person["id"])

    assert not has_key(server, person["id"])


def test_keys_left_by_a_crash_after_recording_are_destroyed_by_the_read_model(
    server: ThreadedServer, person: dict[str, Any]
) -> None:
    """The erasing process died between recording the erasure and destroying the keys:
    the read model destroys them as it meets the erasure."""
    services = server.app.state.services
    user = services.roster.get_aggregate(User, UUID(person["id"]), "user")
    user.erase("alice", REASON, rows=[], key_ids=[user.id])
    recorded = services.roster.save(user)  # and no destroy_keys: the crash
    assert has_key(server, person["id"])

    services.read_model.wait_for(recorded[-1].notification.id)

    assert not has_key(server, person["id"])
