"""Bulk actions and reverts in the browser: users ticked on the Users overview, or every
user the search and filter match, changed with a reason while the progress shows; and a
COMPLETED import reverted from its page, with the users who stayed listed. Outcomes are
checked through the API, and the screens are scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.api.bulk import batch_users, expire, history, imported
from tests.api.operations import Administrator, server_for_module
from tests.api.test_invitations import accept, token_of
from tests.console.browser import Visit, assert_accessible
from tests.support import ADMIN, VIEWER, ThreadedServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """Shared by the module: each test registers users of a word of its own."""
    with server_for_module(tmp_path_factory.mktemp("bulk-console")) as running:
        yield running


def registered(server: ThreadedServer, count: int) -> tuple[str, list[str]]:
    word = f"zq{uuid4().hex[:8]}"
    admin = Administrator(server.api)
    ids = [
        admin.register("Ana", f"{word} {n}", f"ana.{n}.{word}@acme.com")["id"] for n in range(count)
    ]
    return word, ids


def statuses(server: ThreadedServer, ids: list[str]) -> list[str]:
    admin = Administrator(server.api)
    return [admin.user(user_id)["status"] for user_id in ids]


def progress_of(page: Page) -> None:
    expect(page.get_by_role("progressbar")).to_be_visible()


def test_ticked_users_are_deactivated_with_a_reason_while_the_progress_shows(
    console: Visit, server: ThreadedServer
) -> None:
    word, ids = registered(server, 3)
    page = console.sign_in(ADMIN, path=f"/users?q={word}")
    page.get_by_role("checkbox", name=f"Select Ana {word} 0").check()
    page.get_by_role("checkbox", name=f"Select Ana {word} 2").check()
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    expect(toolbar).to_contain_text("2 users selected")
    toolbar.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog", name="Deactivate 2 users?")
    dialog.get_by_label("Reason (optional)").fill("left the company")
    assert_accessible(page, "the bulk action's dialog")
    dialog.get_by_role("button", name="Deactivate (2)").click()

    expect(page.get_by_role("status").filter(has_text="Deactivate: done")).to_have_text(
        re.compile(r"Deactivate: done · 2 changed, 0 skipped\.")
    )
    assert statuses(server, ids) == ["DEACTIVATED", "PENDING", "DEACTIVATED"]
    assert history(server.api, ids[0])[-1]["reason"] == "left the company"
    expect(page.get_by_role("checkbox", name=f"Select Ana {word} 0")).not_to_be_checked()
    assert_accessible(page, "the users with a bulk action done")


def test_every_expired_user_of_a_search_gets_a_new_invitation_at_once(
    console: Visit, server: ThreadedServer
) -> None:
    word, ids = registered(server, 3)
    expire(server, *ids[:2])
    page = console.sign_in(ADMIN, path=f"/users?q={word}&status=EXPIRED")
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    toolbar.get_by_role("checkbox", name=re.compile("All 2 users matching")).check()
    toolbar.get_by_role("button", name="Resend invitation").click()
    page.get_by_role("dialog").get_by_role("button", name="Resend invitation (2)").click()

    expect(page.get_by_role("status").filter(has_text="Resend invitation: done")).to_contain_text(
        "2 changed, 0 skipped"
    )
    assert statuses(server, ids) == ["PENDING"] * 3
    assert [len(history(server.api, user_id)) for user_id in ids] == [3, 3, 1]


def test_a_viewer_sees_no_bulk_actions(console: Visit, server: ThreadedServer) -> None:
    word, _ = registered(server, 1)
    page = console.sign_in(VIEWER, path=f"/users?q={word}")
    expect(page.get_by_role("link", name=f"Ana {word} 0")).to_be_visible()
    expect(page.get_by_role("toolbar", name="Bulk actions")).to_have_count(0)
    expect(page.get_by_role("checkbox", name=re.compile("^Select"))).to_have_count(0)


def test_a_completed_import_is_reverted_and_the_users_who_stayed_are_listed(
    console: Visit, server: ThreadedServer
) -> None:
    batch_id, users = imported(server.api, 3, f"{uuid4().hex[:8]}.example.com")
    accepted = users[0]
    accept(server.api, token_of(server, accepted["id"]))
    page = console.sign_in(ADMIN, path=f"/imports/{batch_id}")
    expect(page.get_by_role("heading", name="Import complete")).to_be_visible()
    page.get_by_role("button", name="Revert import").click()
    dialog = page.get_by_role("dialog", name="Revert this import?")
    expect(dialog.get_by_role("button", name="Revert import")).to_be_disabled()
    dialog.get_by_label("Reason (required)").fill("wrong file")
    assert_accessible(page, "the revert dialog")
    dialog.get_by_role("button", name="Revert import").click()

    expect(page.get_by_role("heading", name="Import reverted")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="This import was reverted")).to_contain_text(
        "2 users deactivated, 1 user kept"
    )
    stayed = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Status"))
    expect(stayed.get_by_role("row")).to_have_count(2)  # the header and the one who stayed
    expect(stayed).to_contain_text(accepted["email"])
    assert_accessible(page, "a reverted import")
    found = {user["email"]: user["status"] for user in batch_users(server.api, batch_id)}
    assert sorted(found.values()) == ["ACTIVE", "DEACTIVATED", "DEACTIVATED"]
    assert found[accepted["email"]] == "ACTIVE"

    viewer = console.sign_in(VIEWER, path=f"/imports/{batch_id}")
    expect(viewer.get_by_role("heading", name="Import reverted")).to_be_visible()
    expect(viewer.get_by_role("button", name="Revert import")).to_have_count(0)
