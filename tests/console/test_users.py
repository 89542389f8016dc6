"""User Management in the browser: the overview (columns, search as you type, status
filter, sorting, keyset pages, dates in the browser's locale and time zone, the empty
states) and a user's page (details, access, the status history, and the lifecycle actions
by profile). Users are seeded through the API (and legacy users through `roster
legacy-import`), and every action's outcome is checked through the API as well."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

from playwright.sync_api import Browser, Locator, Page, Request, expect

from domain.users import User
from tests.api.operations import ACCEPT, Administrator
from tests.console.browser import Visit, assert_accessible, visit
from tests.integration.legacy import Reader, Row, legacy_import, write_legacy
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer

USERS_SORTED = """
query($sort: UserSort, $first: Int, $status: [UserStatus!]) {
  users(sort: $sort, first: $first, status: $status) {
    totalCount edges { node { id name email username createdAt status } } }
}"""
HISTORY = """
query($id: ID!) { userStatusHistory(userId: $id) { from to at actor source reason } }"""
COLUMNS = ["Name", "Access Email", "Username", "Creation Date", "Status"]

#: Users of the old system, migrated with their status and creation date.
LEGACY: list[Row] = [
    ("Zoë", "Blocked", "zoe@legacy.acme.com", "zoe", "BLOCKED", "2016-02-29T23:30:00-02:00"),
    ("Dee", "Disabled", "dee@legacy.acme.com", "dee", "DISABLED", "2012-07-04T09:15:00Z"),
    ("Ada", "Active", "ada@legacy.acme.com", "ada.active", "ACTIVE", "2015-03-04"),
    ("Eve", "Expired", "eve@legacy.acme.com", "eve", "EXPIRED", "2017-11-20T18:00:00Z"),
]


# ---------------------------------------------------------------- helpers


def admin_of(server: ThreadedServer) -> Administrator:
    return Administrator(server.api, subject="ana@example.com")


def migrate(env: dict[str, str], workdir: Path, rows: list[Row]) -> None:
    """Registers legacy users as an operator does, with `roster legacy-import`."""
    path = write_legacy(workdir / f"legacy-{uuid.uuid4().hex[:8]}.csv", rows)
    done = legacy_import(env, path, "--actor", "hr-migration")
    assert done.returncode == 0, done.stdout + done.stderr


def by_email(server: ThreadedServer, email: str) -> dict[str, Any]:
    found = Reader(admin_of(server)).user(email)
    assert found is not None, email
    return found


def accept_invitation(server: ThreadedServer, user_id: str) -> None:
    """The user accepts their invitation, with the token the mailer would put in the email."""
    roster = server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    token_ = str(roster.tokens.token_for(invitation.id))
    accepted = server.api.data(ACCEPT, {"token": token_})["acceptInvitation"]
    assert accepted["status"] == "ACTIVE", accepted


def api_order(server: ThreadedServer, field: str, direction: str, first: int = 100) -> list[str]:
    variables = {"sort": {"field": field, "direction": direction}, "first": first}
    users = server.api.data(USERS_SORTED, variables, as_=admin_of(server).token)["users"]
    return [edge["node"]["name"] for edge in users["edges"]]


def history(server: ThreadedServer, user_id: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = server.api.data(
        HISTORY, {"id": user_id}, as_=admin_of(server).token
    )["userStatusHistory"]
    return changes


def users_table(page: Page) -> Locator:
    return page.get_by_role("table", name=re.compile(r"^Users, sorted by"))


def names(page: Page) -> Locator:
    """The Name cells of the table's rows, in order."""
    return users_table(page).locator("tbody tr td:first-child")


def row_of(page: Page, name: str) -> Locator:
    return (
        users_table(page)
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name=name, exact=True))
    )


def user_page(
    console: Visit, user_id: str, *profiles: Any, subject: str = "ana@example.com"
) -> Page:
    page = console.sign_in(*(profiles or (ADMIN,)), subject=subject, path=f"/users/{user_id}")
    return page


def fact(scope: Page | Locator, term: str) -> Locator:
    """The <dd> of a term in a description list (Details, Invitation, a timeline entry)."""
    page = scope if isinstance(scope, Page) else scope.page
    term_ = page.locator("dt").filter(has_text=re.compile(f"^{term}$"))
    return scope.locator("div.row").filter(has=term_).locator("dd")


def entries_of(page: Page) -> Locator:
    """The entries of the status history's timeline, newest first."""
    return page.get_by_role("list", name="Status changes, newest first").get_by_role("listitem")


