"""Signing in with an identity provider: a real OpenID Connect provider (oidc-provider-mock,
over HTTP on localhost) and the console in Chromium, through the authorization code flow
with PKCE as a public client; the server verifies the provider's tokens with the keys its
discovery document names, and reads the profiles from the `roles` claim."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from settings import Settings
from tests.api.operations import CREATE_USER
from tests.console.browser import Visit, allow_hosts, assert_accessible, visit
from tests.console.oidc_provider import Provider, running_provider
from tests.support import ThreadedServer, free_port

CLIENT_ID = "roster-console"
ANA = "ana@example.com"
VIC = "vic@example.com"
NOBODY = "nobody@example.com"
#: The provider's accounts: the `roles` claim holds Roster's profiles beside other
#: services' roles, which Roster ignores.
ACCOUNTS = {
    ANA: {"name": "Ana Lima", "email": ANA, "roles": ["USER_MANAGEMENT_ADMIN", "payroll-approver"]},
    VIC: {"name": "Vic Sousa", "email": VIC, "roles": ["USER_MANAGEMENT_VIEWER"]},
    NOBODY: {"name": "No Body", "email": NOBODY, "roles": ["payroll-approver"]},
}
ME = "{ me { subject profiles } }"
USERS = "{ users { totalCount edges { node { email } } } }"


def oidc_settings(env: dict[str, str], provider: Provider, **more: str) -> Settings:
    return Settings.from_env(
        {
            **env,
            "ROSTER_JWT_SECRET": "",
            "ROSTER_INVITATION_SECRET": "invitation-secret-for-the-oidc-tests-0123",
            "ROSTER_OIDC_ISSUER": provider.issuer,
            "ROSTER_OIDC_CLIENT_ID": CLIENT_ID,
            "ROSTER_JWT_PROFILES_CLAIM": "roles",
            **more,
        }
    )


def let_provider_through(state: Visit, provider: Provider) -> None:
    allow_hosts(state, provider.host)
    # The mock's pages style themselves from a CDN: not the console's, and answered here.
    state.context.route(
        "https://cdn.jsdelivr.net/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(ACCOUNTS) as running:
        yield running


@pytest.fixture
def server(env: dict[str, str], provider: Provider) -> Iterator[ThreadedServer]:
    with ThreadedServer(oidc_settings(env, provider)) as running:
        provider.origins.add(running.base_url)
        yield running


@pytest.fixture
def console(console: Visit, provider: Provider) -> Visit:
    let_provider_through(console, provider)
    return console


def sign_in_at_provider(page: Page, provider: Provider, account: str) -> None:
    """From the console's sign-in to the provider's page, where the account is chosen."""
    page.get_by_role("button", name="Sign in with your identity provider").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert page.url.startswith(f"{provider.issuer}/oauth2/authorize?")
    page.get_by_role("button", name=account, exact=True).click()


def session_token(page: Page) -> str:
    token = page.evaluate("sessionStorage.getItem('roster.token')")
    assert isinstance(token, str)
    return token


def oidc_keys(page: Page) -> list[str]:
    keys = page.evaluate("Object.keys(sessionStorage)")
    assert isinstance(keys, list)
    return [k for k in keys if str(k).startswith("roster.oidc.user.")]


# ---------------------------------------------------------------- signing in and out


def test_signing_in_with_the_provider_lists_users_and_signs_out(
    console: Visit, provider: Provider, server: ThreadedServer
) -> None:
    page = console.page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    assert_accessible(page, "sign-in with an identity provider")

    with page.expect_request(re.compile(r"/oauth2/authorize\?")) as asked:
        sign_in_at_provider(page, provider, ANA)
    # Authorization code with PKCE, as a public client, back to the console's callback.
    query = {k: v[0] for k, v in parse_qs(urlsplit(asked.value.url).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{server.base_url}/oidc/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) >= 43
    assert set(query["scope"].split()) >= {"openid", "profile", "email"}
    assert "client_secret" not in query

    sidebar = page.get_by_role("navigation", name="Console")
    expect(sidebar).to_contain_text(ANA)
    # The code was exchanged with its PKCE verifier, without a client secret.
    assert provider.verified == 1
    # Profiles from the `roles` claim; the other service's role is not one.
    expect(sidebar.get_by_role("list", name="Profiles")).to_have_text("User management admin")
    expect(page).to_have_url(f"{server.base_url}/users")
    expect(sidebar.get_by_role("link", name="User Management")).to_have_attribute(
        "aria-current", "page"
    )
    assert_accessible(page, "the console signed in with the identity provider")

    # The console holds the provider's ID token (its access tokens are opaque): issued
    # by the provider for the console's client id, and the server takes it.
    token = session_token(page)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == provider.issuer
    assert CLIENT_ID in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert server.api.data(ME, as_=token)["me"] == {
        "subject": ANA,
        "profiles": ["USER_MANAGEMENT_ADMIN"],
    }
    person = {"firstName": "Rui", "lastName": "Costa", "email": "rui@example.com"}
    server.api.data(CREATE_USER, {"input": person}, as_=token)
    listed = server.api.data(USERS, as_=token)["users"]
    assert listed["totalCount"] == 1
    assert listed["edges"] == [{"node": {"email": "rui@example.com"}}]
    # And the console lists them, with the provider's token.
    page.reload()
    expect(page.get_by_role("heading", name="User Management")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("rui@example.com"))).to_be_visible()
    # A reload keeps the session (session storage), and the console still lists users.
    page.reload()
    expect(page.get_by_role("navigation", name="Console")).to_contain_text(ANA)
    assert oidc_keys(page)

    page.get_by_role("button", name="Sign out").click()
    # The provider ends its session too, and sends the browser back to the console.
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    ending = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert ending["post_logout_redirect_uri"] == f"{server.base_url}/"
    assert ending["id_token_hint"] == token
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(f"{server.base_url}/")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None
    assert oidc_keys(page) == []


def test_without_end_session_at_the_provider_signing_out_stays_in_the_console(
    console: Visit, provider: Provider, server: ThreadedServer
) -> None:
    provider.end_session = False
    page = console.page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/")
    sign_in_at_provider(page, provider, ANA)
    expect(page.get_by_role("navigation", name="Console")).to_contain_text(ANA)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    expect(page).to_have_url(f"{server.base_url}/")
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None
    # The provider's tokens are dropped too (once the console knows it has no end_session).
    page.wait_for_function(
        "!Object.keys(sessionStorage).some((key) => key.startsWith('roster.oidc.user.'))"
    )
    assert not [url for url in asked if "end_session" in url]


def test_signing_in_returns_to_the_screen_it_started_from(
    console: Visit, provider: Provider, server: ThreadedServer
) -> None:
    page = console.page()
    page.goto("/audit")
    sign_in_at_provider(page, provider, ANA)
    expect(page.get_by_role("navigation", name="Console")).to_contain_text(ANA)
    expect(page).to_have_url(f"{server.base_url}/audit")
    expect(
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit")
    ).to_have_attribute("aria-current", "page")


def test_a_viewer_gets_the_viewer_profile_from_the_provider(
    console: Visit, provider: Provider
) -> None:
    page = console.page()
    page.goto("/")
    sign_in_at_provider(page, provider, VIC)
    sidebar = page.get_by_role("navigation", name="Console")
    expect(sidebar.get_by_role("list", name="Profiles")).to_have_text("User management viewer")
    assert sidebar.get_by_role("link").all_inner_texts() == [
        "User Management",
        "Imports",
        "GraphiQL",
    ]


# ---------------------------------------------------------------- refused sign-ins


def test_a_sign_in_denied_at_the_provider_returns_to_sign_in_with_a_message(
    console: Visit, provider: Provider
) -> None:
    page = console.page()
    page.goto("/")
    page.get_by_role("button", name="Sign in with your identity provider").click()
    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Sign-in was cancelled or refused at your identity provider. Sign in again to go on."
    )
    assert "error=" not in page.url
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None
    assert_accessible(page, "sign-in after a denied sign-in")
    # And signing in again works.
    sign_in_at_provider(page, provider, ANA)
    expect(page.get_by_role("navigation", name="Console")).to_contain_text(ANA)


def test_an_answer_that_matches_no_sign_in_of_this_tab_is_refused(
    console: Visit, server: ThreadedServer
) -> None:
    page = console.page()
    page.goto("/oidc/callback?code=stolen-code&state=forged-state")

    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "This sign-in could not be completed: it was not started in this tab"
    )
    expect(page).to_have_url(f"{server.base_url}/")
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None


def test_an_account_without_a_roster_profile_is_told_so(console: Visit, provider: Provider) -> None:
    page = console.page()
    page.goto("/")
    sign_in_at_provider(page, provider, NOBODY)

    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        f"You signed in as {NOBODY}, but your account has no Roster profile. Ask your "
        'administrator to give you one at your identity provider (Roster reads the "roles" '
        "claim)."
    )
    assert page.evaluate("sessionStorage.getItem('roster.token')") is None
    assert oidc_keys(page) == []


def test_a_token_the_server_does_not_take_is_told_at_sign_in(
    browser: Browser, env: dict[str, str], provider: Provider
) -> None:
    # The server expects another audience than the console's client id.
    settings = oidc_settings(env, provider, ROSTER_JWT_AUDIENCE="https://roster.example.com")
    with ThreadedServer(settings) as server, visit(browser, server.base_url) as state:
        provider.origins.add(server.base_url)
        let_provider_through(state, provider)
        page = state.page()
        page.goto("/")
        sign_in_at_provider(page, provider, ANA)

        expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text(
            "Roster did not accept the sign-in from your identity provider: The token is not "
            "valid: Audience doesn't match. Ask your administrator to check how Roster is "
            "registered there."
        )


def test_a_provider_that_cannot_be_reached_is_said_at_sign_in(
    browser: Browser, env: dict[str, str]
) -> None:
    down = Provider(free_port())  # nothing listens there
    with (
        ThreadedServer(oidc_settings(env, down)) as server,
        visit(browser, server.base_url) as state,
    ):
        allow_hosts(state, down.host)
        page = state.page()
        page.goto("/")
        page.get_by_role("button", name="Sign in with your identity provider").click()

        expect(page.get_by_role("alert")).to_contain_text(
            f"Your identity provider ({down.issuer}) could not be reached"
        )
        expect(page.get_by_role("alert")).to_contain_text("sign in with a token")
        assert page.url == f"{server.base_url}/"


def test_the_console_is_told_how_to_sign_in(server: ThreadedServer, provider: Provider) -> None:
    config = server.api.http.get("/console/config.json").json()
    assert config == {
        "oidc": {
            "issuer": provider.issuer,
            "clientId": CLIENT_ID,
            "scope": "openid profile email",
            "audience": CLIENT_ID,
            "profilesClaim": "roles",
        }
    }
    policy = server.api.http.get("/").headers["content-security-policy"]
    assert f"connect-src 'self' {provider.issuer}" in policy
