"""The cost of a query, known before it runs: page sizes multiplied along the nesting,
summed over the fields; over 50,000 it is refused as QUERY_TOO_COMPLEX. And a page
counts its rows only when `totalCount` is asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from projections import import_queries
from tests.api.importing import BATCH_FIELDS, ROW_FIELDS, Importer, people
from tests.api.operations import USER, error_codes, server_for_module
from tests.support import VIEWER, ThreadedServer, token

#: The issue's example: 29 pages of 500 rows in each of 500 batches.
ROWS_OF_EVERY_BATCH = (
    "{ importBatches(first: 500) { edges { node { "
    + " ".join(f"r{n}: rows(first: 500) {{ edges {{ node {{ rowNumber }} }} }}" for n in range(29))
    + " } } } }"
)
NESTED_PAGES = """
query($batches: Int, $rows: Int) { importBatches(first: $batches) { edges { node {
  rows(first: $rows) { edges { node { rowNumber email status } } } } } } }"""
USER_PAGE = f"""
query {{ users(first: 500) {{
  totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ ...UserFields }} }}
}} }}
{USER}"""
BATCH_WITH_ROWS = f"""
query($id: ID!) {{ importBatch(id: $id) {{ {BATCH_FIELDS}
  rows(first: 500) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {ROW_FIELDS} }} }}
  }}
}} }}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("cost")) as running:
        yield running


def refusal(server: ThreadedServer, document: str, variables: dict[str, Any] | None = None) -> str:
    """The one error a refused query gets, which must be QUERY_TOO_COMPLEX."""
    result = server.api.post(document, variables, as_=token(VIEWER))
    assert result["data"] is None
    assert error_codes(result) == ["QUERY_TOO_COMPLEX"], result
    message: str = result["errors"][0]["message"]
    return message


def test_pages_of_rows_in_pages_of_batches_are_refused_before_they_run(
    server: ThreadedServer,
) -> None:
    message = refusal(server, ROWS_OF_EVERY_BATCH)
    assert message.startswith("The query costs 21,765,501, over the limit of 50,000 ")


def test_a_page_size_given_by_a_variable_counts(server: ThreadedServer) -> None:
    message = refusal(server, NESTED_PAGES, {"batches": 100, "rows": 500})
    assert message.startswith("The query costs 250,301, over the limit of 50,000 ")


def test_a_page_size_left_out_counts_as_the_fields_default(server: ThreadedServer) -> None:
    """20 batches by default: 500 rows of each is 10,000 rows of three fields, too many."""
    message = refusal(server, NESTED_PAGES, {"rows": 500})
    assert message.startswith("The query costs 50,061, over the limit of 50,000 ")


def test_a_page_size_of_null_counts_as_the_fields_default(server: ThreadedServer) -> None:
    """20 batches, and 100 rows of each (not the largest pages): 2,000 rows, allowed."""
    result = server.api.post(NESTED_PAGES, {"batches": None, "rows": None}, as_=token(VIEWER))
    assert "errors" not in result, result["errors"]
    assert "edges" in result["data"]["importBatches"]


def test_pages_selected_through_fragments_count(server: ThreadedServer) -> None:
    document = """
    { importBatches(first: 500) { ...Batches } }
    fragment Batches on ImportBatchConnection { edges { node { ... on ImportBatch {
      rows(first: 500) { edges { node { rowNumber } } } } } } }"""
    assert refusal(server, document).startswith("The query costs 751,501,")


def test_a_page_of_500_users_with_their_access_and_groups_runs(server: ThreadedServer) -> None:
    result = server.api.post(USER_PAGE, as_=token(VIEWER))
    assert "errors" not in result, result["errors"]


def test_a_batch_with_a_page_of_500_rows_runs(server: ThreadedServer) -> None:
    batch_id = Importer(server.api).started(people(3))["id"]
    result = server.api.post(BATCH_WITH_ROWS, {"id": batch_id}, as_=token(VIEWER))
    assert "errors" not in result, result["errors"]
    assert result["data"]["importBatch"]["rows"]["totalCount"] == 3


# ---------------------------------------------------------------- counts


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batches whose rows were counted, as the server counts them (the real query)."""
    batches: list[str] = []
    real: Callable[..., int] = import_queries.count_rows

    def count_rows(cursor: Any, batch_id: str, statuses: tuple[str, ...]) -> int:
        batches.append(batch_id)
        return real(cursor, batch_id, statuses)

    monkeypatch.setattr(import_queries, "count_rows", count_rows)
    return batches


def test_a_page_of_rows_is_not_counted_unless_total_count_is_asked_for(
    server: ThreadedServer, counted: list[str]
) -> None:
    batch_id = Importer(server.api).started(people(2))["id"]
    document = "query($id: ID!) { importBatch(id: $id) { rows { edges { node { rowNumber } } } } }"
    rows = server.api.data(document, {"id": batch_id}, as_=token(VIEWER))["importBatch"]["rows"]
    assert len(rows["edges"]) == 2
    assert counted == []


def test_a_page_of_rows_is_counted_when_total_count_is_asked_for(
    server: ThreadedServer, counted: list[str]
) -> None:
    batch_id = Importer(server.api).started(people(2))["id"]
    document = "query($id: ID!) { importBatch(id: $id) { rows { totalCount } } }"
    rows = server.api.data(document, {"id": batch_id}, as_=token(VIEWER))["importBatch"]["rows"]
    assert rows == {"totalCount": 2}
    assert counted == [batch_id]
