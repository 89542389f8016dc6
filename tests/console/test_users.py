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
from tests.api.importing import Importer, csv_file
from tests.api.operations import ACCEPT, Administrator
from tests.console.browser import Visit, assert_accessible, visit
from tests.integration.legacy import Reader, Row, legacy_import, write_legacy
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

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
    # Debounced: the keystrokes made fewer searches than keystrokes (one, unless the
    # machine is so loaded that a keystroke comes later than the pause), the last "jose".
    searches = [body["variables"]["search"] for body in named(sent, "UserList")]
    assert searches[-1:] == ["jose"], searches
    assert len(searches) < len("jose"), searches

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


def test_the_keyboard_reaches_the_search_and_opens_a_user(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    admin.register("Ana", "Silva", "ana.silva@acme.com")
    wanted = admin.register("José", "Pérez", "jose.perez@acme.com")
    page = console.sign_in(ADMIN, path="/users")
    expect(names(page)).to_have_count(2)

    def tab_to(target: Locator, most: int = 40) -> None:
        for _ in range(most):
            page.keyboard.press("Tab")
            if target.evaluate("element => element === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {target}")

    tab_to(page.get_by_label("Search users"))
    page.keyboard.type("perez")
    link = page.get_by_role("link", name="José Pérez")
    expect(names(page)).to_have_text(["José Pérez"])
    tab_to(link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/users/{wanted['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("José Pérez")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    # The way back keeps the search.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="User Management"
    ).click()
    expect(page).to_have_url(re.compile(r"/users\?q=perez$"))
    expect(page.get_by_label("Search users")).to_have_value("perez")


# ---------------------------------------------------------------- a user's page


def test_a_users_page_shows_details_access_invitation_and_history(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    sales = admin.create_group("Sales", ["crm:write", "reports:read"])
    user = admin.register(
        "Ana", "Silva", "ana.silva@acme.com", username="asilva", groupIds=[sales["id"]]
    )
    admin.set_access(user["id"], [sales["id"]], ["tickets:write"])
    admin.deactivate(user["id"], reason="On leave until May")
    page = user_page(console, user["id"])

    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Silva")
    details = page.get_by_role("region", name="Details")
    expect(fact(details, "Access Email")).to_have_text("ana.silva@acme.com")
    expect(fact(details, "Username")).to_have_text("asilva")
    expect(fact(details, "Status")).to_contain_text("Deactivated")
    expect(fact(details, "Creation Date").locator("time")).to_have_attribute(
        "datetime", user["createdAt"]
    )
    now = admin.user(user["id"])
    expect(fact(details, "Status since").locator("time")).to_have_attribute(
        "datetime", now["statusChangedAt"]
    )

    invitation = page.get_by_role("region", name="Invitation")
    expect(fact(invitation, "Issued").locator("time")).to_have_attribute(
        "datetime", user["invitation"]["issuedAt"]
    )
    expect(fact(invitation, "Expires").locator("time")).to_have_attribute(
        "datetime", user["invitation"]["expiresAt"]
    )
    expect(fact(invitation, "Sent")).to_have_text("Not sent yet")  # mail delivery is off
    expect(fact(invitation, "Accepted")).to_have_text("Not accepted yet")

    access = page.get_by_role("region", name="Groups and permissions")
    expect(access.get_by_role("list", name="Groups")).to_contain_text("Sales")
    expect(
        access.get_by_role("list", name="Direct permissions").get_by_role("listitem")
    ).to_have_text(["tickets:write"])
    expect(
        access.get_by_role("list", name="Effective permissions").get_by_role("listitem")
    ).to_have_text(["crm:write", "reports:read", "tickets:write"])

    timeline = page.get_by_role("list", name="Status changes, newest first")
    entries = timeline.get_by_role("listitem")
    expect(entries).to_have_count(2)
    latest, first = entries.nth(0), entries.nth(1)
    expect(latest.locator(".timeline-change")).to_contain_text("Pending")
    expect(latest.locator(".timeline-change")).to_contain_text("to Deactivated")
    expect(fact(latest, "Who")).to_have_text("ana@example.com")
    expect(fact(latest, "Source")).to_have_text("Administrator")
    expect(fact(latest, "Reason")).to_have_text("On leave until May")
    recorded = history(server, user["id"])
    expect(fact(latest, "When").locator("time")).to_have_attribute("datetime", recorded[-1]["at"])
    expect(first.locator(".timeline-change")).to_contain_text("Registered as Pending")
    expect(fact(first, "Source")).to_have_text("Registration")
    assert_accessible(page, "a user's page")


def test_a_user_registered_by_an_import_links_to_its_batch(
    console: Visit, server: ThreadedServer
) -> None:
    importer = Importer(server.api)
    batch = importer.started(csv_file("Rita,Import,rita@acme.com,rita"))
    assert importer.committed(batch["id"])["status"] == "COMPLETED"
    rita = by_email(server, "rita@acme.com")
    batch_of = server.api.data(
        "query($id: ID!) { user(id: $id) { importBatchId } }",
        {"id": rita["id"]},
        as_=admin_of(server).token,
    )
    assert batch_of["user"]["importBatchId"] == batch["id"]

    page = user_page(console, rita["id"], VIEWER)
    link = page.get_by_role("region", name="Details").get_by_role(
        "link", name="Open the import batch"
    )
    expect(link).to_have_attribute("href", f"/imports/{batch['id']}")
    auditor = user_page(console, rita["id"], AUDITOR)
    # An auditor may not open batches: the batch is named, not linked.
    expect(fact(auditor.get_by_role("region", name="Details"), "Import batch")).to_have_text(
        batch["id"]
    )
    first = entries_of(auditor)
    expect(fact(first, "Source")).to_have_text("Bulk import")
    expect(fact(first, "Who")).to_have_text("importer")


def test_an_administrator_deactivates_after_confirming_with_a_reason(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    page = user_page(console, user["id"], subject="boss@acme.com")
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button")).to_have_text(
        ["Deactivate", "Resend invitation", "Change access", "Erase…"]
    )

    # Cancelling changes nothing.
    actions.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog", name="Deactivate Ana Silva?")
    expect(dialog).to_contain_text("loses access at once")
    expect(dialog.get_by_label("Reason (optional)")).to_be_focused()
    assert_accessible(page, "the deactivation dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert admin.user(user["id"])["status"] == "PENDING"

    # Esc cancels too.
    actions.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("dialog", name="Deactivate Ana Silva?")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    actions.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog", name="Deactivate Ana Silva?")
    dialog.get_by_label("Reason (optional)").fill("Left the company")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(actions.get_by_role("status")).to_have_text(
        "Ana Silva was deactivated: now Deactivated."
    )
    expect(page.locator(".page-header")).to_contain_text("Deactivated")
    expect(actions.get_by_role("button")).to_have_text(["Reactivate", "Change access", "Erase…"])
    latest = entries_of(page).first
    expect(fact(latest, "Reason")).to_have_text("Left the company")
    expect(fact(latest, "Who")).to_have_text("boss@acme.com")

    assert admin.user(user["id"])["status"] == "DEACTIVATED"
    change = history(server, user["id"])[-1]
    assert (change["from"], change["to"], change["actor"], change["source"], change["reason"]) == (
        "PENDING",
        "DEACTIVATED",
        "boss@acme.com",
        "ADMINISTRATOR",
        "Left the company",
    )


def test_reactivating_a_user_who_had_accepted_makes_them_active(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    accept_invitation(server, user["id"])
    admin.deactivate(user["id"], reason="On leave")
    page = user_page(console, user["id"])
    actions = page.get_by_role("region", name="Actions")
    actions.get_by_role("button", name="Reactivate").click()
    dialog = page.get_by_role("dialog", name="Reactivate Ana Silva?")
    expect(dialog).to_contain_text("accepted an invitation before, so they become Active again")
    dialog.get_by_label("Reason (optional)").fill("Back from leave")
    dialog.get_by_role("button", name="Reactivate").click()
    expect(actions.get_by_role("status")).to_have_text("Ana Silva was reactivated: now Active.")
    expect(actions.get_by_role("button")).to_have_text(["Deactivate", "Change access", "Erase…"])
    latest = entries_of(page).first
    expect(latest.locator(".timeline-change")).to_contain_text("to Active")
    expect(fact(latest, "Reason")).to_have_text("Back from leave")
    # Her acceptance, by herself, further down the timeline.
    accepted = entries_of(page).nth(2)
    expect(fact(accepted, "Source")).to_have_text("Invitation accepted")
    expect(fact(accepted, "Who")).to_have_text("Ana Silva (the user)")
    assert admin.user(user["id"])["status"] == "ACTIVE"
    assert history(server, user["id"])[-1]["reason"] == "Back from leave"


def test_reactivating_a_legacy_blocked_user_sends_a_new_invitation(
    console: Visit, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    migrate(env, tmp_path, LEGACY[:1])
    zoe = by_email(server, "zoe@legacy.acme.com")
    page = user_page(console, zoe["id"])
    expect(page.get_by_role("region", name="Invitation")).to_contain_text(
        "No invitation is open for this user."
    )
    first = entries_of(page)
    expect(fact(first, "Source")).to_have_text("Legacy migration")
    expect(fact(first, "Who")).to_have_text("hr-migration")
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button")).to_have_text(["Reactivate", "Change access", "Erase…"])
    actions.get_by_role("button", name="Reactivate").click()
    dialog = page.get_by_role("dialog", name="Reactivate Zoë Blocked?")
    expect(dialog).to_contain_text(
        "they become Pending, and a new invitation is mailed to zoe@legacy.acme.com"
    )
    dialog.get_by_role("button", name="Reactivate").click()
    expect(actions.get_by_role("status")).to_have_text("Zoë Blocked was reactivated: now Pending.")
    expect(
        fact(page.get_by_role("region", name="Invitation"), "Issued").locator("time")
    ).to_be_visible()
    now = admin_of(server).user(zoe["id"])
    assert now["status"] == "PENDING"
    assert now["invitation"] is not None
    assert [(c["from"], c["to"]) for c in history(server, zoe["id"])] == [
        (None, "BLOCKED"),
        ("BLOCKED", "PENDING"),
    ]


def test_resending_an_invitation_issues_a_new_one(
    console: Visit, server: ThreadedServer, env: dict[str, str], tmp_path: Path
) -> None:
    migrate(env, tmp_path, LEGACY[3:4])
    eve = by_email(server, "eve@legacy.acme.com")
    assert eve["status"] == "EXPIRED"
    page = user_page(console, eve["id"])
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button")).to_have_text(
        ["Deactivate", "Resend invitation", "Change access", "Erase…"]
    )
    actions.get_by_role("button", name="Resend invitation").click()
    dialog = page.get_by_role("dialog", name="Resend the invitation?")
    expect(dialog).to_contain_text(
        "A new invitation is mailed to eve@legacy.acme.com, and the user becomes Pending again."
    )
    dialog.get_by_role("button", name="Resend invitation").click()
    expect(actions.get_by_role("status")).to_have_text(
        "A new invitation was issued to eve@legacy.acme.com."
    )
    now = admin_of(server).user(eve["id"])
    assert now["status"] == "PENDING"
    invitation = page.get_by_role("region", name="Invitation")
    expect(fact(invitation, "Issued").locator("time")).to_have_attribute(
        "datetime", now["invitation"]["issuedAt"]
    )
    expect(page.locator(".page-header")).to_contain_text("Pending")
    latest = entries_of(page).first
    expect(latest.locator(".timeline-change")).to_contain_text("Expired")
    expect(latest.locator(".timeline-change")).to_contain_text("to Pending")
    assert [(c["from"], c["to"]) for c in history(server, eve["id"])][-1] == ("EXPIRED", "PENDING")


def test_an_administrator_changes_groups_and_permissions(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    sales = admin.create_group("Sales", ["crm:write"])
    support = admin.create_group("Support", ["tickets:write"])
    user = admin.register("Ana", "Silva", "ana.silva@acme.com", groupIds=[sales["id"]])
    admin.set_access(user["id"], [sales["id"]], ["old:perm"])
    page = user_page(console, user["id"])
    actions = page.get_by_role("region", name="Actions")
    toggle = actions.get_by_role("button", name="Change access")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    form = page.get_by_role("form", name="Change access")
    groups = form.get_by_role("group", name="Groups")
    expect(groups.get_by_role("checkbox", name=re.compile("^Sales"))).to_be_checked()
    expect(groups.get_by_role("checkbox", name=re.compile("^Support"))).not_to_be_checked()
    assert_accessible(page, "changing access")

    groups.get_by_role("checkbox", name=re.compile("^Sales")).uncheck()
    groups.get_by_role("checkbox", name=re.compile("^Support")).check()
    form.get_by_role("button", name="Remove old:perm").click()
    form.get_by_label("Add a permission").fill("reports:read")
    form.get_by_label("Add a permission").press("Enter")
    form.get_by_label("Add a permission").fill("crm:export")  # still in the box: saved too
    form.get_by_role("button", name="Save access").click()

    expect(actions.get_by_role("status")).to_have_text("The access of Ana Silva was saved.")
    expect(form).to_have_count(0)
    access = page.get_by_role("region", name="Groups and permissions")
    expect(access.get_by_role("list", name="Groups")).to_have_text("Support · tickets:write")
    expect(
        access.get_by_role("list", name="Effective permissions").get_by_role("listitem")
    ).to_have_text(["crm:export", "reports:read", "tickets:write"])
    now = admin.user(user["id"])["access"]
    assert [g["name"] for g in now["groups"]] == ["Support"]
    assert now["permissions"] == ["crm:export", "reports:read"]
    assert support["id"] in [g["id"] for g in now["groups"]]


def test_problems_are_shown_in_words(console: Visit, server: ThreadedServer) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    page = user_page(console, user["id"])
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button", name="Deactivate")).to_be_visible()

    # Another administrator deactivates her meanwhile: this page's Deactivate is stale.
    admin.deactivate(user["id"], reason="by someone else")
    actions.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog", name="Deactivate Ana Silva?")
    dialog.get_by_role("button", name="Deactivate").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_text(
        "Cannot deactivate a user who is DEACTIVATED; only users who are PENDING, ACTIVE, "
        "EXPIRED can be."
    )
    dialog.get_by_role("button", name="Cancel").click()
    # The page caught up with the server: the status and the actions that now fit.
    expect(page.locator(".page-header")).to_contain_text("Deactivated")
    expect(actions.get_by_role("button")).to_have_text(["Reactivate", "Change access", "Erase…"])

    # A permission the server refuses (InvalidInput), said in words next to the form.
    actions.get_by_role("button", name="Change access").click()
    form = page.get_by_role("form", name="Change access")
    form.get_by_label("Add a permission").fill("read reports")
    form.get_by_role("button", name="Save access").click()
    expect(form.get_by_role("alert")).to_contain_text("Permission 'read reports' is not valid")
    expect(form.get_by_role("alert")).not_to_contain_text("{")
    assert admin.user(user["id"])["access"]["permissions"] == []


def test_a_viewer_sees_the_user_but_no_actions_and_no_history(
    console: Visit, server: ThreadedServer
) -> None:
    user = admin_of(server).register("Ana", "Silva", "ana.silva@acme.com")
    page = console.page()
    sent = operations_sent(page)
    page.goto(f"/users/{user['id']}#token={token(VIEWER, subject='vic@example.com')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Silva")
    expect(page.get_by_role("region", name="Details")).to_contain_text("ana.silva@acme.com")
    expect(page.get_by_role("region", name="Actions")).to_have_count(0)
    for action in ("Deactivate", "Reactivate", "Resend invitation", "Change access", "Erase…"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    history_region = page.get_by_role("region", name="Status history")
    expect(history_region).to_have_text(
        re.compile("The status history is visible to administrators and auditors.")
    )
    expect(page.get_by_role("alert")).to_have_count(0)
    assert not named(sent, "UserStatusHistory"), "a viewer's page asked for the history"
    assert named(sent, "UserDetails")
    assert_accessible(page, "a user's page for a viewer")


def test_an_auditor_sees_the_history_but_no_actions(console: Visit, server: ThreadedServer) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    admin.deactivate(user["id"], reason="Audit me")
    page = user_page(console, user["id"], AUDITOR, subject="audrey@acme.com")
    latest = entries_of(page).first
    expect(fact(latest, "Reason")).to_have_text("Audit me")
    expect(page.get_by_role("region", name="Actions")).to_have_count(0)
    expect(page.get_by_role("button", name="Reactivate")).to_have_count(0)
    assert_accessible(page, "a user's page for an auditor")


def test_an_unknown_user_is_not_found_with_a_way_back(console: Visit) -> None:
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        page = console.sign_in(ADMIN, path=f"/users/{unknown}")
        expect(page.get_by_role("heading", level=1)).to_have_text("User not found")
        expect(page.get_by_role("main")).to_contain_text(f"No user has the id {unknown}")
        page.get_by_role("link", name="Back to User Management").click()
        expect(page).to_have_url(re.compile(r"/users$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("User Management")
        page.close()
