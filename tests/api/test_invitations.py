"""Invitations over HTTP: accepting one by its token, every token that is refused and why,
the /accept page that changes nothing by being opened, resending, and expiry by the
sweeper (also with two server processes sweeping one store).

The mail that carries a token is not built yet: tests derive a user's token from their
current invitation the way the mailer will.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import NewUser, Roster, Saved
from domain.invitations import InvitationTokens
from domain.statuses import StatusChangeSource
from domain.users import User
from settings import Settings
from tests.api.operations import (
    ACCEPT,
    RESEND,
    Administrator,
    Toggle,
    error_codes,
    event_count,
    go_live,
    store_for_module,
)
from tests.integration.harness import Spawn
from tests.support import AUDITOR, VIEWER, Api, ThreadedServer, token

CHANGE = "userId from to actor source reason"
HISTORY = f"query($id: ID!) {{ userStatusHistory(userId: $id) {{ {CHANGE} }} }}"
FEED = f"""
query($after: String) {{ statusChanges(first: 500, after: $after) {{
  pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {CHANGE} }} }} }} }}"""
EVERY_CHANGE = f"subscription {{ statusChanged {{ {CHANGE} }} }}"
COUNT = "query($s: String, $st: [UserStatus!]) { users(search: $s, status: $st) { totalCount } }"

NOT_VALID = "This invitation link is not valid: open the link from your invitation email"
REPLACED = "This invitation was replaced by a newer one: use the link from your most recent"
USED = "This invitation was used already: sign in to the portal instead."
EXPIRED = "This invitation has expired: ask your administrator to send a new one."
DEACTIVATED = "Your access was deactivated: ask your administrator to reactivate it."

#: Invitations that run out in 2 s, swept every second.
SHORT_TTL = {"ROSTER_INVITATION_TTL": "2s", "ROSTER_EXPIRY_SWEEP": "1s"}
#: Invitations that run out in 2 s, never swept while the tests run.
UNSWEPT = {"ROSTER_INVITATION_TTL": "2s", "ROSTER_EXPIRY_SWEEP": "1h"}


def module_server(workdir: Path, extra: dict[str, str]) -> Iterator[ThreadedServer]:
    with (
        store_for_module(workdir) as env,
        ThreadedServer(Settings.from_env({**env, **extra})) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """Seven-day invitations; every test registers its own users."""
    yield from module_server(tmp_path_factory.mktemp("invitations"), {})


@pytest.fixture(scope="module")
def sweeping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from module_server(tmp_path_factory.mktemp("sweeping"), SHORT_TTL)


@pytest.fixture(scope="module")
def unswept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from module_server(tmp_path_factory.mktemp("unswept"), UNSWEPT)


# ---------------------------------------------------------------- helpers


def someone(admin: Administrator) -> str:
    """A new PENDING user's id, with an email of their own."""
    return str(admin.register("Ana", "Silva", f"ana.{uuid4().hex[:12]}@acme.com")["id"])


def token_of(server: ThreadedServer, user_id: str) -> str:
    """The token of the user's current invitation, as the mailer derives it."""
    roster = server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    assert invitation is not None
    return str(roster.tokens.token_for(invitation.id))


def accept(api: Api, invitation_token: str) -> dict[str, Any]:
    """acceptInvitation without a bearer token, as the portal page sends it."""
    result: dict[str, Any] = api.data(ACCEPT, {"token": invitation_token})["acceptInvitation"]
    return result


def resend(api: Api, user_id: str, as_: str | None = None) -> dict[str, Any]:
    return api.post(RESEND, {"id": user_id}, as_=as_ or Administrator(api).token)


