"""statusChanged over graphql-transport-ws: changes as they happen, of one user or of all."""

from __future__ import annotations

from typing import Any

from domain.application import NewUser, Saved
from domain.statuses import StatusChangeSource
from schema.subscriptions import CHANGES_PAGE
from tests.api.operations import Administrator, Toggle, go_live
from tests.support import AUDITOR, ThreadedServer, token

CHANGE = "userId from to at actor source reason version"
ONE_USER = f"subscription($id: ID) {{ statusChanged(userId: $id) {{ {CHANGE} }} }}"
EVERY_USER = f"subscription {{ statusChanged {{ {CHANGE} }} }}"
HISTORY = f"query($id: ID!) {{ userStatusHistory(userId: $id) {{ {CHANGE} }} }}"


def delivered(payload: dict[str, Any]) -> tuple[str, str, str | None]:
    change = payload["data"]["statusChanged"]
    return change["userId"], change["to"], change["reason"]


def test_a_subscription_to_one_user_delivers_only_their_changes(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    ana = admin.register("Ana", "Silva", "ana@acme.com")["id"]
    bruno = admin.register("Bruno", "Lima", "bruno@acme.com")["id"]
    toggle = Toggle(admin, ana)
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(ONE_USER, {"id": ana})
        go_live(ws, toggle)
        admin.deactivate(bruno, "bruno leaves")
        toggle("ana changes")
        payload = ws.next_payload()
    assert delivered(payload)[0::2] == (ana, "ana changes")


def test_a_subscription_to_every_user_delivers_all_changes_in_order(
    server: ThreadedServer,
) -> None:
    admin = Administrator(server.api)
    warm_up = admin.register("Warm", "Up", "warm@acme.com")["id"]
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(EVERY_USER)
        go_live(ws, Toggle(admin, warm_up))
        ana = admin.register("Ana", "Silva", "ana@acme.com")["id"]
        bruno = admin.register("Bruno", "Lima", "bruno@acme.com")["id"]
        admin.deactivate(ana, "left")
        payloads = [ws.next_payload() for _ in range(3)]
    assert [delivered(p) for p in payloads] == [
        (ana, "PENDING", None),
        (bruno, "PENDING", None),
        (ana, "DEACTIVATED", "left"),
    ]


def test_a_delivered_change_is_the_one_the_history_records(server: ThreadedServer) -> None:
    admin = Administrator(server.api, subject="carol")
    ana = admin.register("Ana", "Silva", "ana@acme.com")["id"]
    toggle = Toggle(admin, ana)
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(ONE_USER, {"id": ana})
        go_live(ws, toggle)
        toggle("checked")
        payload = ws.next_payload()
    recorded = server.api.data(HISTORY, {"id": ana}, as_=token(AUDITOR))["userStatusHistory"]
    assert payload["data"]["statusChanged"] == recorded[-1]
    assert (recorded[-1]["actor"], recorded[-1]["source"]) == ("carol", "ADMINISTRATOR")


def test_a_subscriber_behind_by_pages_of_changes_gets_every_one_in_order(
    server: ThreadedServer,
) -> None:
    """More changes at once than one read takes (CHANGES_PAGE): they come page by page."""
    admin = Administrator(server.api)
    warm_up = admin.register("Warm", "Up", "warm@acme.com")["id"]
    people = [NewUser("Bulk", str(n), f"bulk{n}@acme.com") for n in range(2 * CHANGES_PAGE + 200)]
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(EVERY_USER)
        go_live(ws, Toggle(admin, warm_up))
        # One write of them all, while the subscriber reads nothing.
        outcomes = server.app.state.services.roster.register_users(
            people, actor="admin", source=StatusChangeSource.REGISTRATION
        ).outcomes
        payloads = [ws.next_payload() for _ in people]
    registered = [str(o.id) for o in outcomes if isinstance(o, Saved)]
    assert [delivered(p)[:2] for p in payloads] == [(i, "PENDING") for i in registered]
