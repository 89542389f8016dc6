"""The invitation page (/accept) in the console's look: it changes nothing until its
button is pressed, says what is wrong with a link, keeps a strict policy, and still works
when the console is not built."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from domain.users import User
from settings import Settings
from tests.api.operations import Administrator, event_count
from tests.console.browser import Visit, assert_accessible, visit
from tests.support import ThreadedServer

# ---------------------------------------------------------------- the invitation page


def invitation_token(server: ThreadedServer, user_id: str) -> str:
    """The token of the user's current invitation, as the mailer derives it."""
    roster = server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    assert invitation is not None
    return str(roster.tokens.token_for(invitation.id))


def test_the_invitation_page_accepts_only_when_its_button_is_pressed(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api)
    ana = admin.register("Ana", "Silva", "ana.silva@acme.com")
    secret = invitation_token(server, ana["id"])
    before = event_count(server.api)

    page = console.page()
    page.goto(f"/accept#token={secret}")
    expect(page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accept$"))
    # Opening the link changed nothing.
    assert (admin.user(ana["id"])["status"], event_count(server.api)) == ("PENDING", before)
    # The console's look: its stylesheet, its card.
    card = page.locator("main.sign-in")
    expect(card).to_be_visible()
    assert card.evaluate("e => getComputedStyle(e).borderRadius") == "10px"
    assert_accessible(page, "the invitation page")

    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("status")).to_have_text("Welcome, Ana Silva: your access is active.")
    expect(page.get_by_role("button", name="Accept invitation")).to_be_hidden()
    assert admin.user(ana["id"])["status"] == "ACTIVE"
    assert_accessible(page, "the invitation page, accepted")


def test_the_invitation_page_says_what_is_wrong_with_a_link(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api)
    ana = admin.register("Ana", "Silva", "ana.silva@acme.com")
    secret = invitation_token(server, ana["id"])
    page = console.page()
    page.goto(f"/accept#token={secret[:-6]}AAAAAA")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("This invitation link is not valid")
    expect(page.get_by_role("button", name="Accept invitation")).to_be_enabled()
    assert_accessible(page, "the invitation page, refused")
    assert admin.user(ana["id"])["status"] == "PENDING"

    # Used twice: the second time says so.
    page.goto(f"/accept#token={secret}")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("status")).to_contain_text("your access is active")
    page.goto(f"/accept#token={secret}")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("This invitation was used already")

    # Without a token: nothing to press.
    page.goto("/accept")
    expect(page.get_by_role("alert")).to_contain_text("needs the link from your invitation email")
    expect(page.get_by_role("button", name="Accept invitation")).to_be_disabled()


def test_the_invitation_page_keeps_a_strict_policy(server: ThreadedServer) -> None:
    page = httpx.get(f"{server.base_url}/accept")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<style" not in page.text
    assert "<script>" not in page.text
    assert 'src="/accept.js"' in page.text
    assert 'href="/assets/' in page.text
    script = httpx.get(f"{server.base_url}/accept.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "acceptInvitation" in script.text


@pytest.fixture
def unbuilt(env: dict[str, str], tmp_path: Path) -> Iterator[ThreadedServer]:
    """A server whose console is not built."""
    settings = Settings.from_env({**env, "ROSTER_CONSOLE_DIR": str(tmp_path / "not-built")})
    with ThreadedServer(settings) as running:
        yield running


def test_without_the_console_built_the_plain_invitation_page_still_accepts(
    browser: Browser, unbuilt: ThreadedServer
) -> None:
    admin = Administrator(unbuilt.api)
    ana = admin.register("Ana", "Silva", "ana.silva@acme.com")
    with visit(browser, unbuilt.base_url) as plain:
        page: Page = plain.page()
        page.goto(f"/accept#token={invitation_token(unbuilt, ana['id'])}")
        expect(page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
        expect(page.locator("main.sign-in")).to_have_count(0)
        assert admin.user(ana["id"])["status"] == "PENDING"
        page.get_by_role("button", name="Accept invitation").click()
        welcome = "Welcome, Ana Silva: your access is active."
        expect(page.get_by_role("status")).to_have_text(welcome)
    assert admin.user(ana["id"])["status"] == "ACTIVE"