def history(api: Api, user_id: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = api.data(HISTORY, {"id": user_id}, as_=token(AUDITOR))[
        "userStatusHistory"
    ]
    return changes


def assert_refused(api: Api, invitation_token: str, message: str) -> None:
    """The token is refused as an InvalidInvitation whose message starts with `message`,
    and nothing is written."""
    before = event_count(api)
    outcome = accept(api, invitation_token)
    assert (outcome["__typename"], outcome["code"]) == ("InvalidInvitation", "INVALID_INVITATION")
    assert outcome["message"].startswith(message), outcome["message"]
    assert event_count(api) == before


def wait_for(condition: Callable[[], bool], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "Waited in vain."
        time.sleep(0.2)


def wait_for_status(admin: Administrator, user_id: str, status: str) -> None:
    wait_for(lambda: admin.user(user_id)["status"] == status)


def wait_past_expiry(user: dict[str, Any]) -> None:
    expires_at = datetime.fromisoformat(user["invitation"]["expiresAt"])
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.2)


def count(api: Api, search: str, status: str) -> int:
    variables = {"s": search, "st": [status]}
    total: int = api.data(COUNT, variables, as_=token(AUDITOR))["users"]["totalCount"]
    return total


def flipped(invitation_token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(invitation_token + "=="))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def register_in_bulk(roster: Roster, tag: str, how_many: int) -> list[str]:
    people = [NewUser("Bulk", str(n), f"bulk{n}.{tag}@acme.com") for n in range(how_many)]
    registrations = roster.register_users(
        people, actor="admin", source=StatusChangeSource.REGISTRATION
    )
    outcomes = registrations.outcomes
    assert all(isinstance(outcome, Saved) for outcome in outcomes), outcomes
    return [str(outcome.id) for outcome in outcomes if isinstance(outcome, Saved)]


# ---------------------------------------------------------------- accepting


def test_a_valid_token_makes_the_user_active(server: ThreadedServer) -> None:
    user_id = someone(Administrator(server.api))
    accepted = accept(server.api, token_of(server, user_id))
    assert (accepted["__typename"], accepted["id"], accepted["status"]) == (
        "User",
        user_id,
        "ACTIVE",
    )
    assert accepted["invitation"]["acceptedAt"] is not None
    assert accepted["invitation"]["acceptedAt"] >= accepted["invitation"]["issuedAt"]


def test_acceptance_is_in_the_history_with_the_user_as_actor(server: ThreadedServer) -> None:
    user_id = someone(Administrator(server.api))
    accept(server.api, token_of(server, user_id))
    assert history(server.api, user_id)[-1] == {
        "userId": user_id,
        "from": "PENDING",
        "to": "ACTIVE",
        "actor": user_id,
        "source": "INVITATION",
        "reason": None,
    }


def test_acceptance_is_delivered_to_status_subscribers(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    warm_up, user_id = someone(admin), someone(admin)
    with server.api.websocket(token(AUDITOR)) as ws:
        ws.subscribe(EVERY_CHANGE)
        go_live(ws, Toggle(admin, warm_up))
        accept(server.api, token_of(server, user_id))
        change = ws.next_payload()["data"]["statusChanged"]
    assert (change["userId"], change["from"], change["to"]) == (user_id, "PENDING", "ACTIVE")
    assert (change["source"], change["actor"]) == ("INVITATION", user_id)


def test_a_token_with_surrounding_spaces_is_accepted(server: ThreadedServer) -> None:
    user_id = someone(Administrator(server.api))
    accepted = accept(server.api, f"  {token_of(server, user_id)}\n")
    assert (accepted["__typename"], accepted["status"]) == ("User", "ACTIVE")


# ---------------------------------------------------------------- refused tokens


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "not-a-token", "x" * 64, "%" * 64],
    ids=["empty", "blank", "garbage", "letters", "symbols"],
)
def test_a_malformed_token_is_not_valid(server: ThreadedServer, bad: str) -> None:
    assert_refused(server.api, bad, NOT_VALID)


@pytest.mark.parametrize("index", [3, 40], ids=["in the id", "in the mac"])
def test_a_token_with_a_changed_byte_is_not_valid(server: ThreadedServer, index: int) -> None:
    user_id = someone(Administrator(server.api))
    assert_refused(server.api, flipped(token_of(server, user_id), index), NOT_VALID)
    assert Administrator(server.api).user(user_id)["status"] == "PENDING"


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:20] + "." + t[20:], lambda t: t[:20] + " " + t[20:], lambda t: t + "=="],
    ids=["a dot inside", "a space inside", "padding"],
)
def test_a_token_with_characters_added_is_not_valid(
    server: ThreadedServer, mangle: Callable[[str], str]
) -> None:
    user_id = someone(Administrator(server.api))
    invitation_token = token_of(server, user_id)
    assert_refused(server.api, mangle(invitation_token), "This invitation link is not valid")
    assert accept(server.api, invitation_token)["status"] == "ACTIVE"


def test_a_token_for_an_unknown_invitation_is_not_valid(server: ThreadedServer) -> None:
    tokens: InvitationTokens = server.app.state.services.roster.tokens
    assert_refused(server.api, tokens.token_for(uuid4()), NOT_VALID)


