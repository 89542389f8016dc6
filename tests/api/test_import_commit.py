"""commitImport and cancelImport over HTTP: which rows are registered, as whom, with which
access; what a commit refuses; the error report; and stopping a batch."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from settings import Settings
from tests.api.importing import Importer, csv_file, people
from tests.api.operations import Administrator
from tests.support import AUDITOR, VIEWER, Api, ThreadedServer, token

USERS = """
query($search: String, $after: String) {
  users(search: $search, first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node {
      id email status importBatchId invitation { issuedAt expiresAt }
      access { groups { id } permissions }
    } }
  }
}"""
HISTORY = "query($id: ID!) { userStatusHistory(userId: $id) { from to actor source } }"
FEED = "{ statusChanges { edges { node { userId to actor source } } } }"
REPORT_HEADER = ["row", "first_name", "last_name", "email", "username", "errors"]


# ---------------------------------------------------------------------------- helpers


def user_count(importer: Importer) -> int:
    count: int = importer.api.data(USERS, as_=importer.token)["users"]["totalCount"]
    return count


def users(importer: Importer) -> list[dict[str, Any]]:
    """Every registered user, page by page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = importer.api.data(USERS, {"after": after}, as_=importer.token)["users"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def user_with_email(importer: Importer, email: str) -> dict[str, Any] | None:
    page = importer.api.data(USERS, {"search": email}, as_=importer.token)["users"]
    matches = [edge["node"] for edge in page["edges"] if edge["node"]["email"] == email]
    return matches[0] if matches else None


def all_rows(importer: Importer, batch_id: str, *statuses: str) -> list[dict[str, Any]]:
    """Every row of the batch (with one of `statuses`), page by page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = importer.rows(batch_id, *statuses, after=after)
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def reviewed(importer: Importer, content: bytes, **access: Any) -> str:
    """A batch IN_REVIEW with the access given (none chosen if none given)."""
    batch_id: str = importer.started(content)["id"]
    if access:
        chosen = importer.set_access(batch_id, **access)
        assert chosen["__typename"] == "ImportBatch", chosen
    return batch_id


def committed(importer: Importer, batch_id: str, *, exclude_invalid: bool = False) -> None:
    result = importer.commit(batch_id, exclude_invalid=exclude_invalid)
    assert result["__typename"] == "ImportBatch", result
    assert importer.wait_for(batch_id, "COMPLETED", "CANCELLED")["status"] == "COMPLETED"


def no_access() -> dict[str, Any]:
    return {"mode": "CUSTOMIZE", "rows": []}


def report(api: Api, url: str, authorization: str | None) -> Any:
    headers = {"authorization": f"Bearer {authorization}"} if authorization else {}
    return api.http.get(url, headers=headers)


def report_lines(api: Api, url: str, authorization: str) -> list[list[str]]:
    response = report(api, url, authorization)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


# ---------------------------------------------------------------------------- refusals


def test_a_commit_is_refused_while_rows_are_invalid(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(
        importer, csv_file("Ann,Lee,ann@acme.com,", "Bob,Ray,no-at,"), **no_access()
    )

    result = importer.commit(batch_id)

    assert (result["__typename"], result["code"]) == ("InvalidState", "INVALID_STATE")
    assert importer.batch(batch_id)["status"] == "IN_REVIEW"
    assert user_count(importer) == 0


def test_a_commit_excluding_invalid_rows_registers_only_the_valid_ones(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    content = csv_file("Ann,Lee,ann@acme.com,", "Bob,Ray,no-at,", "Cy,Ng,cy@acme.com,")
    batch_id = reviewed(importer, content, **no_access())

    committed(importer, batch_id, exclude_invalid=True)

    rows = importer.row_nodes(batch_id)
    assert [row["status"] for row in rows] == ["CREATED", "EXCLUDED", "CREATED"]
    assert rows[1]["userId"] is None
    progress = importer.batch(batch_id)["progress"]
    assert (progress["excluded"], progress["invalid"], progress["created"]) == (1, 0, 2)
    assert user_count(importer) == 2


def test_a_commit_is_refused_until_access_is_chosen(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(2))

    result = importer.commit(batch_id)

    assert result["__typename"] == "InvalidState"
    assert importer.batch(batch_id)["status"] == "IN_REVIEW"
    assert user_count(importer) == 0


def test_a_second_commit_answers_the_same_batch_and_registers_nobody_twice(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(30), **no_access())

    first = importer.commit(batch_id)
    second = importer.commit(batch_id)
    importer.wait_for(batch_id, "COMPLETED")

    assert (first["__typename"], second["__typename"]) == ("ImportBatch", "ImportBatch")
    assert second["id"] == first["id"] == batch_id
    assert second["status"] in ("COMMITTING", "COMPLETED")
    assert importer.batch(batch_id)["progress"]["created"] == 30
    assert user_count(importer) == 30


def test_a_commit_after_completion_changes_nothing(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(3), **no_access())
    committed(importer, batch_id)
    before = importer.batch(batch_id)

    again = importer.commit(batch_id)

    assert again["__typename"] == "ImportBatch"
    assert (again["status"], again["progress"]) == ("COMPLETED", before["progress"])
    assert importer.batch(batch_id) == before
    assert user_count(importer) == 3


# ---------------------------------------------------------------------------- the users


def test_each_created_user_is_pending_invited_and_belongs_to_its_row(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(3), **no_access())

    committed(importer, batch_id)

    for row in importer.row_nodes(batch_id):
        user = user_with_email(importer, row["email"])
        assert user is not None, row
        assert (row["status"], row["userId"]) == ("CREATED", user["id"])
        assert (user["status"], user["importBatchId"]) == ("PENDING", batch_id)
        assert user["invitation"]["issuedAt"] < user["invitation"]["expiresAt"]


def test_an_imported_user_s_history_names_the_import_and_its_committer(
    server: ThreadedServer,
) -> None:
    uploader = Importer(server.api)
    committer = Importer(server.api, as_=token(VIEWER, subject="dora"))
    batch_id = reviewed(uploader, people(2), **no_access())

    committed(committer, batch_id)

    [first, second] = [row["userId"] for row in uploader.row_nodes(batch_id)]
    history = uploader.api.data(HISTORY, {"id": first}, as_=uploader.token)["userStatusHistory"]
    assert history == [{"from": None, "to": "PENDING", "actor": "dora", "source": "IMPORT"}]
    feed = uploader.api.data(FEED, as_=token(AUDITOR))["statusChanges"]["edges"]
    assert [edge["node"] for edge in feed] == [
        {"userId": user_id, "to": "PENDING", "actor": "dora", "source": "IMPORT"}
        for user_id in (first, second)
    ]


# ---------------------------------------------------------------------------- access


def access_of(user: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    assert user is not None
    return [group["id"] for group in user["access"]["groups"]], user["access"]["permissions"]


def test_assigned_groups_go_to_every_row(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    admin = Administrator(server.api)
    sales = admin.create_group("Sales", ["crm.read"])["id"]
    batch_id = reviewed(importer, people(3), mode="ASSIGN_GROUPS", groupIds=[sales])

    committed(importer, batch_id)

    for row in importer.row_nodes(batch_id):
        assert row["access"] == {"groupIds": [sales], "permissions": []}
        assert access_of(user_with_email(importer, row["email"])) == ([sales], [])


def test_a_mirrored_user_s_access_is_taken_at_commit_time(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    admin = Administrator(server.api)
    sales = admin.create_group("Sales")["id"]
    support = admin.create_group("Support")["id"]
    model = admin.register("Model", "User", "model@acme.com", groupIds=[sales])["id"]
    batch_id = reviewed(importer, people(3), mode="MIRROR_USER", mirrorUserId=model)

    changed = admin.set_access(model, [support], ["tickets.write", "crm.read"])
    assert changed["__typename"] == "User", changed
    committed(importer, batch_id)

    for row in importer.row_nodes(batch_id):
        assert row["access"] == {
            "groupIds": [support],
            "permissions": ["crm.read", "tickets.write"],
        }
        user = user_with_email(importer, row["email"])
        assert access_of(user) == ([support], ["crm.read", "tickets.write"])


def test_customised_access_goes_to_the_rows_listed_and_nothing_to_the_others(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    admin = Administrator(server.api)
    sales = admin.create_group("Sales")["id"]
    support = admin.create_group("Support")["id"]
    rows = [
        {"rowNumber": 1, "groupIds": [sales], "permissions": ["crm.read"]},
        {"rowNumber": 3, "groupIds": [support, sales]},
    ]
    batch_id = reviewed(importer, people(3), mode="CUSTOMIZE", rows=rows)

    committed(importer, batch_id)

    shown = importer.row_nodes(batch_id)
    got = [access_of(user_with_email(importer, row["email"])) for row in shown]
    assert [(sorted(groups), permissions) for groups, permissions in got] == [
        ([sales], ["crm.read"]),
        ([], []),
        (sorted([sales, support]), []),
    ]
    assert [row["access"]["permissions"] for row in shown] == [["crm.read"], [], []]
    assert [sorted(row["access"]["groupIds"]) for row in shown] == [
        [sales],
        [],
        sorted([sales, support]),
    ]


# ---------------------------------------------------------------------------- failures


def test_a_row_whose_email_was_registered_meanwhile_fails_alone(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(3), **no_access())
    Administrator(server.api).register("Early", "Bird", "person.2@acme.com")

    committed(importer, batch_id)

    rows = importer.row_nodes(batch_id)
    assert [row["status"] for row in rows] == ["CREATED", "FAILED", "CREATED"]
    assert [(e["column"], e["code"]) for e in rows[1]["errors"]] == [("email", "EMAIL_TAKEN")]
    assert rows[1]["userId"] is None
    progress = importer.batch(batch_id)["progress"]
    assert (progress["processed"], progress["created"], progress["failed"]) == (3, 2, 1)
    assert user_count(importer) == 3


def test_the_error_report_lists_invalid_rows_with_neutralised_cells(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    content = csv_file(
        "Ann,Lee,ann@acme.com,",
        "=SUM(A1),+Lee,bob@acme.com,@bob",
        "-Cy,Ng,not-an-email,",
    )
    batch = importer.started(content)

    lines = report_lines(server.api, batch["errorReportUrl"], importer.token)

    assert lines[0] == REPORT_HEADER
    assert [line[:5] for line in lines[1:]] == [
        ["2", "'=SUM(A1)", "'+Lee", "bob@acme.com", "'@bob"],
        ["3", "'-Cy", "Ng", "not-an-email", ""],
    ]
    errors = importer.row_nodes(batch["id"], "INVALID")
    for line, row in zip(lines[1:], errors, strict=True):
        for error in row["errors"]:
            assert f"{error['column'] or 'row'}: {error['message']}" in line[5]


def test_the_error_report_neutralises_formulas_behind_what_the_review_trims(
    server: ThreadedServer,
) -> None:
    importer = Importer(server.api)
    hidden = [" =1+1", "\u200b=1+1", "\ufeff@x", "\u00a0-1"]
    content = csv_file(*(f'Ann,"{cell}",ann{n}@acme.com,' for n, cell in enumerate(hidden)))
    batch = importer.started(content)

    lines = report_lines(server.api, batch["errorReportUrl"], importer.token)

    assert [line[2] for line in lines[1:]] == ["'" + cell for cell in hidden]
    assert all("UNSAFE_VALUE" not in line[5] and "formula" in line[5] for line in lines[1:])


def test_the_error_report_lists_rows_that_failed_at_commit(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, people(3), **no_access())
    Administrator(server.api).register("Early", "Bird", "person.3@acme.com")
    committed(importer, batch_id)

    url = importer.batch(batch_id)["errorReportUrl"]
    lines = report_lines(server.api, url, token(AUDITOR))

    assert lines[0] == REPORT_HEADER
    [failed] = lines[1:]
    assert failed[:5] == ["3", "Person", "No3", "person.3@acme.com", ""]
    assert failed[5].startswith("email: ")


def test_the_error_report_needs_a_token_with_a_profile(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    url = importer.started(csv_file("Bob,Ray,no-at,"))["errorReportUrl"]

    anonymous = report(server.api, url, None)
    no_profile = report(server.api, url, token(subject="nobody"))

    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert no_profile.status_code == 403
    assert no_profile.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# ---------------------------------------------------------------------------- cancelling


def test_a_batch_cancelled_in_review_takes_no_more_steps(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch_id = reviewed(importer, csv_file("Ann,Lee,ann@acme.com,", "Bob,Ray,no-at,"))

    cancelled = importer.cancel(batch_id)

    assert (cancelled["__typename"], cancelled["status"]) == ("ImportBatch", "CANCELLED")
    refused = [
        importer.update_row(batch_id, 2, firstName="Bob", lastName="Ray", email="bob@acme.com"),
        importer.exclude(batch_id, 2),
        importer.include(batch_id, 2),
        importer.set_access(batch_id, **no_access()),
        importer.commit(batch_id, exclude_invalid=True),
        importer.cancel(batch_id),
    ]
    assert [result["__typename"] for result in refused] == ["InvalidState"] * len(refused)
    assert importer.batch(batch_id)["status"] == "CANCELLED"
    assert user_count(importer) == 0


def test_a_batch_cancelled_while_committing_keeps_the_users_it_created(
    env: dict[str, str],
) -> None:
    # Files over 10 rows are read by the worker, as a large file would be.
    settings = Settings.from_env({**env, "ROSTER_IMPORT_INLINE_ROWS": "10"})
    with ThreadedServer(settings) as committing:
        importer = Importer(committing.api)
        batch_id = reviewed(importer, people(6_000), **no_access())
        assert importer.commit(batch_id)["__typename"] == "ImportBatch"
        while importer.batch(batch_id)["progress"]["processed"] == 0:
            time.sleep(0.005)
        cancelled = importer.cancel(batch_id)
        assert (cancelled["__typename"], cancelled["status"]) == ("ImportBatch", "CANCELLED")
    # That server's worker has stopped: nothing moves any more; read what it left.
    with ThreadedServer(settings) as after:
        importer = Importer(after.api)
        batch = importer.batch(batch_id)
        created = {row["userId"]: row["email"] for row in all_rows(importer, batch_id, "CREATED")}
        registered = {user["id"]: user["email"] for user in users(importer)}
        untouched = all_rows(importer, batch_id, "VALID")

        assert batch["status"] == "CANCELLED"
        progress = batch["progress"]
        assert 0 < progress["created"] == progress["processed"] <= progress["total"] == 6_000
        assert registered == created
        assert len(created) == progress["created"]
        assert len(untouched) == 6_000 - progress["created"]
        for row in untouched[:2] + untouched[-2:]:
            assert user_with_email(importer, row["email"]) is None
