"""What the API tests share: the documents they send, an administrator's client, a server
for a whole module, and readers of top-level error codes and the event count."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from settings import Settings
from tests.support import (
    ADMIN,
    TEST_SECRET,
    Api,
    GraphQLWebSocket,
    ServerProcess,
    ThreadedServer,
    create_database,
    drop_database,
    token,
)

#: The contract the server must serve, kept in the repository (`make schema` writes it).
CONTRACT = Path(__file__).resolve().parents[2] / "schema.graphql"
TEST_DATABASE = os.environ.get("ROSTER_TEST_DATABASE_URL", "sqlite")
ON_POSTGRES = TEST_DATABASE.startswith(("postgresql://", "postgres://"))

USER = """
fragment UserFields on User {
  id firstName lastName name email username createdAt status statusChangedAt
  invitation { issuedAt expiresAt sentAt acceptedAt }
  access { permissions effectivePermissions groups { id name permissions memberCount } }
}
"""
USER_RESULT = (
    "__typename ...UserFields ... on Problem { code message } ... on InvalidInput { field }"
)
ACCEPT = f"""
mutation($token: String!) {{ acceptInvitation(token: $token) {{
  __typename ...UserFields ... on Problem {{ code message }} }} }}
{USER}"""
RESEND = f"""
mutation($id: ID!) {{ resendInvitation(userId: $id) {{ {USER_RESULT} }} }}
{USER}"""
GROUP_RESULT = (
    "__typename ... on Group { id name permissions memberCount } "
    "... on Problem { code message } ... on InvalidInput { field }"
)
CREATE_USER = f"""
mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {USER_RESULT} }} }}
{USER}"""
DEACTIVATE = f"""
mutation($id: ID!, $reason: String) {{ deactivateUser(userId: $id, reason: $reason) {{
  {USER_RESULT} }} }}
{USER}"""
REACTIVATE = f"""
mutation($id: ID!, $reason: String) {{ reactivateUser(userId: $id, reason: $reason) {{
  {USER_RESULT} }} }}
{USER}"""
SET_ACCESS = f"""
mutation($id: ID!, $access: UserAccessInput!) {{ setUserAccess(userId: $id, access: $access) {{
  {USER_RESULT} }} }}
{USER}"""
CREATE_GROUP = f"""
mutation($name: String!, $permissions: [String!]!) {{
  createGroup(name: $name, permissions: $permissions) {{ {GROUP_RESULT} }} }}"""
SET_GROUP_PERMISSIONS = f"""
mutation($id: ID!, $permissions: [String!]!) {{
  setGroupPermissions(groupId: $id, permissions: $permissions) {{ {GROUP_RESULT} }} }}"""
USER_BY_ID = f"query($id: ID!) {{ user(id: $id) {{ ...UserFields }} }} {USER}"


class Administrator:
    """A USER_MANAGEMENT_ADMIN calling the API: each method returns the operation's result."""

    def __init__(self, api: Api, subject: str = "admin") -> None:
        self.api = api
        self.token = token(ADMIN, subject=subject)

    def create_user(self, first: str, last: str, email: str, **more: Any) -> dict[str, Any]:
        given = {"firstName": first, "lastName": last, "email": email, **more}
        return self._result(CREATE_USER, {"input": given}, "createUser")

    def register(self, first: str, last: str, email: str, **more: Any) -> dict[str, Any]:
        """A user that must be created."""
        user = self.create_user(first, last, email, **more)
        assert user["__typename"] == "User", user
        return user

    def deactivate(self, user_id: str, reason: str | None = None) -> dict[str, Any]:
        return self._result(DEACTIVATE, {"id": user_id, "reason": reason}, "deactivateUser")

    def reactivate(self, user_id: str, reason: str | None = None) -> dict[str, Any]:
        return self._result(REACTIVATE, {"id": user_id, "reason": reason}, "reactivateUser")

    def set_access(
        self, user_id: str, group_ids: list[str], permissions: list[str]
    ) -> dict[str, Any]:
        access = {"groupIds": group_ids, "permissions": permissions}
        return self._result(SET_ACCESS, {"id": user_id, "access": access}, "setUserAccess")

    def create_group(self, name: str, permissions: list[str] | None = None) -> dict[str, Any]:
        variables = {"name": name, "permissions": permissions or []}
        return self._result(CREATE_GROUP, variables, "createGroup")

    def set_group_permissions(self, group_id: str, permissions: list[str]) -> dict[str, Any]:
        variables = {"id": group_id, "permissions": permissions}
        return self._result(SET_GROUP_PERMISSIONS, variables, "setGroupPermissions")

    def find_user(self, user_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.api.data(USER_BY_ID, {"id": user_id}, as_=self.token)[
            "user"
        ]
        return found

    def user(self, user_id: str) -> dict[str, Any]:
        """A user that must exist."""
        found = self.find_user(user_id)
        assert found is not None, user_id
        return found

    def _result(self, document: str, variables: dict[str, Any], name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api.data(document, variables, as_=self.token)[name]
        return result


def error_codes(result: dict[str, Any]) -> list[str]:
    """The extensions.code of every top-level error of a GraphQL result."""
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def event_count(api: Api) -> int:
    """How many events the store holds, as /health reports it."""
    response = api.http.get("/health")
    assert response.status_code == 200, response.text
    count: int = response.json()["events"]
    return count


def upload(
    api: Api,
    query: str,
    variable: str,
    content: bytes,
    *,
    authorization: str | None,
) -> dict[str, Any]:
    """A GraphQL multipart request (operations, map, one file part) for `variable`."""
    operations = {"query": query, "variables": {variable: None}}
    files = {"0": ("users.csv", content, "text/csv")}
    form = {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": [f"variables.{variable}"]}),
    }
    headers = {"authorization": authorization} if authorization else {}
    response = api.http.post("/graphql", data=form, files=files, headers=headers)
    # An upload refused by its headers (upload_gate.py) is answered 401 or 403.
    assert response.status_code in (200, 401, 403), response.text
    result: dict[str, Any] = response.json()
    return result


class Toggle:
    """Status changes on demand: deactivates one user, then reactivates them, and so on."""

    def __init__(self, admin: Administrator, user_id: str) -> None:
        self.admin = admin
        self.user_id = user_id
        self.deactivated = False

    def __call__(self, reason: str) -> None:
        change = self.admin.reactivate if self.deactivated else self.admin.deactivate
        assert change(self.user_id, reason)["__typename"] == "User"
        self.deactivated = not self.deactivated


def go_live(ws: GraphQLWebSocket, nudge: Callable[[str], None], *, wait: float = 1.0) -> None:
    """Returns once the last statusChanged subscription on `ws` (which must select
    `reason`) delivers changes, and every change it delivered has been read.

    A subscription starts following the store some time after `subscribe` is sent, and
    nothing tells the client when. So: make a status change with `nudge(reason)` until
    one arrives, then read until the change of the last nudge has arrived too.
    """
    nudges = 0
    while True:
        nudges += 1
        nudge(f"nudge {nudges}")
        try:
            reason = ws.next_payload(timeout=wait)["data"]["statusChanged"]["reason"]
            break
        except TimeoutError:
            assert nudges < 10, "The subscription never delivered a change."
    while reason != f"nudge {nudges}":
        reason = ws.next_payload()["data"]["statusChanged"]["reason"]


@contextmanager
def store_for_module(workdir: Path) -> Iterator[dict[str, str]]:
    """The environment of a new store (as the `env` fixture gives), for a whole module."""
    url = create_database(TEST_DATABASE) if ON_POSTGRES else f"sqlite:///{workdir / 'roster.db'}"
    try:
        yield {
            "ROSTER_DATABASE_URL": url,
            "ROSTER_JWT_SECRET": TEST_SECRET,
            "ROSTER_OUTBOX_DIR": str(workdir / "outbox"),
            "ROSTER_ERASURE_LEDGER": str(workdir / "erasures.jsonl"),
            "ROSTER_MAIL_DELIVERY": "off",  # see tests/conftest.py
        }
    finally:
        if ON_POSTGRES:
            drop_database(TEST_DATABASE, url)


@contextmanager
def server_for_module(workdir: Path) -> Iterator[ThreadedServer]:
    """One server and store shared by the tests of a module whose outcomes do not depend on
    what the other tests wrote (a new server per test costs a second on PostgreSQL)."""
    with store_for_module(workdir) as env, ThreadedServer(Settings.from_env(env)) as server:
        yield server


@contextmanager
def process_for_module(workdir: Path) -> Iterator[ServerProcess]:
    """Like `server_for_module`, but `uvicorn server:app` in its own process."""
    with store_for_module(workdir) as env:
        server = ServerProcess.launch(env, workdir)
        try:
            yield server
        finally:
            server.stop()


def post_raw(api: Api, query: str, headers: dict[str, str]) -> dict[str, Any]:
    """The result of a POST /graphql with exactly the headers given."""
    response = api.http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