def test_a_10_kb_token_is_not_valid(server: ThreadedServer) -> None:
    assert_refused(server.api, "A" * 10_000, NOT_VALID)


def test_a_token_used_twice_is_used_already(server: ThreadedServer) -> None:
    user_id = someone(Administrator(server.api))
    invitation_token = token_of(server, user_id)
    assert accept(server.api, invitation_token)["__typename"] == "User"
    assert_refused(server.api, invitation_token, USED)


def test_after_a_resend_the_old_token_is_replaced_and_the_new_one_works(
    server: ThreadedServer,
) -> None:
    user_id = someone(Administrator(server.api))
    old = token_of(server, user_id)
    assert resend(server.api, user_id)["data"]["resendInvitation"]["__typename"] == "User"
    assert_refused(server.api, old, REPLACED)
    assert accept(server.api, token_of(server, user_id))["status"] == "ACTIVE"


def test_the_token_of_a_deactivated_user_says_so(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    user_id = someone(admin)
    invitation_token = token_of(server, user_id)
    admin.deactivate(user_id, reason="left")
    assert_refused(server.api, invitation_token, DEACTIVATED)


def test_after_reactivation_to_pending_only_the_new_token_works(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    user_id = someone(admin)
    old = token_of(server, user_id)
    admin.deactivate(user_id)
    assert admin.reactivate(user_id)["status"] == "PENDING"
    assert_refused(server.api, old, REPLACED)
    assert accept(server.api, token_of(server, user_id))["status"] == "ACTIVE"


def test_an_expired_token_of_a_pending_user_is_expired(unswept: ThreadedServer) -> None:
    admin = Administrator(unswept.api)
    user = admin.register("Eva", "Lopes", "eva@acme.com")
    wait_past_expiry(user)
    assert_refused(unswept.api, token_of(unswept, user["id"]), EXPIRED)
    assert admin.user(user["id"])["status"] == "PENDING"


def test_the_token_of_a_user_the_sweeper_expired_is_expired(sweeping: ThreadedServer) -> None:
    admin = Administrator(sweeping.api)
    user_id = someone(admin)
    wait_for_status(admin, user_id, "EXPIRED")
    assert_refused(sweeping.api, token_of(sweeping, user_id), EXPIRED)


# ---------------------------------------------------------------- the portal page


def test_opening_the_link_shows_the_page_and_accepts_nothing(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    user_id = someone(admin)
    invitation_token = token_of(server, user_id)
    before = event_count(server.api)
    page = server.api.http.get("/accept", params={"token": invitation_token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert invitation_token not in page.text
    assert 'src="/accept.js"' in page.text
    assert (admin.user(user_id)["status"], event_count(server.api)) == ("PENDING", before)


@pytest.mark.parametrize("path", ["/accept", "/accept.js"])
def test_the_page_and_its_script_send_a_content_security_policy(
    server: ThreadedServer, path: str
) -> None:
    response = server.api.http.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy


# ---------------------------------------------------------------- resending


def test_resending_to_a_pending_user_issues_a_new_invitation(server: ThreadedServer) -> None:
    admin = Administrator(server.api)
    user = admin.register("Rui", "Costa", f"rui.{uuid4().hex[:8]}@acme.com")
    resent = resend(server.api, user["id"])["data"]["resendInvitation"]
    assert (resent["__typename"], resent["status"]) == ("User", "PENDING")
    assert resent["invitation"]["issuedAt"] > user["invitation"]["issuedAt"]
    assert resent["invitation"]["expiresAt"] > user["invitation"]["expiresAt"]
    assert history(server.api, user["id"])[-1] == {
        "userId": user["id"],
        "from": "PENDING",
        "to": "PENDING",
        "actor": "admin",
        "source": "ADMINISTRATOR",
        "reason": None,
    }


def test_resending_to_an_expired_user_makes_them_pending(sweeping: ThreadedServer) -> None:
    admin = Administrator(sweeping.api)
    user_id = someone(admin)
    wait_for_status(admin, user_id, "EXPIRED")
    resent = resend(sweeping.api, user_id)["data"]["resendInvitation"]
    assert (resent["__typename"], resent["status"]) == ("User", "PENDING")
    assert [(c["from"], c["to"], c["source"]) for c in history(sweeping.api, user_id)][-1] == (
        "EXPIRED",
        "PENDING",
        "ADMINISTRATOR",
    )


@pytest.mark.parametrize("status", ["ACTIVE", "DEACTIVATED"])
def test_resending_to_an_active_or_deactivated_user_is_an_invalid_state(
    server: ThreadedServer, status: str
) -> None:
    admin = Administrator(server.api)
    user_id = someone(admin)
    if status == "ACTIVE":
        accept(server.api, token_of(server, user_id))
    else:
        admin.deactivate(user_id)
    before = event_count(server.api)
    outcome = resend(server.api, user_id)["data"]["resendInvitation"]
    assert (outcome["__typename"], outcome["code"]) == ("InvalidState", "INVALID_STATE")
    assert status in outcome["message"]
    assert event_count(server.api) == before


def test_resending_to_an_unknown_user_is_not_found(server: ThreadedServer) -> None:
    outcome = resend(server.api, str(uuid4()))["data"]["resendInvitation"]
    assert (outcome["__typename"], outcome["code"]) == ("NotFound", "NOT_FOUND")


def test_resending_to_a_malformed_id_is_invalid_input(server: ThreadedServer) -> None:
    outcome = resend(server.api, "ana")["data"]["resendInvitation"]
    assert (outcome["__typename"], outcome["field"]) == ("InvalidInput", "userId")


@pytest.mark.parametrize("profile", [VIEWER, AUDITOR], ids=["viewer", "auditor"])
def test_only_an_administrator_may_resend(server: ThreadedServer, profile: Any) -> None:
    user_id = someone(Administrator(server.api))
    before = event_count(server.api)
    result = resend(server.api, user_id, as_=token(profile))
    assert error_codes(result) == ["FORBIDDEN"]
    assert event_count(server.api) == before


# ---------------------------------------------------------------- expiry


def test_a_pending_user_expires_without_any_request(sweeping: ThreadedServer) -> None:
    admin = Administrator(sweeping.api)
    user_id = someone(admin)
    wait_for_status(admin, user_id, "EXPIRED")
    assert history(sweeping.api, user_id)[1:] == [
        {
            "userId": user_id,
            "from": "PENDING",
            "to": "EXPIRED",
            "actor": "system",
            "source": "EXPIRY",
            "reason": None,
        }
    ]


def test_an_active_user_is_not_expired(sweeping: ThreadedServer) -> None:
    admin = Administrator(sweeping.api)
    active, pending = someone(admin), someone(admin)
    assert accept(sweeping.api, token_of(sweeping, active))["status"] == "ACTIVE"
    wait_for_status(admin, pending, "EXPIRED")  # a sweep after both invitations ran out
    time.sleep(1.2)  # and one more
    assert admin.user(active)["status"] == "ACTIVE"
    assert [c["to"] for c in history(sweeping.api, active)] == ["PENDING", "ACTIVE"]


def test_every_one_of_many_pending_users_expires(sweeping: ThreadedServer) -> None:
    tag = uuid4().hex[:10]
    ids = register_in_bulk(sweeping.app.state.services.roster, tag, 1_200)
    wait_for(lambda: count(sweeping.api, tag, "EXPIRED") == 1_200, within=30)
    assert count(sweeping.api, tag, "PENDING") == 0
    for user_id in (ids[0], ids[-1]):
        assert [c["to"] for c in history(sweeping.api, user_id)] == ["PENDING", "EXPIRED"]


def test_two_sweeping_processes_expire_each_user_once(spawn: Spawn, env: dict[str, str]) -> None:
    first, _second = spawn.start(SHORT_TTL), spawn.start(SHORT_TTL)
    settings = Settings.from_env({**env, **SHORT_TTL})
    roster = Roster(
        settings.store.event_store_env(),
        tokens=InvitationTokens(settings.invitation_key()),
        invitation_ttl=settings.invitation_ttl,
    )
    try:
        ids = register_in_bulk(roster, "race", 600)
    finally:
        roster.close()
    wait_for(lambda: count(first.api, "race", "EXPIRED") == 600, within=30)
    time.sleep(1.5)  # two more sweeps by each process, had either more to do
    expiries = Counter(c["userId"] for c in feed(first.api) if c["to"] == "EXPIRED")
    assert expiries == Counter(ids)


def feed(api: Api) -> list[dict[str, Any]]:
    """Every status change of every user, oldest first."""
    changes: list[dict[str, Any]] = []
    after = None
    while True:
        page = api.data(FEED, {"after": after}, as_=token(AUDITOR))["statusChanges"]
        changes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return changes
        after = page["pageInfo"]["endCursor"]
