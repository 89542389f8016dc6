"""Schema fuzzing: documents generated from the contract by hypothesis-graphql, for every
query and mutation, valid ones and ones with one violation of the schema (a missing or
mistyped argument, an unknown enum value), sent over HTTP to the live server as each
profile and without a token.

Whatever the document, the answer is no 5xx, and every error is one the API meant to give:
it carries an `extensions.code`, it is not the masked INTERNAL_SERVER_ERROR, and neither
it nor a Problem's message shows Python (a traceback, a file name, an exception's class).

One store for the module: the mutations act on it for real (a few seeded users, a group
and an import batch give the generated ids something to find). The examples are
derandomized (tests/conftest.py) and few per operation and caller, so that the module
stays well within a minute per store.

Not schemathesis, which wraps hypothesis-graphql: its set-up patches Hypothesis for the
whole test process (a printer that prints nothing: every property test of the suite
would report its failing example as blank), and its fixture-based pytest loader fails
on pytest 9 (`request.node._nodeid`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from domain.profiles import Profile
from tests.api.importing import Importer, people
from tests.api.operations import CONTRACT, Administrator, server_for_module
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

SDL = CONTRACT.read_text()
_SCHEMA = graphql.build_schema(SDL)
EXAMPLES = 15
CALLERS: dict[str, Profile | None] = {
    "admin": ADMIN,
    "viewer": VIEWER,
    "auditor": AUDITOR,
    "no-token": None,
}


def _root(kind: str) -> graphql.GraphQLObjectType:
    root = _SCHEMA.query_type if kind == "query" else _SCHEMA.mutation_type
    assert root is not None
    return root


OPERATIONS = [f"{kind}.{name}" for kind in ("query", "mutation") for name in _root(kind).fields]
#: Ids the seeding made, for the generated ID arguments to find now and then.
SEEDED: list[str] = []


def _strings(values: st.SearchStrategy[str]) -> st.SearchStrategy[graphql.ValueNode]:
    return values.map(nodes.String)


#: Our scalars: well-formed values and text that is not one.
SCALARS = {
    "ID": _strings(
        st.one_of(
            st.deferred(lambda: st.sampled_from(SEEDED)),
            st.uuids().map(str),
            st.text(max_size=40),
        )
    ),
    "DateTime": _strings(
        st.one_of(
            st.datetimes().map(lambda at: at.isoformat() + "Z"),
            st.datetimes().map(lambda at: at.isoformat()),
            st.text(max_size=30),
        )
    ),
    # A file comes only in a multipart request: in JSON it is any value but a file.
    "Upload": _strings(st.text(max_size=20)),
}


@functools.cache
def documents(operation: str) -> st.SearchStrategy[str]:
    """Documents calling one root field: valid, or (when it takes arguments) with one
    violation of the schema."""
    kind, name = operation.split(".")
    build: Callable[..., st.SearchStrategy[Any]] = queries if kind == "query" else mutations
    made = [build(SDL, fields=[name], custom_scalars=SCALARS)]
    if _root(kind).fields[name].args:
        made.append(build(SDL, fields=[name], custom_scalars=SCALARS, mode=Mode.NEGATIVE))
    return st.one_of(made).map(str)


#: Python showing through a message: a traceback, its file lines, an exception's class.
_PYTHON = re.compile(r"Traceback \(|File \"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b")
#: The contract's own type names are no leak.
_TYPE_NAMES = set(_SCHEMA.type_map)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("fuzz")) as server:
        seed(server)
        yield server


def seed(server: ThreadedServer) -> None:
    """Users (one blocked), a group and an import batch in review, for generated ids to find."""
    admin = Administrator(server.api)
    user = admin.register("Ann", "Lee", "ann@example.org")
    blocked = admin.register("Bob", "Ray", "bob@example.org")
    admin.deactivate(blocked["id"], "seeded")
    group = admin.create_group("Seeded")
    batch = Importer(server.api).started(people(3))
    SEEDED.extend([user["id"], blocked["id"], group["id"], batch["id"]])


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("caller", CALLERS.values(), ids=CALLERS.keys())
# Hypothesis blames a strategy for `random` when the global random state moves during a
# draw; here the live server's threads move it (domain/saving.py's retry jitter), not the
# strategy. That warning says nothing of the server's answers, which are what is tested.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_document_gets_an_unexpected_error(
    live: ThreadedServer, operation: str, caller: Profile | None, data: st.DataObject
) -> None:
    document = data.draw(documents(operation), label="document")
    headers = {"authorization": f"Bearer {token(caller)}"} if caller else {}

    response = live.api.http.post("/graphql", json={"query": document}, headers=headers)

    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str), f"no extensions.code: {error}"
        assert code != "INTERNAL_SERVER_ERROR", error
        assert not _python_in(error["message"]), error
    for message in _messages(body.get("data")):
        assert not _python_in(message), message


def _python_in(message: str) -> bool:
    return any(match.group(0) not in _TYPE_NAMES for match in _PYTHON.finditer(message))


def _messages(data: Any) -> Iterator[str]:
    """The `message` of every Problem (and other result) in the data."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "message" and isinstance(value, str):
                yield value
            else:
                yield from _messages(value)
    elif isinstance(data, list):
        for item in data:
            yield from _messages(item)
