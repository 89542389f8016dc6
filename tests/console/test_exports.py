"""Export in the browser: the overview's button downloads /users.csv with the list's
search, statuses and order, and the audit feed's downloads /status-changes.csv with its
range; the saved files hold what the API lists."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.api.operations import Administrator
from tests.console.browser import Visit
from tests.support import ADMIN, AUDITOR, ThreadedServer, token

FEED = "{ statusChanges(first: 100) { edges { node { userId to at } } } }"


def saved(page: Page, where: Any) -> tuple[str, list[dict[str, str]]]:
    """Clicks Export in `where`; the saved file's name and rows (after its BOM)."""
    with page.expect_download() as downloading:
        where.get_by_role("button", name="Export").click()
    download = downloading.value
    content = Path(download.path()).read_bytes()
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    return download.suggested_filename, rows


def test_export_on_the_overview_saves_the_users_listed_in_their_order(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api)
    for first, email in [
        ("Bea", "bea@acme.com"),
        ("=Ann", "ann@acme.com"),
        ("Cid", "cid@other.org"),
    ]:
        user = admin.register(first, "Lee", email)
        if first == "Cid":
            admin.deactivate(user["id"])
    page = console.sign_in(ADMIN, path="/users?q=acme&status=PENDING&sort=EMAIL&dir=DESC")
    expect(page.get_by_role("status").filter(has_text="2 users found")).to_be_visible()

    filename, rows = saved(page, page.get_by_role("main"))

    assert filename == "users.csv"
    # Access email Z to A, among the PENDING users at acme; the formula neutralised.
    assert [(r["first_name"], r["email"], r["status"]) for r in rows] == [
        ("Bea", "bea@acme.com", "PENDING"),
        ("'=Ann", "ann@acme.com", "PENDING"),
    ]


def test_export_on_the_audit_feed_saves_the_changes_of_the_range(
    console: Visit, server: ThreadedServer
) -> None:
    admin = Administrator(server.api)
    ana = admin.register("Ana", "Silva", "ana.silva@acme.com")
    admin.deactivate(ana["id"], "Left the company")
    changes = [
        e["node"] for e in server.api.data(FEED, as_=token(AUDITOR))["statusChanges"]["edges"]
    ]
    page = console.sign_in(AUDITOR, path="/audit")
    feed = page.get_by_role("region", name="Status changes")
    expect(feed.get_by_role("table")).to_be_visible()

    filename, rows = saved(page, feed)

    assert filename == "status-changes.csv"
    assert [(r["user_id"], r["to"], r["at"]) for r in rows] == [
        (c["userId"], c["to"], c["at"]) for c in changes
    ]
    assert rows[1]["reason"] == "Left the company"

    # A range that ends before anything happened: the file has the header only.
    page.goto("/audit?to=2000-01-01T00:00:00Z")
    expect(page.get_by_text("No status changes in this range.")).to_be_visible()
    _, rows = saved(page, page.get_by_role("region", name="Status changes"))
    assert rows == []
