"""Every screen of the console, as each profile sees it: it loads from the server alone
(requests to any other host are refused by the fixture and would fail the test), shows its
heading, logs no error, and passes an axe scan with no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from domain.profiles import Profile
from tests.api.operations import CREATE_USER
from tests.console.browser import Visit, assert_accessible
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

SCREENS: list[tuple[str, Profile, str]] = [
    ("/users", ADMIN, "User Management"),
    ("/users/{user}", ADMIN, "Zoë Lefèvre"),
    ("/imports", ADMIN, "Imports"),
    ("/imports/new", ADMIN, "Import Users"),
    ("/audit", ADMIN, "Audit"),
    ("/users", VIEWER, "User Management"),
    ("/users/{user}", VIEWER, "Zoë Lefèvre"),
    ("/imports/new", VIEWER, "Import Users"),
    ("/users", AUDITOR, "User Management"),
    ("/audit", AUDITOR, "Audit"),
    ("/nowhere", ADMIN, "Page not found"),
    ("/audit", VIEWER, "Not available to your profile"),
    ("/imports", AUDITOR, "Not available to your profile"),
]


@pytest.mark.parametrize(("path", "profile", "heading"), SCREENS)
def test_each_screen_loads_from_the_server_alone_and_is_accessible(
    console: Visit, server: ThreadedServer, path: str, profile: Profile, heading: str
) -> None:
    created = server.api.data(
        CREATE_USER,
        {"input": {"firstName": "Zoë", "lastName": "Lefèvre", "email": "zoe@example.com"}},
        as_=token(ADMIN),
    )["createUser"]
    page = console.sign_in(profile, path=path.format(user=created["id"]))
    expect(page.locator("main h1")).to_contain_text(heading)
    page.wait_for_load_state("networkidle")
    assert_accessible(page, f"{path} as {profile.name}")


def test_the_sign_in_screen_and_graphiql_load_from_the_server_alone(console: Visit) -> None:
    page = console.page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    page.goto("/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    page.wait_for_load_state("networkidle")
