"""Step 4, choosing how the new users receive access, and cancelling a batch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.imports.batch import ImportBatch
from domain.imports.review import ReviewCounts, RowInput, RowResult, RowStatus
from tests.api.operations import Administrator
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

VALID = RowResult(RowStatus.VALID, (), None)
SET_ACCESS = """
mutation($batchId: ID!, $access: ImportAccessInput!) {
  setImportAccess(batchId: $batchId, access: $access) {
    __typename
    ... on ImportBatch { status access { mode groupIds mirrorUserId } }
    ... on InvalidInput { code field }
    ... on Problem { code message }
  }
}
"""
CANCEL = """
mutation($batchId: ID!) {
  cancelImport(batchId: $batchId) {
    __typename ... on ImportBatch { status } ... on Problem { code message }
  }
}
"""


def reviewed_batch(server: ThreadedServer) -> str:
    batch = ImportBatch(filename="people.csv", created_by="someone")
    rows = [RowInput("Ann", "Lee", f"ann{n}@acme.com", None) for n in (1, 2)]
    batch.record_rows(1, rows, [VALID, VALID])
    batch.finish_review(ReviewCounts(valid=2, invalid=0, excluded=0))
    services = server.app.state.services
    services.roster.save(batch)
    services.read_model.catch_up()
    return str(batch.id)


def set_access(server: ThreadedServer, batch_id: str, access: dict[str, Any]) -> dict[str, Any]:
    data = server.api.data(SET_ACCESS, {"batchId": batch_id, "access": access}, as_=token(VIEWER))
    result: dict[str, Any] = data["setImportAccess"]
    return result


def a_group(server: ThreadedServer) -> str:
    group = Administrator(server.api).create_group("Sales")
    return str(group["id"])


def test_groups_are_assigned_to_every_row(server: ThreadedServer) -> None:
    batch_id, group = reviewed_batch(server), a_group(server)

    result = set_access(server, batch_id, {"mode": "ASSIGN_GROUPS", "groupIds": [group]})

    assert result["__typename"] == "ImportBatch"
    assert result["access"] == {"mode": "ASSIGN_GROUPS", "groupIds": [group], "mirrorUserId": None}


def test_an_unknown_group_is_invalid_input_naming_it(server: ThreadedServer) -> None:
    result = set_access(
        server, reviewed_batch(server), {"mode": "ASSIGN_GROUPS", "groupIds": [str(UUID(int=9))]}
    )

    assert (result["__typename"], result["field"]) == ("InvalidInput", "access.groupIds[0]")


def test_an_unknown_user_to_mirror_is_invalid_input(server: ThreadedServer) -> None:
    result = set_access(
        server, reviewed_batch(server), {"mode": "MIRROR_USER", "mirrorUserId": str(UUID(int=9))}
    )

    assert (result["__typename"], result["code"]) == ("InvalidInput", "UNKNOWN_USER")


def test_custom_access_names_unknown_rows(server: ThreadedServer) -> None:
    result = set_access(
        server,
        reviewed_batch(server),
        {"mode": "CUSTOMIZE", "rows": [{"rowNumber": 1}, {"rowNumber": 7}]},
    )

    assert (result["__typename"], result["code"]) == ("InvalidInput", "UNKNOWN_ROW")


def test_custom_access_is_shown_row_by_row(server: ThreadedServer) -> None:
    batch_id, group = reviewed_batch(server), a_group(server)
    rows = [{"rowNumber": 2, "groupIds": [group], "permissions": ["crm.read"]}]
    set_access(server, batch_id, {"mode": "CUSTOMIZE", "rows": rows})

    data = server.api.data(
        "query($id: ID!) { importBatch(id: $id) { rows { edges { node { rowNumber"
        " access { groupIds permissions } } } } } }",
        {"id": batch_id},
        as_=token(AUDITOR),
    )

    shown = [e["node"] for e in data["importBatch"]["rows"]["edges"]]
    assert shown == [
        {"rowNumber": 1, "access": {"groupIds": [], "permissions": []}},
        {"rowNumber": 2, "access": {"groupIds": [group], "permissions": ["crm.read"]}},
    ]


def test_an_unknown_batch_is_not_found(server: ThreadedServer) -> None:
    result = set_access(server, str(UUID(int=3)), {"mode": "ASSIGN_GROUPS", "groupIds": []})

    assert result["__typename"] == "NotFound"


def test_a_cancelled_batch_takes_no_more_access_choices(server: ThreadedServer) -> None:
    batch_id = reviewed_batch(server)

    cancelled = server.api.data(CANCEL, {"batchId": batch_id}, as_=token(ADMIN))["cancelImport"]
    again = server.api.data(CANCEL, {"batchId": batch_id}, as_=token(ADMIN))["cancelImport"]
    refused = set_access(server, batch_id, {"mode": "ASSIGN_GROUPS", "groupIds": []})

    assert cancelled == {"__typename": "ImportBatch", "status": "CANCELLED"}
    assert again["__typename"] == "InvalidState"
    assert refused["__typename"] == "InvalidState"
