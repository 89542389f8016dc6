"""People who are registered already, in the "Import Users" wizard: their rows are
"Registered already" with the user's status and a choice of what to do, per row and for
all of them; a choice that does not fit is refused with the server's reason; the summary
counts who was updated and skipped. Every outcome is also checked through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.api.importing import csv_file
from tests.api.operations import server_for_module
from tests.console.browser import Visit, assert_accessible
from tests.console.test_import_wizard import (
    admin,
    batch_id_of,
    choose_access,
    completed,
    create_users,
    importer,
    row,
    start_review,
    to_access,
    user,
)
from tests.support import ThreadedServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("existing")) as running:
        yield running


def test_registered_people_are_shown_with_their_status_and_what_to_do_with_them(
    console: Visit, server: ThreadedServer
) -> None:
    group = admin(server).create_group("Known Sales", ["sales.read"])
    pat = admin(server).register("Pat", "Lee", "pat@known.acme.com")  # PENDING
    dee = admin(server).register("Dee", "Lee", "dee@known.acme.com")
    admin(server).deactivate(dee["id"])
    content = csv_file(
        "Pat,Lee,pat@known.acme.com,",
        "Dee,Lee,dee@known.acme.com,",
        "New,Person,new@known.acme.com,",
    )
    page = start_review(console, content)
    batch_id = batch_id_of(page)

    expect(page.get_by_role("button", name="Registered already (2)")).to_be_visible()
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()
    expect(row(page, 1)).to_contain_text("Registered already")
    expect(row(page, 1)).to_contain_text("Pending user")
    expect(row(page, 2)).to_contain_text("Deactivated user")
    pat_action = page.get_by_role("combobox", name="Action for row 1")
    expect(pat_action).to_have_value("SKIP")
    expect(pat_action.get_by_role("option")).to_have_text(
        ["Skip", "Resend invitation", "Update access"]
    )
    expect(page.get_by_role("combobox", name="Action for row 3")).to_have_count(0)
    assert_accessible(page, "the review with registered people")

    # For everyone at once: Reactivate does not fit Pat, and nothing changes.
    everyone = page.get_by_role("combobox", name="Action for every registered person")
    everyone.select_option("REACTIVATE")
    page.get_by_role("button", name="Apply to all").click()
    expect(page.get_by_role("alert")).to_contain_text("row 1")
    expect(pat_action).to_have_value("SKIP")

    everyone.select_option("UPDATE_ACCESS")
    page.get_by_role("button", name="Apply to all").click()
    expect(
        page.get_by_role("status").filter(has_text="for every registered person")
    ).to_be_visible()
    expect(pat_action).to_have_value("UPDATE_ACCESS")
    page.get_by_role("combobox", name="Action for row 2").select_option("REACTIVATE")
    expect(page.get_by_role("status").filter(has_text="Row 2: Reactivate")).to_be_visible()
    rows = {r["rowNumber"]: r for r in importer(server).row_nodes(batch_id)}
    assert [rows[n]["status"] for n in (1, 2, 3)] == ["EXISTING", "EXISTING", "VALID"]

    to_access(page)
    choose_access(page, "Assign Groups")
    page.get_by_role("checkbox", name="Known Sales").check()
    create_users(page)
    completed(page)
    summary = page.get_by_role("main")
    expect(summary).to_contain_text("2 updated as chosen and 0 left as they were")
    expect(page.get_by_role("definition").nth(0)).to_have_text("1")  # created
    expect(page.get_by_role("definition").nth(3)).to_have_text("2")  # updated
    assert_accessible(page, "the summary with registered people")

    pat_now = user(server, "pat@known.acme.com")
    dee_now = user(server, "dee@known.acme.com")
    assert pat_now is not None
    assert dee_now is not None
    assert [g["id"] for g in pat_now["access"]["groups"]] == [group["id"]]
    assert (pat_now["id"], dee_now["status"]) == (pat["id"], "PENDING")
