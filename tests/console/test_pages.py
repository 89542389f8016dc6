"""The console's Imports and Audit screens, and the invitation page (/accept) in the
console's look: seeded through the API, checked in Chromium against what the API holds."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from domain.users import User
from settings import Settings
from tests.api.importing import Importer, csv_file, people
from tests.api.operations import Administrator, Toggle, event_count
from tests.console.browser import Visit, assert_accessible, visit
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

#: The browser's time zone in these tests (tests/console/browser.py).
LISBON = ZoneInfo("Europe/Lisbon")

FEED = """
query($since: DateTime, $until: DateTime, $first: Int, $after: String) {
  statusChanges(since: $since, until: $until, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { userId from to at actor source reason } }
  }
}"""


def feed(server: ThreadedServer, **variables: Any) -> list[dict[str, Any]]:
    """The status changes the API gives an auditor, oldest first."""
    data = server.api.data(FEED, {"first": 500, **variables}, as_=token(AUDITOR))
    return [edge["node"] for edge in data["statusChanges"]["edges"]]


def local(at: str | datetime) -> datetime:
    """A moment as the browser in Lisbon sees it."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(LISBON)


def local_input(moment: datetime) -> str:
    """The value a datetime-local input holds for the moment, to the second, in Lisbon."""
    return local(moment).strftime("%Y-%m-%dT%H:%M:%S")


def range_in_address(page: Page) -> tuple[bool, bool]:
    """Whether the address holds a From and a To."""
    query = parse_qs(urlsplit(page.url).query)
    return "from" in query, "to" in query


def body_rows(table: Locator) -> Locator:
    return table.locator("tbody tr")


# ---------------------------------------------------------------- Imports


