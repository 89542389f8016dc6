"""What the import tests share: the import operations, a client that runs them as one
caller, and files as people fill in the template."""

from __future__ import annotations

import time
from typing import Any

from tests.support import ADMIN, Api, token

PROGRESS_FIELDS = "batchId status total validated valid invalid excluded processed created failed"
BATCH_FIELDS = f"""
id filename createdBy createdAt status errorReportUrl
access {{ mode groupIds mirrorUserId }}
progress {{ {PROGRESS_FIELDS} }}
"""
ROW_FIELDS = """
rowNumber firstName lastName email username status userId
errors { column code message }
access { groupIds permissions }
"""
PROBLEM = "... on Problem { code message } ... on InvalidInput { field }"
START = f"""
mutation($file: Upload!) {{ startImport(file: $file) {{
  __typename
  ... on ImportBatch {{ {BATCH_FIELDS} }}
  ... on InvalidFile {{ code message reason missingColumns unexpectedColumns }}
}} }}"""
BATCH = f"query($id: ID!) {{ importBatch(id: $id) {{ {BATCH_FIELDS} }} }}"
ROWS = f"""
query($id: ID!, $status: [ImportRowStatus!], $first: Int, $after: String) {{
  importBatch(id: $id) {{
    rows(status: $status, first: $first, after: $after) {{
      totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {ROW_FIELDS} }} }}
    }}
  }}
}}"""
UPDATE_ROW = f"""
mutation($batchId: ID!, $rowNumber: Int!, $row: ImportRowInput!) {{
  updateImportRow(batchId: $batchId, rowNumber: $rowNumber, row: $row) {{
    __typename ... on ImportRow {{ {ROW_FIELDS} }} {PROBLEM}
  }}
}}"""
BATCH_RESULT = f"__typename ... on ImportBatch {{ {BATCH_FIELDS} }} {PROBLEM}"
EXCLUDE = f"""
mutation($batchId: ID!, $rows: [Int!]!) {{
  excludeImportRows(batchId: $batchId, rowNumbers: $rows) {{ {BATCH_RESULT} }}
}}"""
INCLUDE = f"""
mutation($batchId: ID!, $rows: [Int!]!) {{
  includeImportRows(batchId: $batchId, rowNumbers: $rows) {{ {BATCH_RESULT} }}
}}"""
SET_ACCESS = f"""
mutation($batchId: ID!, $access: ImportAccessInput!) {{
  setImportAccess(batchId: $batchId, access: $access) {{ {BATCH_RESULT} }}
}}"""
COMMIT = f"""
mutation($batchId: ID!, $exclude: Boolean) {{
  commitImport(batchId: $batchId, excludeInvalidRows: $exclude) {{ {BATCH_RESULT} }}
}}"""
CANCEL = f"""
mutation($batchId: ID!) {{ cancelImport(batchId: $batchId) {{ {BATCH_RESULT} }} }}"""
REVISE = f"""
mutation($batchId: ID!, $file: Upload!) {{ reviseImport(batchId: $batchId, file: $file) {{
  {BATCH_RESULT}
  ... on InvalidFile {{ reason missingColumns unexpectedColumns }}
}} }}"""
PROGRESS = f"""
subscription($batchId: ID!) {{ importProgress(batchId: $batchId) {{ {PROGRESS_FIELDS} }} }}"""

HEADER = "first_name,last_name,email,username"


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    """A file as the template would be filled in: the header, then one line per row."""
    return "".join(line + "\r\n" for line in (header, *rows)).encode(encoding)


def people(count: int, *, domain: str = "acme.com", start: int = 1) -> bytes:
    """`count` valid rows: Person N, person.N@domain."""
    return csv_file(*(f"Person,No{n},person.{n}@{domain}," for n in range(start, start + count)))


class Importer:
    """One caller running the import steps over HTTP; each method gives the result."""

    def __init__(self, api: Api, *, as_: str | None = None) -> None:
        self.api = api
        self.token = as_ or token(ADMIN, subject="importer")

    def start(self, content: bytes, filename: str = "people.csv") -> dict[str, Any]:
        response = self.api.upload(START, content, filename=filename, as_=self.token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]["startImport"]
        return result

    def started(self, content: bytes, filename: str = "people.csv") -> dict[str, Any]:
        """Uploads a file that must be accepted; waits until its review is ready."""
        batch = self.start(content, filename)
        assert batch["__typename"] == "ImportBatch", batch
        return self.wait_for(batch["id"], "IN_REVIEW")

    def batch(self, batch_id: str) -> dict[str, Any]:
        batch: dict[str, Any] = self.api.data(BATCH, {"id": batch_id}, as_=self.token)[
            "importBatch"
        ]
        return batch

    def wait_for(self, batch_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            batch = self.batch(batch_id)
            if batch["status"] in statuses:
                return batch
            assert time.monotonic() < deadline, f"still {batch['status']}, not {statuses}"
            time.sleep(0.05)

    def rows(
        self, batch_id: str, *statuses: str, first: int = 500, after: str | None = None
    ) -> dict[str, Any]:
        variables = {"id": batch_id, "status": list(statuses) or None, "first": first}
        if after is not None:
            variables["after"] = after
        rows: dict[str, Any] = self.api.data(ROWS, variables, as_=self.token)["importBatch"]["rows"]
        return rows

    def row_nodes(self, batch_id: str, *statuses: str) -> list[dict[str, Any]]:
        return [edge["node"] for edge in self.rows(batch_id, *statuses)["edges"]]

    def update_row(self, batch_id: str, number: int, **row: Any) -> dict[str, Any]:
        variables = {"batchId": batch_id, "rowNumber": number, "row": row}
        return self._result(UPDATE_ROW, variables, "updateImportRow")

    def exclude(self, batch_id: str, *numbers: int) -> dict[str, Any]:
        return self._result(
            EXCLUDE, {"batchId": batch_id, "rows": list(numbers)}, "excludeImportRows"
        )

    def include(self, batch_id: str, *numbers: int) -> dict[str, Any]:
        return self._result(
            INCLUDE, {"batchId": batch_id, "rows": list(numbers)}, "includeImportRows"
        )

    def set_access(self, batch_id: str, **access: Any) -> dict[str, Any]:
        return self._result(SET_ACCESS, {"batchId": batch_id, "access": access}, "setImportAccess")

    def commit(self, batch_id: str, *, exclude_invalid: bool = False) -> dict[str, Any]:
        variables = {"batchId": batch_id, "exclude": exclude_invalid}
        return self._result(COMMIT, variables, "commitImport")

    def revise(
        self, batch_id: str, content: bytes, filename: str = "corrected.csv"
    ) -> dict[str, Any]:
        """reviseImport with a corrected file."""
        response = self.api.upload(
            REVISE, content, variables={"batchId": batch_id}, filename=filename, as_=self.token
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]["reviseImport"]
        return result

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._result(CANCEL, {"batchId": batch_id}, "cancelImport")

    def committed(self, batch_id: str, *, exclude_invalid: bool = False) -> dict[str, Any]:
        """Chooses no groups if no access was chosen, commits, and waits for the end."""
        if self.batch(batch_id)["access"] is None:
            assert self.set_access(batch_id, mode="CUSTOMIZE", rows=[])["__typename"] == (
                "ImportBatch"
            )
        result = self.commit(batch_id, exclude_invalid=exclude_invalid)
        assert result["__typename"] == "ImportBatch", result
        return self.wait_for(batch_id, "COMPLETED", "CANCELLED")

    def _result(self, query: str, variables: dict[str, Any], name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api.data(query, variables, as_=self.token)[name]
        return result
