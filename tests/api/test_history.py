"""Status history: one user's changes, the status at a moment, the auditors' feed, and
reading one's own writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.api.operations import Administrator, error_codes
from tests.support import AUDITOR, ThreadedServer, token

CHANGE = "userId from to at actor source reason version"
HISTORY = f"query($id: ID!) {{ userStatusHistory(userId: $id) {{ {CHANGE} }} }}"
STATUS_AT = "query($id: ID!, $at: DateTime!) { userStatusAt(userId: $id, at: $at) }"
FEED = f"""
query($since: DateTime, $until: DateTime, $first: Int, $after: String) {{
  statusChanges(since: $since, until: $until, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {CHANGE} }} }}
  }}
}}"""


def ask(server: ThreadedServer, document: str, **variables: Any) -> Any:
    return server.api.data(document, variables, as_=token(AUDITOR))


def history(server: ThreadedServer, user_id: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = ask(server, HISTORY, id=user_id)["userStatusHistory"]
    return changes


def feed(server: ThreadedServer, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = ask(server, FEED, **variables)["statusChanges"]
    return connection


def between(earlier: str, later: str) -> datetime:
    start = datetime.fromisoformat(earlier)
    return start + (datetime.fromisoformat(later) - start) / 2


@pytest.fixture
def ana(server: ThreadedServer) -> str:
    """Registered by alice, deactivated by alice ("left"), reactivated by bob ("back")."""
    alice, bob = Administrator(server.api, "alice"), Administrator(server.api, "bob")
    user_id: str = alice.register("Ana", "Silva", "ana@acme.com")["id"]
    alice.deactivate(user_id, reason="left")
    bob.reactivate(user_id, reason="back")
    return user_id


def test_history_lists_every_change_oldest_first(server: ThreadedServer, ana: str) -> None:
    changes = history(server, ana)
    assert [{k: v for k, v in c.items() if k != "at"} for c in changes] == [
        {"userId": ana, "from": None, "to": "PENDING", "actor": "alice"}
        | {"source": "REGISTRATION", "reason": None, "version": 1},
        {"userId": ana, "from": "PENDING", "to": "DEACTIVATED", "actor": "alice"}
        | {"source": "ADMINISTRATOR", "reason": "left", "version": 2},
        {"userId": ana, "from": "DEACTIVATED", "to": "PENDING", "actor": "bob"}
        | {"source": "ADMINISTRATOR", "reason": "back", "version": 3},
    ]
    moments = [datetime.fromisoformat(c["at"]) for c in changes]
    assert moments == sorted(moments)


def test_history_versions_count_every_event_of_the_user(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    user_id = admin.register("Ana", "Silva", "ana@acme.com")["id"]
    admin.set_access(user_id, [], ["crm:read"])
    admin.deactivate(user_id)
    assert [c["version"] for c in history(server, user_id)] == [1, 3]


def test_history_of_an_unknown_user_is_empty(server: ThreadedServer) -> None:
    assert history(server, "4a1ef2a4-0c59-4d6a-9a55-3c1c1c3b2f11") == []


def test_no_status_before_the_user_existed(server: ThreadedServer, ana: str) -> None:
    created = datetime.fromisoformat(history(server, ana)[0]["at"])
    at = (created - timedelta(seconds=1)).isoformat()
    assert ask(server, STATUS_AT, id=ana, at=at)["userStatusAt"] is None


def test_the_status_between_two_changes_is_the_earlier_ones(
    server: ThreadedServer, ana: str
) -> None:
    registered, deactivated, _ = history(server, ana)
    at = between(registered["at"], deactivated["at"]).isoformat()
    assert ask(server, STATUS_AT, id=ana, at=at)["userStatusAt"] == "PENDING"


def test_the_status_at_the_moment_of_a_change_is_the_new_one(
    server: ThreadedServer, ana: str
) -> None:
    _, deactivated, _ = history(server, ana)
    assert ask(server, STATUS_AT, id=ana, at=deactivated["at"])["userStatusAt"] == "DEACTIVATED"


def test_the_status_at_a_moment_in_another_offset_is_the_same(
    server: ThreadedServer, ana: str
) -> None:
    _, deactivated, reactivated = history(server, ana)
    moment = between(deactivated["at"], reactivated["at"])
    at = moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert ask(server, STATUS_AT, id=ana, at=at)["userStatusAt"] == "DEACTIVATED"


def test_a_moment_without_an_offset_is_refused(server: ThreadedServer, ana: str) -> None:
    result = server.api.post(
        STATUS_AT, {"id": ana, "at": "2030-01-01T00:00:00"}, as_=token(AUDITOR)
    )
    assert result["errors"]
    assert result.get("data") is None
    assert "offset" in result["errors"][0]["message"]


def test_the_feed_lists_the_changes_of_every_user_oldest_first(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    ana = admin.register("Ana", "Silva", "ana@acme.com")["id"]
    bruno = admin.register("Bruno", "Lima", "bruno@acme.com")["id"]
    admin.deactivate(ana)
    nodes = [edge["node"] for edge in feed(server)["edges"]]
    assert [(n["userId"], n["to"]) for n in nodes] == [
        (ana, "PENDING"),
        (bruno, "PENDING"),
        (ana, "DEACTIVATED"),
    ]


def test_the_feed_keeps_changes_from_since_and_before_until(
    server: ThreadedServer, ana: str
) -> None:
    registered, deactivated, reactivated = history(server, ana)
    since = between(registered["at"], deactivated["at"]).isoformat()
    until = between(deactivated["at"], reactivated["at"]).isoformat()
    edges = feed(server, since=since, until=until)["edges"]
    assert [edge["node"]["to"] for edge in edges] == ["DEACTIVATED"]


def test_the_feed_pages_through_every_change(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    for n in range(5):
        admin.register("User", str(n), f"user{n}@acme.com")
    whole = feed(server)["edges"]
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = feed(server, first=2, after=after)
        seen += page["edges"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert (len(whole), seen) == (5, whole)


def test_an_invalid_feed_cursor_is_bad_user_input(server: ThreadedServer) -> None:
    result = server.api.post(FEED, {"after": "bm90LWEtY3Vyc29y"}, as_=token(AUDITOR))
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_a_query_right_after_a_mutation_sees_it(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    for n in range(5):
        user_id = admin.register("User", str(n), f"user{n}@acme.com")["id"]
        admin.deactivate(user_id)
        assert history(server, user_id)[-1]["to"] == "DEACTIVATED"
        listed = server.api.data(
            "{ users(status: [DEACTIVATED]) { totalCount } }", as_=token(AUDITOR)
        )
        assert listed["users"]["totalCount"] == n + 1
