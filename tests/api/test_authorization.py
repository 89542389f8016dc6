"""Who may call what: every operation of the contract, called by each profile, by a token
without profiles and without a token, as the contract's table says."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import build_schema
from websockets.exceptions import ConnectionClosed

from tests.api.operations import (
    CONTRACT,
    Administrator,
    error_codes,
    event_count,
    process_for_module,
    upload,
)
from tests.support import ADMIN, AUDITOR, VIEWER, ServerProcess, token

ANONYMOUS = "no token"
NO_PROFILES = "no profiles"
TOKENS: dict[str, str | None] = {
    "admin": token(ADMIN),
    "viewer": token(VIEWER),
    "auditor": token(AUDITOR),
    NO_PROFILES: token(),
    ANONYMOUS: None,
}
READ = frozenset({"admin", "viewer", "auditor"})
IMPORT = frozenset({"admin", "viewer"})
MANAGE = frozenset({"admin"})
AUDIT = frozenset({"admin", "auditor"})
ANY_TOKEN = frozenset(TOKENS) - {ANONYMOUS}
#: What closing a WebSocket at `connection_init` with each code means.
SOCKET_REFUSALS = {4401: "UNAUTHENTICATED", 4403: "FORBIDDEN"}
ANYONE = frozenset(TOKENS)


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    allowed: frozenset[str]

    @property
    def label(self) -> str:
        """The name, and the kind of a subscription (a query may have the same name)."""
        subscription = self.document.startswith("subscription")
        return f"{self.name} (subscription)" if subscription else self.name

    @property
    def is_mutation(self) -> bool:
        return self.document.startswith("mutation")


BATCH = "mutation($b: ID!) { %s(batchId: $b%s) { __typename } }"
ROW = '{firstName: "Ana", lastName: "Silva", email: "ana@example.org"}'
OPERATIONS = [
    Operation("me", "{ me { subject profiles } }", ANY_TOKEN),
    Operation("statusDefinitions", "{ statusDefinitions { status } }", ANYONE),
    Operation("users", "{ users { totalCount } }", READ),
    Operation("user", "query($u: ID!) { user(id: $u) { id } }", READ),
    Operation("userByEmail", 'query { userByEmail(email: "a@example.org") { id } }', READ),
    Operation("groups", "{ groups { id } }", READ),
    Operation("importTemplate", "{ importTemplate { filename } }", READ),
    Operation("importBatch", "query($b: ID!) { importBatch(id: $b) { id } }", READ),
    Operation("importBatches", "{ importBatches { edges { cursor } } }", READ),
    Operation(
        "userStatusHistory", "query($u: ID!) { userStatusHistory(userId: $u) { to } }", AUDIT
    ),
    Operation(
        "userStatusAt",
        'query($u: ID!) { userStatusAt(userId: $u, at: "2030-01-01T00:00:00Z") }',
        AUDIT,
    ),
    Operation("statusChanges", "{ statusChanges { edges { cursor } } }", AUDIT),
    Operation(
        "startImport", "mutation($f: Upload!) { startImport(file: $f) { __typename } }", IMPORT
    ),
    Operation(
        "reviseImport",
        "mutation($f: Upload!) { reviseImport(batchId: "
        f'"{uuid.UUID(int=1)}", file: $f) {{ __typename }} }}',
        IMPORT,
    ),
    Operation(
        "updateImportRow", BATCH % ("updateImportRow", f", rowNumber: 1, row: {ROW}"), IMPORT
    ),
    Operation("excludeImportRows", BATCH % ("excludeImportRows", ", rowNumbers: [1]"), IMPORT),
    Operation("includeImportRows", BATCH % ("includeImportRows", ", rowNumbers: [1]"), IMPORT),
    Operation(
        "setImportRowAction",
        BATCH % ("setImportRowAction", ", rowNumbers: null, action: SKIP"),
        IMPORT,
    ),
    Operation(
        "setImportAccess",
        BATCH % ("setImportAccess", ", access: {mode: ASSIGN_GROUPS, groupIds: []}"),
        IMPORT,
    ),
    Operation("commitImport", BATCH % ("commitImport", ""), IMPORT),
    Operation("cancelImport", BATCH % ("cancelImport", ""), IMPORT),
    Operation(
        "createUser",
        "mutation($email: String!) { createUser(input: "
        '{firstName: "Ana", lastName: "Silva", email: $email}) { __typename } }',
        MANAGE,
    ),
    Operation(
        "resendInvitation",
        "mutation($u: ID!) { resendInvitation(userId: $u) { __typename } }",
        MANAGE,
    ),
    Operation(
        "acceptInvitation", 'mutation { acceptInvitation(token: "abc") { __typename } }', ANYONE
    ),
    Operation(
        "deactivateUser", "mutation($u: ID!) { deactivateUser(userId: $u) { __typename } }", MANAGE
    ),
    Operation(
        "reactivateUser", "mutation($u: ID!) { reactivateUser(userId: $u) { __typename } }", MANAGE
    ),
    Operation(
        "eraseUser",
        'mutation($e: ID!) { eraseUser(userId: $e, reason: "asked") { __typename } }',
        MANAGE,
    ),
    Operation(
        "setUserAccess",
        "mutation($u: ID!, $g: ID!) { setUserAccess(userId: $u, "
        'access: {groupIds: [$g], permissions: ["reports:read"]}) { __typename } }',
        MANAGE,
    ),
    Operation(
        "createGroup",
        "mutation($name: String!) { createGroup(name: $name) { __typename } }",
        MANAGE,
    ),
    Operation(
        "setGroupPermissions",
        'mutation($g: ID!) { setGroupPermissions(groupId: $g, permissions: ["x"]) { __typename } }',
        MANAGE,
    ),
    Operation(
        "importProgress", "subscription($b: ID!) { importProgress(batchId: $b) { total } }", IMPORT
    ),
    Operation("statusChanged", "subscription { statusChanged { to } }", AUDIT),
    Operation("revertImport", BATCH % ("revertImport", ', reason: "wrong file"'), MANAGE),
    Operation(
        "startBulkAction",
        "mutation($u: ID!) { startBulkAction(action: RESEND_INVITATION, userIds: [$u])"
        " { __typename } }",
        MANAGE,
    ),
    Operation(
        "bulkActionProgress", "query($b: ID!) { bulkActionProgress(id: $b) { status } }", MANAGE
    ),
    Operation(
        "eraseActor",
        'mutation { eraseActor(subject: "nobody", reason: "asked") { __typename } }',
        MANAGE,
    ),
    Operation(
        "bulkActionProgress",
        "subscription($b: ID!) { bulkActionProgress(id: $b) { status } }",
        MANAGE,
    ),
]


def pairs(*, allowed: bool, mutations_only: bool = False) -> list[Any]:
    return [
        pytest.param(operation, caller, id=f"{operation.label}-{caller}")
        for operation in OPERATIONS
        for caller in TOKENS
        if (caller in operation.allowed) is allowed
        and (operation.is_mutation or not mutations_only)
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with process_for_module(tmp_path_factory.mktemp("authorization")) as running:
        yield running


@pytest.fixture(scope="module")
def targets(server: ServerProcess) -> dict[str, str]:
    """Ids of real users and a group, so that a refused mutation would have changed them
    (`e` is erased by the administrator: the others stay for the other operations)."""
    admin = Administrator(server.api)
    user = admin.register("Target", "User", "target@example.org")
    erased = admin.register("Erased", "User", "erased@example.org")
    group = admin.create_group("Targets")
    return {"u": user["id"], "e": erased["id"], "g": group["id"], "b": str(uuid.uuid4())}


def call(server: ServerProcess, operation: Operation, caller: str, targets: dict[str, str]) -> Any:
    """The operation's GraphQL result (a refused subscription's errors as `errors`)."""
    given = TOKENS[caller]
    unique = uuid.uuid4().hex[:8]
    variables = {**targets, "email": f"new-{unique}@example.org", "name": f"Group {unique}"}
    if operation.name in ("startImport", "reviseImport"):
        authorization = f"Bearer {given}" if given else None
        return upload(
            server.api, operation.document, "f", b"firstName\n", authorization=authorization
        )
    if operation.document.startswith("subscription"):
        return subscribe(server, operation.document, variables, given)
    return server.api.post(operation.document, variables, as_=given)


def subscribe(
    server: ServerProcess, document: str, variables: dict[str, Any], given: str | None
) -> Any:
    """The first answer to a subscription: registering users until one is delivered. A
    socket closed at `connection_init` answers with the code its close code stands for."""
    admin = Administrator(server.api)
    try:
        with server.api.websocket(given) as ws:
            ws.subscribe(document, variables)
            for _ in range(20):
                try:
                    message = ws.receive(timeout=0.5)
                except TimeoutError:
                    unique = uuid.uuid4().hex[:8]
                    admin.register("Nudge", unique, f"nudge-{unique}@example.org")
                    continue
                assert message["type"] in ("next", "error"), message
                if message["type"] == "error":
                    return {"errors": message["payload"]}
                return message["payload"]
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
        return {"errors": [{"extensions": {"code": SOCKET_REFUSALS.get(code or 0, code)}}]}
    raise AssertionError("The subscription answered nothing.")


def test_the_table_names_every_operation_of_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    roots = [contract.query_type, contract.mutation_type, contract.subscription_type]
    expected = [name for root in roots if root for name in root.fields]
    assert sorted(o.name for o in OPERATIONS) == sorted(expected)


@pytest.mark.parametrize(("operation", "caller"), pairs(allowed=True))
def test_an_allowed_caller_is_let_through(
    server: ServerProcess, targets: dict[str, str], operation: Operation, caller: str
) -> None:
    result = call(server, operation, caller, targets)
    # importProgress on the made-up batch id answers NOT_FOUND, which it only tells a
    # permitted caller; every other operation answers without a top-level error.
    assert set(error_codes(result)) <= {"NOT_FOUND"}, result
    if not result.get("errors"):
        assert operation.name in result["data"]


@pytest.mark.parametrize(("operation", "caller"), pairs(allowed=False))
def test_a_refused_caller_gets_a_coded_error(
    server: ServerProcess, targets: dict[str, str], operation: Operation, caller: str
) -> None:
    result = call(server, operation, caller, targets)
    expected = "UNAUTHENTICATED" if caller == ANONYMOUS else "FORBIDDEN"
    assert error_codes(result) == [expected]
    assert not (result.get("data") or {}).get(operation.name)


@pytest.mark.parametrize(("operation", "caller"), pairs(allowed=False, mutations_only=True))
def test_a_refused_operation_writes_no_event(
    server: ServerProcess, targets: dict[str, str], operation: Operation, caller: str
) -> None:
    before = event_count(server.api)
    call(server, operation, caller, targets)
    assert event_count(server.api) == before


@pytest.mark.parametrize("caller", [ANONYMOUS, "viewer", "admin"])
def test_a_subscription_sent_over_http_is_refused_for_everyone(
    server: ServerProcess, caller: str
) -> None:
    headers = {"authorization": f"Bearer {TOKENS[caller]}"} if TOKENS[caller] else {}
    response = server.api.http.post(
        "/graphql", json={"query": "subscription { statusChanged { to } }"}, headers=headers
    )

    assert response.status_code == 400
    assert "subscription" in response.text.lower()


def test_me_names_the_subject_and_profiles_of_the_token(server: ServerProcess) -> None:
    given = token(AUDITOR, VIEWER, subject="carol")
    me = server.api.data("{ me { subject profiles } }", as_=given)["me"]
    assert me == {"subject": "carol", "profiles": ["AUDITOR", "USER_MANAGEMENT_VIEWER"]}