def operations_sent(page: Page) -> list[dict[str, Any]]:
    """The GraphQL operations the page sends from now on, as JSON bodies."""
    sent: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            body = request.post_data
            if body and body.startswith("{"):
                sent.append(json.loads(body))

    page.on("request", record)
    return sent


def named(sent: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
    return [
        body
        for body in sent
        if f"query {operation}(" in body["query"] or f"query {operation} " in body["query"]
    ]


# ---------------------------------------------------------------- the overview


def test_the_overview_shows_each_user_in_the_columns_of_the_help_article(
    console: Visit, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin = admin_of(server)
    created = admin.register("José", "Pérez", "jose.perez@acme.com", username="jperez")
    migrate(env, tmp_path, LEGACY[:1])
    page = console.sign_in(ADMIN, path="/users")

    expect(page.get_by_role("heading", level=1)).to_have_text("User Management")
    header = page.locator(".page-header")
    expect(header.get_by_role("link", name="Import Users")).to_have_attribute(
        "href", "/imports/new"
    )
    table = users_table(page)
    expect(table.get_by_role("columnheader")).to_have_text(COLUMNS)
    expect(page.get_by_role("status").filter(has_text="users")).to_have_text("2 users")

    # Newest first by default: the user created now, then the one migrated from 2016.
    expect(names(page)).to_have_text(["José Pérez", "Zoë Blocked"])
    jose = row_of(page, "José Pérez").get_by_role("cell")
    expect(jose.nth(1)).to_have_text("jose.perez@acme.com")
    expect(jose.nth(2)).to_have_text("jperez")
    expect(jose.nth(3).locator("time")).to_have_attribute("datetime", created["createdAt"])
    expect(jose.nth(4)).to_contain_text("Pending")
    expect(jose.nth(4).locator(".badge")).to_have_attribute(
        "title", re.compile(r"^Invited: the invitation was issued")
    )
    expect(row_of(page, "José Pérez").get_by_role("link")).to_have_attribute(
        "href", f"/users/{created['id']}"
    )

    zoe = row_of(page, "Zoë Blocked").get_by_role("cell")
    expect(zoe.nth(1)).to_have_text("zoe@legacy.acme.com")
    expect(zoe.nth(2)).to_have_text("zoe")
    # 2016-02-29T23:30-02:00 is 1 March 01:30 in Lisbon (WET, UTC+0), as en-GB writes it.
    expect(zoe.nth(3)).to_have_text("1 Mar 2016")
    expect(zoe.nth(3).locator("time")).to_have_attribute("title", "1 Mar 2016, 01:30")
    # A legacy status is marked so, and explained.
    expect(zoe.nth(4)).to_contain_text("Blocked · legacy")
    expect(zoe.nth(4).locator(".badge")).to_have_attribute(
        "title", re.compile(r"^Legacy: historical reference only.*\(legacy status\)$")
    )
    assert_accessible(page, "the User Management overview")


def test_dates_follow_the_browsers_locale_and_time_zone(
    browser: Browser, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    migrate(env, tmp_path, LEGACY[:1])  # created 2016-03-01T01:30:00Z
    with visit(browser, server.base_url, locale="en-US", timezone_id="America/New_York") as us:
        page = us.sign_in(ADMIN, path="/users")
        cell = row_of(page, "Zoë Blocked").get_by_role("cell").nth(3)
        # Still 29 February in New York (EST, UTC-5), written the American way.
        expect(cell).to_have_text("Feb 29, 2016")
        expect(cell.locator("time")).to_have_attribute(
            "title", re.compile(r"^Feb 29, 2016, 8:30\sPM$")
        )
    with visit(browser, server.base_url, locale="de-DE", timezone_id="Asia/Tokyo") as de:
        page = de.sign_in(ADMIN, path="/users")
        cell = row_of(page, "Zoë Blocked").get_by_role("cell").nth(3)
        expect(cell).to_have_text("01.03.2016")
        expect(cell.locator("time")).to_have_attribute("title", "01.03.2016, 10:30")
        expect(page.get_by_role("status").filter(has_text="user")).to_have_text("1 user")


def test_search_as_you_type_is_accent_and_case_insensitive_and_kept_in_the_address(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    admin.register("José", "Pérez", "jp@example.org", username="jpz")
    admin.register("Hans", "Müller", "hans@acme.com", username="hmueller")
    admin.register("Ana", "Lima", "ana.lima@example.org", username="alima")
    page = console.sign_in(ADMIN, path="/users")
    expect(names(page)).to_have_count(3)
    sent = operations_sent(page)

    search = page.get_by_label("Search users")
    search.press_sequentially("jose")  # no Enter: results come as one types
    expect(names(page)).to_have_text(["José Pérez"])
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 user found")
    expect(page).to_have_url(re.compile(r"/users\?q=jose$"))
    # Debounced: the keystrokes made one search, not one each.
    searches = [body["variables"]["search"] for body in named(sent, "UserList")]
    assert searches == ["jose"], searches

    for term, expected in [
        ("MULLER", ["Hans Müller"]),  # accents and capitals do not matter
        ("@acme", ["Hans Müller"]),  # part of the access email
        ("alim", ["Ana Lima"]),  # part of the username
    ]:
        search.fill(term)
        expect(names(page)).to_have_text(expected)

    # Kept in the address: a reload shows the same search, box and results.
    page.reload()
    expect(page.get_by_label("Search users")).to_have_value("alim")
    expect(names(page)).to_have_text(["Ana Lima"])

    page.get_by_label("Search users").fill("nobody-here")
    no_match = page.get_by_role("region", name="No users match")
    expect(no_match).to_contain_text("contains “nobody-here”")
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("0 users found")
    assert_accessible(page, "the overview with no users matching")
    no_match.get_by_role("button", name="Clear search and filters").click()
    expect(page.get_by_label("Search users")).to_have_value("")
    expect(names(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/users$"))


def test_the_status_filter_shows_the_chosen_statuses(
    console: Visit, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin = admin_of(server)
    pending = admin.register("Pat", "Pending", "pat@acme.com")
    gone = admin.register("Dan", "Gone", "dan@acme.com")
    admin.deactivate(gone["id"], reason="left")
    migrate(env, tmp_path, LEGACY[:2])
    page = console.sign_in(ADMIN, path="/users")
    expect(names(page)).to_have_count(4)
    status = page.get_by_role("group", name="Status")

    status.get_by_label("Deactivated").check()
    expect(names(page)).to_have_text(["Dan Gone"])
    expect(page).to_have_url(re.compile(r"status=DEACTIVATED"))
    status.get_by_label("Blocked (legacy)").check()
    expect(names(page)).to_have_text(["Dan Gone", "Zoë Blocked"])
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("2 users found")

    # The filter survives a reload, and combines with the search.
    page.reload()
    status = page.get_by_role("group", name="Status")
    expect(status.get_by_label("Deactivated")).to_be_checked()
    expect(status.get_by_label("Blocked (legacy)")).to_be_checked()
    page.get_by_label("Search users").fill("zo")
    expect(names(page)).to_have_text(["Zoë Blocked"])

    # Away to a user and back: the filter is still there.
    page.get_by_role("link", name="Zoë Blocked").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zoë Blocked")
    page.go_back()
    expect(names(page)).to_have_text(["Zoë Blocked"])
    expect(page.get_by_label("Search users")).to_have_value("zo")
    expect(status.get_by_label("Deactivated")).to_be_checked()

    page.get_by_label("Search users").fill("pat")
    expect(page.get_by_role("region", name="No users match")).to_contain_text(
        "among the Deactivated, Blocked users"
    )
    status.get_by_label("Deactivated").uncheck()
    status.get_by_label("Blocked (legacy)").uncheck()
    status.get_by_label("Pending").check()
    expect(names(page)).to_have_text(["Pat Pending"])
    assert by_email(server, "pat@acme.com")["id"] == pending["id"]


def test_each_sortable_column_sorts_as_the_api_does_both_ways(
    console: Visit, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin = admin_of(server)
    admin.register("Carla", "Dias", "e@example.org", username="alice")
    bruno = admin.register("bruno", "Alves", "A@example.org", username="eva")
    admin.register("Élodie", "Brun", "d@example.org", username="carol")
    admin.deactivate(bruno["id"])
    migrate(env, tmp_path, LEGACY)
    page = console.sign_in(ADMIN, path="/users")
    table = users_table(page)
    expect(names(page)).to_have_text(api_order(server, "CREATED_AT", "DESC"))
    expect(table.get_by_role("columnheader", name="Creation Date")).to_have_attribute(
        "aria-sort", "descending"
    )

    for label, field in [
        ("Name", "NAME"),
        ("Access Email", "EMAIL"),
        ("Username", "USERNAME"),
        ("Status", "STATUS"),
    ]:
        button = table.get_by_role("button", name=label, exact=True)
        button.click()
        header = table.get_by_role("columnheader", name=label, exact=True)
        expect(header).to_have_attribute("aria-sort", "ascending")
        ascending = api_order(server, field, "ASC")
        expect(names(page)).to_have_text(ascending)
        button.click()
        expect(header).to_have_attribute("aria-sort", "descending")
        expect(names(page)).to_have_text(api_order(server, field, "DESC"))
        # Only the sorted column says so.
        expect(table.locator("th[aria-sort]")).to_have_count(1)

    # Spot checks that the API's order is the expected one, not just echoed.
    assert api_order(server, "NAME", "ASC")[:3] == ["Ada Active", "bruno Alves", "Carla Dias"]
    # Creation Date is newest first when chosen, oldest first when chosen again.
    table.get_by_role("button", name="Creation Date").click()
    expect(names(page)).to_have_text(api_order(server, "CREATED_AT", "DESC"))
    expect(page).to_have_url(re.compile(r"/users$"))
    table.get_by_role("button", name="Creation Date").click()
    expect(names(page).first).to_have_text("Dee Disabled")  # 2012, the oldest
    expect(page).to_have_url(re.compile(r"sort=CREATED_AT&dir=ASC"))
    page.reload()
    expect(users_table(page).get_by_role("columnheader", name="Creation Date")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(names(page)).to_have_text(api_order(server, "CREATED_AT", "ASC"))


def test_keyset_pages_go_forward_and_back_with_the_total_count(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    for n in range(1, 24):
        admin.register("Person", f"No{n:02d}", f"person.{n:02d}@acme.com")
    everyone = api_order(server, "NAME", "ASC")
    assert len(everyone) == 23
    page = console.sign_in(ADMIN, path="/users?sort=NAME&dir=ASC")
    page.get_by_label("Rows per page").select_option("10")
    expect(page).to_have_url(re.compile(r"size=10"))
    pages = page.get_by_role("navigation", name="Pages")
    previous, following = (
        pages.get_by_role("button", name="Previous"),
        pages.get_by_role("button", name="Next"),
    )
    expect(page.get_by_role("status").filter(has_text="users")).to_have_text("23 users")

    expect(names(page)).to_have_text(everyone[:10])
    expect(pages).to_contain_text("Page 1 · 1–10 of 23")
    expect(previous).to_be_disabled()
    following.click()
    expect(names(page)).to_have_text(everyone[10:20])
    expect(pages).to_contain_text("Page 2 · 11–20 of 23")
    following.click()
    expect(names(page)).to_have_text(everyone[20:])
    expect(pages).to_contain_text("Page 3 · 21–23 of 23")
    expect(following).to_be_disabled()
    # Still focusable (aria-disabled, so the keyboard's place is kept), and it stays put.
    following.focus()
    page.keyboard.press("Enter")
    expect(following).to_be_focused()
    expect(pages).to_contain_text("Page 3 · 21–23 of 23")

    previous.click()
    expect(names(page)).to_have_text(everyone[10:20])
    previous.click()
    expect(names(page)).to_have_text(everyone[:10])
    expect(previous).to_be_disabled()

    # A new order starts again at the first page.
    following.click()
    expect(pages).to_contain_text("Page 2")
    users_table(page).get_by_role("button", name="Name", exact=True).click()
    expect(pages).to_contain_text("Page 1 · 1–10 of 23")
    expect(names(page)).to_have_text(list(reversed(everyone))[:10])


def test_a_search_the_server_refuses_is_said_in_words(
    console: Visit, server: ThreadedServer
) -> None:
    admin_of(server).register("Ana", "Silva", "ana.silva@acme.com")
    page = console.sign_in(ADMIN, path="/users?q=" + "a" * 201)
    expect(page.get_by_role("alert")).to_have_text("Search for at most 200 characters.")
    expect(users_table(page)).to_have_count(0)
    # The box is still there to correct it.
    page.get_by_label("Search users").fill("silva")
    expect(names(page)).to_have_text(["Ana Silva"])
    expect(page.get_by_role("alert")).to_have_count(0)


def test_an_empty_roster_points_to_import_users(console: Visit) -> None:
    page = console.sign_in(ADMIN, path="/users")
    empty = page.get_by_role("region", name="No users yet")
    expect(empty).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    assert_accessible(page, "the empty User Management overview")
    empty.get_by_role("link", name="Import Users").click()
    expect(page).to_have_url(re.compile(r"/imports/new$"))


def test_import_users_is_offered_to_admins_and_viewers_only(console: Visit) -> None:
    viewer = console.sign_in(VIEWER, path="/users")
    expect(viewer.locator(".page-header").get_by_role("link", name="Import Users")).to_be_visible()
    viewer.close()

    auditor = console.sign_in(AUDITOR, path="/users")
    empty = auditor.get_by_role("region", name="No users yet")
    expect(empty).to_contain_text("once an administrator adds them with Import Users")
    expect(auditor.get_by_role("link", name="Import Users")).to_have_count(0)
    expect(auditor.get_by_role("button", name="Import Users")).to_have_count(0)
    assert_accessible(auditor, "the empty overview for an auditor")