def test_imports_lists_the_batches_newest_first_with_status_counts_and_links(
    console: Visit, server: ThreadedServer
) -> None:
    importer = Importer(server.api, as_=token(ADMIN, subject="importer@example.com"))
    staff = importer.started(people(3), filename="staff.csv")
    staff = importer.committed(staff["id"])
    contractors = importer.started(
        csv_file(
            "Rita,Lopes,rita.lopes@acme.com,",
            "Rui,Costa,rui.costa@acme.com,",
            "Bad,Email,not-an-email,",
        ),
        filename="contractors.csv",
    )
    assert (staff["status"], contractors["status"]) == ("COMPLETED", "IN_REVIEW")
    assert contractors["progress"]["invalid"] == 1

    page = console.sign_in(ADMIN, path="/imports")
    expect(page.get_by_role("heading", name="Imports", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Import batches, newest first")
    rows = body_rows(table)
    expect(rows).to_have_count(2)
    headers = table.get_by_role("columnheader").all_inner_texts()
    assert headers == ["File", "Uploaded", "Uploaded by", "Status", "Rows"]

    newest, oldest = rows.nth(0), rows.nth(1)
    expect(newest.get_by_role("link")).to_have_text("contractors.csv")
    expect(newest).to_contain_text("importer@example.com")
    expect(newest.locator(".badge")).to_have_text("In review")
    expect(newest).to_contain_text("3 rows")
    expect(newest).to_contain_text("2 valid")
    expect(newest).to_contain_text("1 invalid")
    expect(newest).not_to_contain_text("created")

    expect(oldest.get_by_role("link")).to_have_text("staff.csv")
    expect(oldest.locator(".badge")).to_have_text("Completed")
    for count in ("3 rows", "3 valid", "3 created", "0 failed"):
        expect(oldest).to_contain_text(count)

    # When it was uploaded, in the browser's time zone (Lisbon) and locale (en-GB).
    uploaded = oldest.locator("time")
    expect(uploaded).to_have_attribute("datetime", staff["createdAt"])
    expect(uploaded).to_contain_text(local(staff["createdAt"]).strftime("%H:%M"))
    expect(uploaded).to_contain_text(str(local(staff["createdAt"]).year))
    assert_accessible(page, "Imports with batches")

    expect(page.get_by_role("link", name="Import Users")).to_have_attribute("href", "/imports/new")
    oldest.get_by_role("link", name="staff.csv").click()
    expect(page).to_have_url(re.compile(f"/imports/{staff['id']}$"))
    page.go_back()
    body_rows(table).nth(0).get_by_role("link", name="contractors.csv").click()
    expect(page).to_have_url(re.compile(f"/imports/{contractors['id']}$"))


def test_imports_without_batches_point_to_import_users(console: Visit) -> None:
    page = console.sign_in(VIEWER, path="/imports")
    empty = page.locator(".empty")
    expect(empty).to_contain_text("No imports yet.")
    assert_accessible(page, "Imports, empty")
    empty.get_by_role("link", name="Import Users").click()
    expect(page).to_have_url(re.compile("/imports/new$"))


def test_a_viewer_sees_imports_not_audit_and_an_auditor_the_reverse(console: Visit) -> None:
    viewer = console.sign_in(VIEWER, path="/imports")
    nav = viewer.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Imports")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    expect(viewer.get_by_role("heading", name="Imports", level=1)).to_be_visible()
    viewer.goto("/audit")
    expect(viewer.get_by_role("heading", name="Not available to your profile")).to_be_visible()
    viewer.close()

    auditor = console.sign_in(AUDITOR, path="/audit")
    nav = auditor.get_by_role("navigation", name="Console")
    expect(auditor.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    expect(nav.get_by_role("link", name="Imports")).to_have_count(0)
    auditor.goto("/imports")
    expect(auditor.get_by_role("heading", name="Not available to your profile")).to_be_visible()
    expect(auditor.get_by_role("link", name="Import Users")).to_have_count(0)


# ---------------------------------------------------------------- Audit


def test_the_audit_feed_lists_changes_with_who_when_source_and_reason(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api, subject="admin@example.com")
    ana = admin.register("Ana", "Silva", "ana.silva@acme.com")
    admin.deactivate(ana["id"], "Left the company")
    admin.reactivate(ana["id"], "Came back")
    held = feed(server)
    assert [(c["from"], c["to"], c["source"]) for c in held] == [
        (None, "PENDING", "REGISTRATION"),
        ("PENDING", "DEACTIVATED", "ADMINISTRATOR"),
        ("DEACTIVATED", "PENDING", "ADMINISTRATOR"),
    ]

    page = console.sign_in(AUDITOR, subject="audrey@example.com", path="/audit")
    table = page.get_by_role("table", name="Status changes, oldest first")
    rows = body_rows(table)
    expect(rows).to_have_count(3)
    headers = table.get_by_role("columnheader").all_inner_texts()
    assert headers == ["When", "User", "From → To", "Source", "Actor", "Reason"]
    for row, change in zip(rows.all(), held, strict=True):
        user = row.get_by_role("link", name="Ana Silva")
        expect(user).to_have_attribute("href", f"/users/{ana['id']}")
        expect(row).to_contain_text(ana["id"])
        expect(row.locator("time")).to_have_attribute("datetime", change["at"])
        # To the second, in Lisbon's time.
        expect(row.locator("time")).to_contain_text(local(change["at"]).strftime("%H:%M:%S"))
        expect(row.locator("td.actor")).to_have_text("admin@example.com")
    created, deactivated, reactivated = rows.all()
    expect(created).to_contain_text("New user")
    expect(created).to_contain_text("Registration")
    expect(created.locator("td.reason")).to_have_text("—")
    expect(deactivated.locator(".badge").nth(0)).to_contain_text("Pending")
    expect(deactivated.locator(".badge").nth(1)).to_contain_text("Deactivated")
    expect(deactivated).to_contain_text("Administrator")
    expect(deactivated.locator("td.reason")).to_have_text("Left the company")
    expect(reactivated.locator("td.reason")).to_have_text("Came back")
    expect(page.get_by_text("Changes 1–3, oldest first")).to_be_visible()
    assert_accessible(page, "Audit with changes")

    user = rows.nth(0).get_by_role("link", name="Ana Silva")
    user.click()
    expect(page).to_have_url(re.compile(f"/users/{ana['id']}$"))


def wait_for_the_next_second(after: datetime) -> datetime:
    """The first whole second after `after`, once the clock has passed it: changes made
    from now on are in a later second than those made before (the range is to the second)."""
    boundary = after.replace(microsecond=0) + timedelta(seconds=1)
    while datetime.now(UTC) < boundary:
        time.sleep(0.02)
    return boundary


def test_the_time_range_filters_the_feed_and_stays_in_the_address(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api)
    early = admin.register("Early", "Bird", "early@acme.com")
    admin.deactivate(early["id"], "early change")
    last_early = datetime.fromisoformat(feed(server)[-1]["at"])
    boundary = wait_for_the_next_second(last_early)
    late = admin.register("Late", "Comer", "late@acme.com")
    admin.deactivate(late["id"], "late change")
    assert len(feed(server)) == 4

    page = console.sign_in(AUDITOR, path="/audit")
    table = page.get_by_role("table", name="Status changes, oldest first")
    expect(body_rows(table)).to_have_count(4)

    # From the second after the early changes: only the late ones.
    page.get_by_label("From").fill(local_input(boundary))
    page.get_by_role("button", name="Show changes").click()
    expect(body_rows(table)).to_have_count(2)
    expect(table).to_contain_text("late change")
    expect(table).not_to_contain_text("early change")
    expect(table.get_by_role("link", name="Early Bird")).to_have_count(0)
    assert range_in_address(page) == (True, False)
    # The range is kept in the address: a reload shows the same.
    page.reload()
    expect(page.get_by_label("From")).to_have_value(local_input(boundary))
    expect(body_rows(table)).to_have_count(2)
    expect(table).to_contain_text("late change")

    # Up to the second of the last early change, that second included: only the early ones.
    page.get_by_label("From").fill("")
    page.get_by_label("To").fill(local_input(last_early))
    page.get_by_role("button", name="Show changes").click()
    expect(body_rows(table)).to_have_count(2)
    expect(table).to_contain_text("early change")
    expect(table).not_to_contain_text("late change")
    assert range_in_address(page) == (False, True)

    # A range that ends before it starts is refused, in words.
    page.get_by_label("From").fill(local_input(boundary))
    page.get_by_role("button", name="Show changes").click()
    expect(page.get_by_role("alert")).to_have_text("To must be the same as From or later.")
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")

    # Before anything happened: nothing, said so.
    page.get_by_label("From").fill("")
    page.get_by_label("To").fill(local_input(last_early - timedelta(hours=1)))
    page.get_by_role("button", name="Show changes").click()
    expect(page.get_by_text("No status changes in this range.")).to_be_visible()
    assert_accessible(page, "Audit, empty range")

    page.get_by_role("button", name="Clear range").click()
    expect(body_rows(table)).to_have_count(4)
    assert range_in_address(page) == (False, False)


def test_the_audit_feed_pages_through_the_changes(console: Visit, server: ThreadedServer) -> None:
    importer = Importer(server.api)
    batch = importer.started(people(55), filename="many.csv")
    importer.committed(batch["id"])
    held = feed(server)
    assert len(held) == 55
    assert {c["source"] for c in held} == {"IMPORT"}

    page = console.sign_in(ADMIN, path="/audit")
    table = page.get_by_role("table", name="Status changes, oldest first")
    expect(body_rows(table)).to_have_count(50)
    expect(page.get_by_text("Changes 1–50, oldest first")).to_be_visible()
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    first_user = body_rows(table).nth(0).get_by_role("link")
    expect(first_user).to_have_attribute("href", f"/users/{held[0]['userId']}")

    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Changes 51–55, oldest first")).to_be_visible()
    expect(body_rows(table)).to_have_count(5)
    expect(body_rows(table).nth(4).get_by_role("link")).to_have_attribute(
        "href", f"/users/{held[54]['userId']}"
    )
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    # Names resolved for this page too.
    expect(body_rows(table).nth(0)).to_contain_text("Person No51")

    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text("Changes 1–50, oldest first")).to_be_visible()
    expect(first_user).to_have_attribute("href", f"/users/{held[0]['userId']}")


def test_the_live_tail_shows_changes_as_they_happen(console: Visit, server: ThreadedServer) -> None:
    admin = Administrator(server.api, subject="admin@example.com")
    warm_up = admin.register("Warm", "Up", "warm.up@acme.com")["id"]
    page = console.sign_in(AUDITOR, path="/audit")
    page.evaluate("window.rosterNotReloaded = true")
    feed_table = page.get_by_role("table", name="Status changes, oldest first")
    expect(body_rows(feed_table)).to_have_count(1)

    toggle = page.get_by_role("button", name="Live tail")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    status = page.locator(".live-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Live tail on: new changes appear below as they happen.")

    # The subscription starts following the store some time after it is asked for, and
    # nothing tells the page when: change a status until one shows (tests/api go_live).
    live = page.get_by_role("table", name="New changes, newest first")
    nudge = Toggle(admin, warm_up)
    for attempt in range(1, 11):
        nudge(f"nudge {attempt}")
        try:
            expect(live).to_contain_text(f"nudge {attempt}", timeout=1_000)
            break
        except AssertionError:
            assert attempt < 10, "The live tail never showed a change."
    shown = body_rows(live).count()

    rita = admin.register("Rita", "Lopes", "rita.lopes@acme.com")
    admin.deactivate(rita["id"], "Contract ended")
    expect(body_rows(live)).to_have_count(shown + 2)
    newest = body_rows(live).nth(0)
    expect(newest.locator("td.reason")).to_have_text("Contract ended")
    expect(newest.get_by_role("link", name="Rita Lopes")).to_have_attribute(
        "href", f"/users/{rita['id']}"
    )
    expect(newest.locator(".badge").nth(1)).to_contain_text("Deactivated")
    expect(body_rows(live).nth(1)).to_contain_text("New user")
    expect(status).to_have_text(f"{shown + 2} new changes")
    assert page.evaluate("window.rosterNotReloaded") is True
    assert_accessible(page, "Audit with the live tail")

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(status).to_have_text(f"Live tail paused: {shown + 2} new changes shown.")
    admin.reactivate(rita["id"], "after the pause")
    # The feed holds it (asked again), the paused tail does not.
    assert feed(server)[-1]["reason"] == "after the pause"
    page.get_by_role("button", name="Show changes").click()
    expect(feed_table).to_contain_text("after the pause")
    expect(live).not_to_contain_text("after the pause")


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
