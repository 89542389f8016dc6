"""Signing in and the console's shell: by link, by paste, expiry, sign-out, the sidebar by
profile, GraphiQL offline, and the headers that keep scripts to the server's own."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.sync_api import expect

from domain.profiles import Profile
from tests.console.browser import Visit, assert_accessible
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token


def test_a_token_in_the_address_signs_in_and_leaves_the_address_bar(console: Visit) -> None:
    page = console.sign_in(ADMIN, subject="ana@example.com")
    expect(page).to_have_url(re.compile(r"/users$"))
    assert "token" not in page.url
    sidebar = page.get_by_role("navigation", name="Console")
    expect(sidebar.get_by_role("link", name="User Management")).to_have_attribute(
        "aria-current", "page"
    )
    expect(sidebar).to_contain_text("ana@example.com")
    expect(sidebar).to_contain_text("User management admin")
    # Kept for the tab: a reload stays signed in.
    page.reload()
    expect(page.get_by_role("navigation", name="Console")).to_contain_text("ana@example.com")
    assert_accessible(page, "the shell")


def test_the_sidebar_shows_what_the_profile_may_see(console: Visit) -> None:
    def links(page_profiles: tuple[Profile, ...]) -> list[str]:
        page = console.sign_in(*page_profiles)
        nav = page.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link", name="User Management")).to_be_visible()
        names = nav.get_by_role("link").all_inner_texts()
        page.close()
        return names

    assert links((ADMIN,)) == ["User Management", "Imports", "Audit", "GraphiQL"]
    assert links((VIEWER,)) == ["User Management", "Imports", "GraphiQL"]
    assert links((AUDITOR,)) == ["User Management", "Audit", "GraphiQL"]


def test_a_pasted_token_signs_in_and_sign_out_returns_to_sign_in(console: Visit) -> None:
    page = console.page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    assert_accessible(page, "sign-in")
    page.get_by_label("Bearer token").fill("not a token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("three parts")
    page.get_by_label("Bearer token").fill(token(VIEWER, subject="vic@example.com"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Console")).to_contain_text("vic@example.com")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None


def test_an_expired_token_returns_to_sign_in_with_a_message(console: Visit) -> None:
    page = console.page()
    page.goto(f"/#token={token(ADMIN, ttl=timedelta(seconds=-5))}")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your session has expired")


def test_a_token_expiring_while_open_returns_to_sign_in(console: Visit) -> None:
    page = console.page()
    page.goto(f"/#token={token(ADMIN, ttl=timedelta(seconds=3))}")
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("status")).to_contain_text("Your session has expired")


def test_a_token_the_server_refuses_returns_to_sign_in(console: Visit) -> None:
    page = console.page()
    forged = token(ADMIN)[:-4] + "AAAA"
    page.goto(f"/#token={forged}")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your session has expired")


def test_graphiql_runs_offline_with_the_console_token(console: Visit) -> None:
    page = console.sign_in(ADMIN)
    with page.expect_popup() as opened:
        page.get_by_role("link", name="GraphiQL").click()
    graphiql = opened.value
    expect(graphiql.locator(".graphiql-container")).to_be_visible()
    graphiql.get_by_role("button", name=re.compile("Execute query")).click()
    expect(graphiql.locator(".result-window")).to_contain_text('"totalCount": 0')
    page.close()


def test_graphiql_opened_alone_asks_for_a_token(console: Visit) -> None:
    graphiql = console.page()
    graphiql.goto("/graphql")
    graphiql.get_by_role("button", name=re.compile("Execute query")).click()
    expect(graphiql.locator(".result-window")).to_contain_text("UNAUTHENTICATED")


def test_console_pages_allow_scripts_from_the_server_only(server: ThreadedServer) -> None:
    for path in ("/", "/users", "/imports/new", "/audit", "/graphql"):
        response = httpx.get(server.base_url + path, headers={"accept": "text/html"})
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy, path
        assert "<script>" not in response.text, path
        assert not re.search(r"https?://(?!127\.0\.0\.1)", response.text), path
