"""Guards against abusive requests, and what clients see of an unexpected failure."""

from __future__ import annotations

import gc
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Any

import psycopg

from tests.api.operations import error_codes, upload
from tests.support import ADMIN, VIEWER, ThreadedServer, token

MIB = 1 << 20
DEEPEST_REAL = "{ users { edges { node { access { groups { name } } } } } }"


def nested(levels: int) -> str:
    """A selection `levels` fields deep, below users.edges.node.access.groups."""
    inner = "name"
    for n in range(levels - 5):
        inner = f"level{n} {{ {inner} }}"
    return "{ users { edges { node { access { groups { " + inner + " } } } } } }"


def messages(result: dict[str, Any]) -> list[str]:
    return [error["message"] for error in result.get("errors") or []]


def test_a_query_of_the_deepest_real_shape_runs(server: ThreadedServer) -> None:
    assert server.api.data(DEEPEST_REAL, as_=token(VIEWER)) == {"users": {"edges": []}}


def test_a_query_nested_deeper_than_ten_levels_is_refused(server: ThreadedServer) -> None:
    result = server.api.post(nested(12), as_=token(VIEWER))
    assert result["data"] is None
    assert "'anonymous' exceeds maximum operation depth of 10" in messages(result)


def test_thirty_aliases_are_allowed(server: ThreadedServer) -> None:
    document = "{ " + " ".join(f"a{n}: me {{ subject }}" for n in range(30)) + " }"
    assert len(server.api.data(document, as_=token(VIEWER))) == 30


def test_more_than_thirty_aliases_are_refused(server: ThreadedServer) -> None:
    document = "{ " + " ".join(f"a{n}: me {{ subject }}" for n in range(31)) + " }"
    result = server.api.post(document, as_=token(VIEWER))
    assert result["data"] is None
    assert messages(result) == ["31 aliases found. Allowed: 30"]


def test_a_document_of_more_than_2000_tokens_is_refused(server: ThreadedServer) -> None:
    document = "{ " + " ".join("me { subject }" for _ in range(600)) + " }"
    result = server.api.post(document, as_=token(VIEWER))
    assert result["data"] is None
    assert "more than 2000 tokens" in messages(result)[0]


def test_a_body_over_one_mebibyte_gets_413(server: ThreadedServer) -> None:
    body = json.dumps({"query": "{ me { subject } }", "padding": "x" * MIB})
    response = server.api.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


def test_a_chunked_body_over_one_mebibyte_gets_413(server: ThreadedServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ me { subject } }", "padding": "'
        for _ in range(65):
            yield b"x" * (MIB // 64)
        yield b'"}'

    response = server.api.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_an_unexpected_error_is_masked_and_names_the_request(server: ThreadedServer) -> None:
    drop_table(server.settings.store.url, "access_groups")
    response = server.api.http.post(
        "/graphql",
        json={"query": "{ groups { name } }"},
        headers={"authorization": f"Bearer {token(ADMIN)}", "x-request-id": "req-42"},
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert error["message"] == "Unexpected error; quote request id req-42 when you report it."
    assert response.headers["x-request-id"] == "req-42"


def test_an_uploaded_file_is_closed_once_the_request_is_answered(
    server: ThreadedServer,
) -> None:
    document = "mutation($f: Upload!) { startImport(file: $f) { __typename } }"
    upload(server.api, document, "f", b"firstName\n", authorization=f"Bearer {token(VIEWER)}")
    # type() and not isinstance(): a dead weakref.proxy among the objects raises on isinstance.
    files = [o for o in gc.get_objects() if type(o) is tempfile.SpooledTemporaryFile]
    assert [f for f in files if not f.closed] == []


def drop_table(url: str, table: str) -> None:
    """Breaks the read model under the running server, as a lost table would."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute(f"DROP TABLE {table}")
        return
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE {table}")
