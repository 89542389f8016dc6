"""Erasing a person from their page in the browser: an administrator gives a reason and
types the person's email again; the page then shows the user as erased, their status
history still there, and the user list shows them without their name, email or username.
Viewers and auditors are not offered the action. Outcomes are checked through the API."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.console.browser import Visit, assert_accessible
from tests.console.test_users import admin_of, entries_of, fact, history, row_of, user_page
from tests.support import AUDITOR, VIEWER, ThreadedServer

ERASE = """
mutation($id: ID!, $reason: String!) {
  eraseUser(userId: $id, reason: $reason) {
    __typename ... on User { status } ... on Problem { code message } }
}"""
USER = "query($id: ID!) { user(id: $id) { name firstName lastName email username status } }"


def erase_dialog(page: Page) -> Locator:
    """The erase dialog, opened from the page's actions."""
    actions = page.get_by_role("region", name="Actions")
    actions.get_by_role("button", name="Erase…", exact=True).click()
    return page.get_by_role("dialog", name="Erase Ana Silva?")


def user_now(server: ThreadedServer, user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = server.api.data(USER, {"id": user_id}, as_=admin_of(server).token)[
        "user"
    ]
    return found


def test_an_administrator_erases_a_user_after_a_reason_and_their_email(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com", username="asilva")
    admin.deactivate(user["id"], reason="Left the company")
    page = user_page(console, user["id"], subject="boss@acme.com")
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button")).to_have_text(["Reactivate", "Change access", "Erase…"])

    dialog = erase_dialog(page)
    expect(dialog).to_contain_text(
        "Their name, email and username are erased everywhere for good; their status history "
        "stays, showing them as erased. This cannot be undone."
    )
    expect(dialog.get_by_label("Reason (required)")).to_be_focused()
    erase = dialog.get_by_role("button", name="Erase for good")
    expect(erase).to_be_disabled()
    assert_accessible(page, "the erase dialog")

    dialog.get_by_label("Reason (required)").fill("Asked to be forgotten")
    # Capitals do not matter, nor spaces around it.
    dialog.get_by_label("Type ana.silva@acme.com to confirm").fill(" Ana.Silva@ACME.com ")
    expect(erase).to_be_enabled()
    erase.click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(actions.get_by_role("status")).to_have_text(
        "The user was erased. Their status history remains, showing them as erased."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Erased user")
    expect(page.locator(".page-header")).to_contain_text("Erased")
    details = page.get_by_role("region", name="Details")
    expect(fact(details, "Name")).to_have_text("Erased user")
    expect(fact(details, "Access Email")).to_have_text("—")
    expect(fact(details, "Username")).to_have_text("—")
    expect(fact(details, "Status")).to_contain_text("Erased")
    expect(actions.get_by_role("button")).to_have_count(0)
    expect(actions).to_contain_text("This user was erased: no action applies to them any more.")

    # The history stays, the erasure on top.
    entries = entries_of(page)
    expect(entries).to_have_count(3)
    latest = entries.first
    expect(latest.locator(".timeline-change")).to_contain_text("Deactivated")
    expect(latest.locator(".timeline-change")).to_contain_text("to Erased")
    expect(fact(latest, "Who")).to_have_text("boss@acme.com")
    expect(fact(latest, "Source")).to_have_text("Erasure")
    expect(fact(latest, "Reason")).to_have_text("Asked to be forgotten")
    # The reason of the deactivation may have been about her: it is gone with her key.
    expect(entries.nth(1).locator(".timeline-change")).to_contain_text("to Deactivated")
    expect(fact(entries.nth(1), "Reason")).to_have_count(0)
    expect(entries.nth(2).locator(".timeline-change")).to_contain_text("Registered as Pending")
    assert_accessible(page, "an erased user's page")

    erased = user_now(server, user["id"])
    assert erased["name"].strip() == ""
    assert {key: erased[key] for key in ("firstName", "lastName", "email", "username")} == {
        "firstName": "",
        "lastName": "",
        "email": "",
        "username": "",
    }
    assert erased["status"] == "ERASED"
    change = history(server, user["id"])[-1]
    assert (change["from"], change["to"], change["actor"], change["source"], change["reason"]) == (
        "DEACTIVATED",
        "ERASED",
        "boss@acme.com",
        "ERASURE",
        "Asked to be forgotten",
    )


def test_the_user_list_shows_an_erased_user_and_filters_by_erased(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    admin.register("Bea", "Kept", "bea@acme.com", username="bea")
    user = admin.register("Ana", "Silva", "ana.silva@acme.com", username="asilva")
    erased = server.api.data(ERASE, {"id": user["id"], "reason": "Asked"}, as_=admin.token)
    assert erased["eraseUser"]["status"] == "ERASED", erased
    page = console.sign_in(VIEWER, path="/users")

    row = row_of(page, "Erased user").get_by_role("cell")
    expect(row.nth(1)).to_have_text("—")
    expect(row.nth(2)).to_have_text("—")
    expect(row.nth(4)).to_contain_text("Erased")
    expect(row_of(page, "Erased user").get_by_role("link")).to_have_attribute(
        "href", f"/users/{user['id']}"
    )

    status = page.get_by_role("group", name="Status")
    status.get_by_label("Erased", exact=True).check()
    names = page.get_by_role("table").locator("tbody tr td:first-child")
    expect(names).to_have_text(["Erased user"])
    status.get_by_label("Erased", exact=True).uncheck()
    expect(names).to_have_text(["Erased user", "Bea Kept"])
    assert_accessible(page, "the user list with an erased user")


def test_a_wrong_email_or_no_reason_keeps_erase_disabled(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    page = user_page(console, user["id"])
    dialog = erase_dialog(page)
    erase = dialog.get_by_role("button", name="Erase for good")
    confirm_email = dialog.get_by_label("Type ana.silva@acme.com to confirm")

    dialog.get_by_label("Reason (required)").fill("Asked to be forgotten")
    for wrong in ("ana.silva@acme.co", "ana.silva", "ana silva@acme.com", "Ana Silva"):
        confirm_email.fill(wrong)
        expect(erase).to_be_disabled()
    # The right email without a reason is not enough either.
    confirm_email.fill("ana.silva@acme.com")
    expect(erase).to_be_enabled()
    dialog.get_by_label("Reason (required)").fill("   ")
    expect(erase).to_be_disabled()

    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Silva")
    assert user_now(server, user["id"])["status"] == "PENDING"
    assert [change["to"] for change in history(server, user["id"])] == ["PENDING"]


def test_a_refusal_is_shown_in_the_dialog_and_the_page_catches_up(
    console: Visit, server: ThreadedServer
) -> None:
    admin = admin_of(server)
    user = admin.register("Ana", "Silva", "ana.silva@acme.com")
    page = user_page(console, user["id"])
    dialog = erase_dialog(page)
    dialog.get_by_label("Reason (required)").fill("Asked to be forgotten")
    dialog.get_by_label("Type ana.silva@acme.com to confirm").fill("ana.silva@acme.com")

    # Another administrator erases her meanwhile: a second erasure is refused, in words.
    server.api.data(ERASE, {"id": user["id"], "reason": "First"}, as_=admin.token)
    dialog.get_by_role("button", name="Erase for good").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Cannot erase a user who is ERASED")
    expect(dialog.get_by_role("alert")).not_to_contain_text("{")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erased user")
    assert [change["reason"] for change in history(server, user["id"])][-1] == "First"


def test_viewers_and_auditors_are_not_offered_erasure(
    console: Visit, server: ThreadedServer
) -> None:
    user = admin_of(server).register("Ana", "Silva", "ana.silva@acme.com")
    for profile in (VIEWER, AUDITOR):
        page = user_page(console, user["id"], profile, subject="someone@acme.com")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ana Silva")
        expect(page.get_by_role("button", name="Erase…")).to_have_count(0)
        expect(page.get_by_role("region", name="Actions")).to_have_count(0)
        page.close()
