"""Reading import batches over GraphQL and their error report over HTTP. Batches are made
through the domain here: the upload steps are not served yet."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import httpx

from domain.imports.batch import AccessMode, ImportBatch
from domain.imports.review import ReviewCounts, RowError, RowInput, RowResult, RowStatus
from tests.support import AUDITOR, VIEWER, ThreadedServer, token

ADMIN_SUBJECT = "admin-1"
VALID = RowResult(RowStatus.VALID, (), None)
FORMULA = RowResult(
    RowStatus.INVALID, (RowError("first_name", "UNSAFE_VALUE", "Remove the leading =."),), None
)
BATCH = """
query($id: ID!, $status: [ImportRowStatus!], $after: String) {
  importBatch(id: $id) {
    id filename createdBy status errorReportUrl
    access { mode groupIds }
    progress { total valid invalid excluded processed created failed }
    rows(status: $status, first: 1, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { rowNumber firstName status errors { column code } access { groupIds } } }
    }
  }
}
"""


def reviewed_batch(server: ThreadedServer) -> ImportBatch:
    batch = ImportBatch(filename="people.csv", created_by=ADMIN_SUBJECT)
    rows = [RowInput("Ann", "Lee", "ann@acme.com", None), RowInput("=cmd()", "X", "x@acme.com")]
    batch.record_rows(1, rows, [VALID, FORMULA])
    batch.finish_review(ReviewCounts(valid=1, invalid=1, excluded=0))
    batch.choose_access(AccessMode.ASSIGN_GROUPS, actor=ADMIN_SUBJECT, group_ids=[UUID(int=7)])
    services = server.app.state.services
    services.roster.save(batch)
    services.read_model.catch_up()
    return batch


def shown(server: ThreadedServer, batch: ImportBatch, **variables: Any) -> dict[str, Any]:
    data = server.api.data(BATCH, {"id": str(batch.id), **variables}, as_=token(AUDITOR))
    result: dict[str, Any] = data["importBatch"]
    return result


def test_a_batch_shows_its_status_progress_and_access(server: ThreadedServer) -> None:
    batch = shown(server, reviewed_batch(server))

    assert (batch["status"], batch["createdBy"], batch["filename"]) == (
        "IN_REVIEW",
        ADMIN_SUBJECT,
        "people.csv",
    )
    assert batch["progress"] == {
        "total": 2,
        "valid": 1,
        "invalid": 1,
        "excluded": 0,
        "processed": 0,
        "created": 0,
        "failed": 0,
    }
    assert batch["access"] == {"mode": "ASSIGN_GROUPS", "groupIds": [str(UUID(int=7))]}


def test_rows_page_through_the_review_table_with_their_errors(server: ThreadedServer) -> None:
    batch = reviewed_batch(server)
    first = shown(server, batch)["rows"]
    second = shown(server, batch, after=first["pageInfo"]["endCursor"])["rows"]

    assert first["totalCount"] == 2
    assert [e["node"]["rowNumber"] for e in first["edges"] + second["edges"]] == [1, 2]
    assert second["edges"][0]["node"]["errors"] == [
        {"column": "first_name", "code": "UNSAFE_VALUE"}
    ]
    assert first["edges"][0]["node"]["access"] == {"groupIds": [str(UUID(int=7))]}


def test_rows_filter_by_status(server: ThreadedServer) -> None:
    rows = shown(server, reviewed_batch(server), status=["INVALID"])["rows"]

    assert rows["totalCount"] == 1
    assert rows["edges"][0]["node"]["status"] == "INVALID"


def test_an_unknown_batch_is_null(server: ThreadedServer) -> None:
    data = server.api.data(BATCH, {"id": str(UUID(int=1))}, as_=token(VIEWER))

    assert data["importBatch"] is None


def test_batches_are_listed_newest_first(server: ThreadedServer) -> None:
    older, newer = reviewed_batch(server), reviewed_batch(server)
    data = server.api.data(
        "{ importBatches(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }",
        as_=token(VIEWER),
    )

    assert [e["node"]["id"] for e in data["importBatches"]["edges"]] == [
        str(newer.id),
        str(older.id),
    ]


def test_the_error_report_lists_invalid_rows_with_neutralised_cells(
    server: ThreadedServer,
) -> None:
    url = shown(server, reviewed_batch(server))["errorReportUrl"]

    response = httpx.get(
        server.base_url + url, headers={"authorization": f"Bearer {token(VIEWER)}"}
    )

    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "first_name", "last_name", "email", "username", "errors"]
    assert lines[1][:2] == ["2", "'=cmd()"]
    assert "Remove the leading =." in lines[1][5]
    assert len(lines) == 2


def test_the_error_report_needs_a_token(server: ThreadedServer) -> None:
    url = shown(server, reviewed_batch(server))["errorReportUrl"]

    response = httpx.get(server.base_url + url)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_error_report_of_an_unknown_batch_is_not_found(server: ThreadedServer) -> None:
    response = httpx.get(
        f"{server.base_url}/imports/{UUID(int=1)}/errors.csv",
        headers={"authorization": f"Bearer {token(AUDITOR)}"},
    )

    assert response.status_code == 404


def test_a_batch_id_that_is_no_uuid_finds_no_batch(server: ThreadedServer) -> None:
    found = server.api.data(
        "query($id: ID!) { importBatch(id: $id) { id } }", {"id": "batch\x00-7"}, as_=token(AUDITOR)
    )
    report = httpx.get(
        f"{server.base_url}/imports/batch%00-7/errors.csv",
        headers={"authorization": f"Bearer {token(AUDITOR)}"},
    )

    assert found == {"importBatch": None}
    assert report.status_code == 404
