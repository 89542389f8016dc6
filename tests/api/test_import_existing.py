"""People who are registered already, over HTTP: the review shows their rows EXISTING with
the user's id and status, setImportRowAction chooses what the commit does with them, and
the commit does it (CREATED, UPDATED, SKIPPED) on the users themselves."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import NewUser
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User
from tests.api.importing import HEADER, PROBLEM, Importer, csv_file
from tests.api.operations import Administrator, error_codes, event_count, server_for_module
from tests.support import AUDITOR, VIEWER, ThreadedServer, token

ROWS = """
query($id: ID!) { importBatch(id: $id) {
  progress { valid invalid existing processed created failed updated skipped }
  rows(first: 100) { edges { node {
    rowNumber status existingUserId existingUserStatus action userId errors { code message }
  } } }
} }"""
SET_ACTION = f"""
mutation($batchId: ID!, $rows: [Int!], $action: ExistingUserAction!) {{
  setImportRowAction(batchId: $batchId, rowNumbers: $rows, action: $action) {{
    __typename ... on ImportBatch {{ progress {{ existing }} }} {PROBLEM}
  }}
}}"""
HISTORY = "query($id: ID!) { userStatusHistory(userId: $id) { from to actor source } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """One server for the module: each test has its own mail domain."""
    with server_for_module(tmp_path_factory.mktemp("existing")) as running:
        yield running


@pytest.fixture
def importer(server: ThreadedServer) -> Importer:
    return Importer(server.api)


@pytest.fixture
def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api)


@pytest.fixture
def site() -> str:
    return f"{uuid.uuid4().hex[:10]}.acme.com"


# ---------------------------------------------------------------------------- helpers


def batch_of(importer: Importer, batch_id: str) -> dict[str, Any]:
    batch: dict[str, Any] = importer.api.data(ROWS, {"id": batch_id}, as_=importer.token)[
        "importBatch"
    ]
    return batch


def rows_of(importer: Importer, batch_id: str) -> dict[int, dict[str, Any]]:
    edges = batch_of(importer, batch_id)["rows"]["edges"]
    return {edge["node"]["rowNumber"]: edge["node"] for edge in edges}


def set_action(
    importer: Importer, batch_id: str, rows: list[int] | None, action: str
) -> dict[str, Any]:
    variables = {"batchId": batch_id, "rows": rows, "action": action}
    result: dict[str, Any] = importer.api.data(SET_ACTION, variables, as_=importer.token)[
        "setImportRowAction"
    ]
    return result


def started(importer: Importer, *rows: str) -> str:
    return str(importer.started(csv_file(*rows))["id"])


def legacy(server: ThreadedServer, email: str, status: UserStatus) -> str:
    """A user migrated from the old system with a legacy status (no API assigns one)."""
    roster = server.app.state.services.roster
    new = NewUser(
        "Lee", "Legacy", email, status=status, created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    saved = roster.register_user(new, actor="system", source=StatusChangeSource.LEGACY_MIGRATION)
    return str(saved.id)


def invitation_of(server: ThreadedServer, user_id: str) -> UUID | None:
    roster = server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    return None if invitation is None else invitation.id


def committed(importer: Importer, batch_id: str, **access: Any) -> dict[str, Any]:
    chosen = importer.set_access(batch_id, **(access or {"mode": "CUSTOMIZE", "rows": []}))
    assert chosen["__typename"] == "ImportBatch", chosen
    result = importer.commit(batch_id)
    assert result["__typename"] == "ImportBatch", result
    return importer.wait_for(batch_id, "COMPLETED")


# ---------------------------------------------------------------------------- the review


def test_a_registered_persons_row_is_existing_with_their_id_and_status(
    importer: Importer, admin: Administrator, site: str
) -> None:
    ann = admin.register("Ann", "Lee", f"ann@{site}")
    admin.deactivate(ann["id"])

    batch_id = started(importer, f"Ann,Lee,ANN@{site},", f"Bob,Ray,bob@{site},")

    batch = batch_of(importer, batch_id)
    rows = {edge["node"]["rowNumber"]: edge["node"] for edge in batch["rows"]["edges"]}
    assert rows[1] | {"errors": None} == {
        "rowNumber": 1,
        "status": "EXISTING",
        "existingUserId": ann["id"],
        "existingUserStatus": "DEACTIVATED",
        "action": "SKIP",
        "userId": None,
        "errors": None,
    }
    assert rows[1]["errors"] == []
    assert (rows[2]["status"], rows[2]["existingUserId"], rows[2]["action"]) == (
        "VALID",
        None,
        None,
    )
    progress = batch["progress"]
    assert (progress["valid"], progress["invalid"], progress["existing"]) == (1, 0, 1)


def test_a_username_held_by_another_person_is_still_username_taken(
    importer: Importer, admin: Administrator, site: str
) -> None:
    admin.register("Ann", "Lee", f"ann@{site}")
    bob = admin.register("Bob", "Ray", f"bob@{site}", username=f"bob.{site[:8]}")

    batch_id = started(importer, f"Ann,Lee,ann@{site},{bob['username']}")

    row = rows_of(importer, batch_id)[1]
    assert (row["status"], [e["code"] for e in row["errors"]]) == ("INVALID", ["USERNAME_TAKEN"])


def test_a_corrected_file_finds_the_registered_people_it_names(
    importer: Importer, admin: Administrator, site: str
) -> None:
    ann = admin.register("Ann", "Lee", f"ann@{site}")
    bob = admin.register("Bob", "Ray", f"bob@{site}")
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")

    revised = importer.revise(
        batch_id,
        csv_file(f"1,Ann,Lee,ann@{site},", f",Bob,Ray,bob@{site},", header=f"row,{HEADER}"),
    )

    assert revised["__typename"] == "ImportBatch", revised
    assert batch_of(importer, batch_id)["progress"]["existing"] == 2
    rows = rows_of(importer, batch_id)
    assert [
        (n, row["status"], row["existingUserId"], row["action"]) for n, row in rows.items()
    ] == [
        (1, "EXISTING", ann["id"], "SKIP"),
        (2, "EXISTING", bob["id"], "SKIP"),
    ]


# ---------------------------------------------------------------------------- choosing


def test_an_action_is_kept_for_the_rows_chosen(
    importer: Importer, admin: Administrator, site: str
) -> None:
    for name in ("ann", "bob"):
        admin.register(name.title(), "Lee", f"{name}@{site}")
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Lee,bob@{site},")

    result = set_action(importer, batch_id, [2], "RESEND_INVITATION")

    assert (result["__typename"], result["progress"]["existing"]) == ("ImportBatch", 2)
    rows = rows_of(importer, batch_id)
    assert (rows[1]["action"], rows[2]["action"]) == ("SKIP", "RESEND_INVITATION")


def test_null_row_numbers_choose_for_every_existing_row(
    importer: Importer, admin: Administrator, site: str
) -> None:
    for name in ("ann", "bob"):
        admin.register(name.title(), "Lee", f"{name}@{site}")
    batch_id = started(
        importer, f"Ann,Lee,ann@{site},", f"Cy,Ng,cy@{site},", f"Bob,Lee,bob@{site},"
    )

    assert set_action(importer, batch_id, None, "UPDATE_ACCESS")["__typename"] == "ImportBatch"

    actions = {n: row["action"] for n, row in rows_of(importer, batch_id).items()}
    assert actions == {1: "UPDATE_ACCESS", 2: None, 3: "UPDATE_ACCESS"}


def test_an_action_that_does_not_fit_is_refused_naming_the_rows_and_changes_nothing(
    server: ThreadedServer, importer: Importer, admin: Administrator, site: str
) -> None:
    admin.register("Ann", "Lee", f"ann@{site}")  # PENDING
    bob = admin.register("Bob", "Lee", f"bob@{site}")
    admin.deactivate(bob["id"])
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Lee,bob@{site},")
    before = event_count(server.api)

    result = set_action(importer, batch_id, None, "REACTIVATE")

    assert (result["__typename"], result["code"]) == ("InvalidState", "INVALID_STATE")
    assert "row 1:" in result["message"]
    assert "DEACTIVATED, BLOCKED, DISABLED" in result["message"]
    assert event_count(server.api) == before
    assert {row["action"] for row in rows_of(importer, batch_id).values()} == {"SKIP"}


def test_an_action_for_rows_that_are_not_existing_is_refused(
    importer: Importer, admin: Administrator, site: str
) -> None:
    admin.register("Ann", "Lee", f"ann@{site}")
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Cy,Ng,cy@{site},")

    not_existing = set_action(importer, batch_id, [1, 2], "SKIP")
    unknown = set_action(importer, batch_id, [1, 9], "SKIP")

    assert not_existing["__typename"] == "InvalidState"
    assert "row 2 is not" in not_existing["message"]
    assert (unknown["__typename"], unknown["code"], unknown["field"]) == (
        "InvalidInput",
        "UNKNOWN_ROW",
        "rowNumbers[1]",
    )


def test_actions_are_chosen_only_in_review(
    importer: Importer, admin: Administrator, site: str
) -> None:
    admin.register("Ann", "Lee", f"ann@{site}")
    batch_id = started(importer, f"Ann,Lee,ann@{site},")
    committed(importer, batch_id)

    result = set_action(importer, batch_id, [1], "UPDATE_ACCESS")

    assert result["__typename"] == "InvalidState"
    assert "while it is IN_REVIEW" in result["message"]
    assert rows_of(importer, batch_id)[1]["status"] == "SKIPPED"


def test_a_viewer_may_choose_and_an_auditor_may_not(
    server: ThreadedServer, admin: Administrator, site: str
) -> None:
    admin.register("Ann", "Lee", f"ann@{site}")
    viewer = Importer(server.api, as_=token(VIEWER, subject="viewer"))
    batch_id = started(viewer, f"Ann,Lee,ann@{site},")

    chosen = set_action(viewer, batch_id, [1], "RESEND_INVITATION")
    variables = {"batchId": batch_id, "rows": [1], "action": "UPDATE_ACCESS"}
    refused = server.api.post(SET_ACTION, variables, as_=token(AUDITOR))

    assert chosen["__typename"] == "ImportBatch"
    assert error_codes(refused) == ["FORBIDDEN"]
    assert rows_of(viewer, batch_id)[1]["action"] == "RESEND_INVITATION"


# ---------------------------------------------------------------------------- the commit


def test_the_commit_carries_out_each_action_once_and_says_how_each_row_ended(
    server: ThreadedServer, importer: Importer, admin: Administrator, site: str
) -> None:
    group = admin.create_group(f"Staff {site}")
    pending = admin.register("Pat", "Lee", f"pat@{site}")
    blocked = legacy(server, f"lee@{site}", UserStatus.BLOCKED)
    access = admin.register("Acc", "Lee", f"acc@{site}")
    skipped = admin.register("Sam", "Lee", f"sam@{site}")
    old_invitation = invitation_of(server, pending["id"])
    batch_id = started(
        importer,
        f"Pat,Lee,pat@{site},",
        f"Lee,Legacy,lee@{site},",
        f"Acc,Lee,acc@{site},",
        f"Sam,Lee,sam@{site},",
        f"New,Person,new@{site},",
    )
    set_action(importer, batch_id, [1], "RESEND_INVITATION")
    set_action(importer, batch_id, [2], "REACTIVATE")
    set_action(importer, batch_id, [3], "UPDATE_ACCESS")

    done = committed(importer, batch_id, mode="ASSIGN_GROUPS", groupIds=[group["id"]])

    rows = rows_of(importer, batch_id)
    assert [(rows[n]["status"], rows[n]["action"]) for n in range(1, 6)] == [
        ("UPDATED", "RESEND_INVITATION"),
        ("UPDATED", "REACTIVATE"),
        ("UPDATED", "UPDATE_ACCESS"),
        ("SKIPPED", "SKIP"),
        ("CREATED", None),
    ]
    progress = batch_of(importer, batch_id)["progress"]
    assert [progress[n] for n in ("processed", "created", "updated", "skipped", "failed")] == [
        5,
        1,
        3,
        1,
        0,
    ]
    assert done["status"] == "COMPLETED"
    assert invitation_of(server, pending["id"]) not in (None, old_invitation)
    assert admin.user(blocked)["status"] == "PENDING"
    assert invitation_of(server, blocked) is not None
    assert [g["id"] for g in admin.user(access["id"])["access"]["groups"]] == [group["id"]]
    assert admin.user(skipped["id"])["access"]["groups"] == []
    history = server.api.data(HISTORY, {"id": blocked}, as_=admin.token)["userStatusHistory"]
    assert history[-1] == {
        "from": "BLOCKED",
        "to": "PENDING",
        "actor": "importer",
        "source": "IMPORT",
    }


def test_an_action_that_no_longer_fits_at_commit_time_fails_its_row(
    importer: Importer, admin: Administrator, site: str
) -> None:
    pat = admin.register("Pat", "Lee", f"pat@{site}")
    batch_id = started(importer, f"Pat,Lee,pat@{site},")
    set_action(importer, batch_id, [1], "RESEND_INVITATION")
    admin.deactivate(pat["id"])  # after the review

    committed(importer, batch_id)

    row = rows_of(importer, batch_id)[1]
    assert (row["status"], row["action"]) == ("FAILED", "RESEND_INVITATION")
    assert [e["code"] for e in row["errors"]] == ["USER_STATUS_CHANGED"]
    assert "DEACTIVATED now" in row["errors"][0]["message"]
    assert admin.user(pat["id"])["status"] == "DEACTIVATED"


def test_an_invitation_resent_by_an_import_is_mailed(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve()
    admin, importer = Administrator(server.api), Importer(server.api)
    pat = admin.register("Pat", "Lee", "pat@mailed.acme.com")
    batch_id = started(importer, "Pat,Lee,pat@mailed.acme.com,")
    set_action(importer, batch_id, [1], "RESEND_INVITATION")

    committed(importer, batch_id)

    mail = Path(env["ROSTER_OUTBOX_DIR"]) / f"{invitation_of(server, pat['id'])}.eml"
    deadline = time.monotonic() + 15
    while not mail.exists():
        assert time.monotonic() < deadline, "The new invitation was never mailed."
        time.sleep(0.1)
    assert b"pat@mailed.acme.com" in mail.read_bytes()
