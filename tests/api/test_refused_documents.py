"""Documents refused before anything runs carry a code like every other error: the cases
that schema fuzzing (test_schema_fuzzing.py) found without one, or masked as unexpected.
(Documents over a limit are QUERY_TOO_COMPLEX: test_limits.py, test_query_cost.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.api.operations import error_codes, server_for_module
from tests.support import AUDITOR, VIEWER, ThreadedServer, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("refused")) as running:
        yield running


def codes(
    server: ThreadedServer, document: str, variables: dict[str, object] | None = None
) -> list[str]:
    return error_codes(server.api.post(document, variables, as_=token(VIEWER)))


def test_a_document_that_does_not_parse_is_graphql_parse_failed(server: ThreadedServer) -> None:
    assert codes(server, "{ users { edges ") == ["GRAPHQL_PARSE_FAILED"]


def test_a_missing_required_argument_is_graphql_validation_failed(server: ThreadedServer) -> None:
    assert codes(server, "{ user { id } }") == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_literal_of_the_wrong_type_is_graphql_validation_failed(server: ThreadedServer) -> None:
    assert codes(server, "{ users(search: 0) { totalCount } }") == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_variable_of_the_wrong_type_is_bad_user_input(server: ThreadedServer) -> None:
    document = "query($first: Int) { users(first: $first) { totalCount } }"

    assert codes(server, document, {"first": "ten"}) == ["BAD_USER_INPUT"]


def test_a_date_time_written_wrong_in_the_document_is_bad_user_input_saying_why(
    server: ThreadedServer,
) -> None:
    user_id = uuid.uuid4()
    document = f'{{ userStatusAt(userId: "{user_id}", at: "2024-05-01T10:00") }}'

    result = server.api.post(document, as_=token(AUDITOR))

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"] == (
        "'2024-05-01T10:00' has no offset; add one, e.g. Z or +02:00."
    )


def test_a_file_sent_as_json_is_bad_user_input_saying_to_upload_it(server: ThreadedServer) -> None:
    document = 'mutation { startImport(file: "people.csv") { __typename } }'

    result = server.api.post(document, as_=token(VIEWER))

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "multipart request" in result["errors"][0]["message"]


def test_a_missing_required_variable_is_bad_user_input(server: ThreadedServer) -> None:
    assert codes(server, "query($id: ID!) { user(id: $id) { id } }") == ["BAD_USER_INPUT"]
