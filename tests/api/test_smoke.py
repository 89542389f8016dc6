from __future__ import annotations

from tests.support import ADMIN, AUDITOR, ThreadedServer, token

CREATE = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on User { id status } ... on Problem { code } }
}
"""


def test_a_created_user_is_found_by_search(server: ThreadedServer) -> None:
    admin = token(ADMIN)
    created = server.api.data(
        CREATE,
        {"input": {"firstName": "José", "lastName": "Pérez", "email": "jose@acme.com"}},
        as_=admin,
    )
    assert created["createUser"]["__typename"] == "User"
    found = server.api.data('{ users(search: "JOSE") { totalCount } }', as_=admin)
    assert found["users"]["totalCount"] == 1


def test_status_changes_arrive_over_websocket(server: ThreadedServer) -> None:
    admin = token(ADMIN)
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe("subscription { statusChanged { to source actor } }")
        server.api.data(
            CREATE,
            {"input": {"firstName": "Ana", "lastName": "B", "email": "ana@acme.com"}},
            as_=admin,
        )
        payload = ws.next_payload()
    assert payload["data"]["statusChanged"] == {
        "to": "PENDING",
        "source": "REGISTRATION",
        "actor": "tester",
    }
