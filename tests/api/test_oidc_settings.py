"""ROSTER_OIDC_ISSUER and ROSTER_OIDC_CLIENT_ID: the settings that go together, and the
server verifying the provider's tokens with the keys its discovery document names
(fetched at start-up in a thread, again while the provider is down), `iss` defaulting to
the issuer and `aud` to the client id. The provider is an HTTP server of the test."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigurationError, Settings
from tests.api.operations import error_codes
from tests.api.test_jwks import SigningKey
from tests.support import ServerProcess, ThreadedServer, free_port, serve_json, stop_serving

CLIENT_ID = "roster-console"
ME = "{ me { subject profiles } }"
OIDC = {"ROSTER_OIDC_ISSUER": "https://id.example.com/realms/acme", "ROSTER_OIDC_CLIENT_ID": "r"}


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"ROSTER_OIDC_ISSUER": "https://id.example.com"}, "ROSTER_OIDC_CLIENT_ID"),
        ({"ROSTER_OIDC_CLIENT_ID": "roster"}, "ROSTER_OIDC_ISSUER"),
    ],
)
def test_the_issuer_and_the_client_id_go_together(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^Set {missing} with "):
        Settings.from_env(given)


def test_an_issuer_without_a_client_id_stops_the_server_at_start_up(tmp_path: Path) -> None:
    env = {
        "ROSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'roster.db'}",
        "ROSTER_OIDC_ISSUER": "https://id.example.com/realms/acme",
    }
    with pytest.raises(RuntimeError, match="Set ROSTER_OIDC_CLIENT_ID with ROSTER_OIDC_ISSUER"):
        ServerProcess.launch(env, tmp_path)


@pytest.mark.parametrize(
    "issuer",
    [
        "http://id.example.com/realms/acme",
        "id.example.com",
        "https://id.example.com/realms/acme?tenant=1",
        "https://id.example.com/realms/acme#top",
    ],
)
def test_an_issuer_that_is_not_an_https_url_is_refused(issuer: str) -> None:
    with pytest.raises(ConfigurationError, match=r"ROSTER_OIDC_ISSUER=.* must be an https://"):
        Settings.from_env({**OIDC, "ROSTER_OIDC_ISSUER": issuer})


def test_an_issuer_over_plain_http_is_allowed_on_localhost() -> None:
    settings = Settings.from_env({**OIDC, "ROSTER_OIDC_ISSUER": "http://localhost:8080/"})
    assert settings.oidc_issuer == "http://localhost:8080"


def test_an_issuer_with_a_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="Unset ROSTER_JWT_SECRET with ROSTER_OIDC_ISSUER"):
        Settings.from_env({**OIDC, "ROSTER_JWT_SECRET": "s" * 48})


def test_with_an_issuer_alone_the_keys_are_discovered_and_iss_and_aud_default() -> None:
    settings = Settings.from_env(OIDC)
    assert settings.discovers_keys
    assert settings.token_issuer == "https://id.example.com/realms/acme"
    assert settings.token_audience == "r"


def test_the_issuer_and_audience_settings_win_over_the_defaults() -> None:
    settings = Settings.from_env(
        {
            **OIDC,
            "ROSTER_JWT_ISSUER": "https://login.example.com/acme/v2.0",
            "ROSTER_JWT_AUDIENCE": "api://roster",
        }
    )
    assert settings.token_issuer == "https://login.example.com/acme/v2.0"
    assert settings.token_audience == "api://roster"


def test_a_configured_jwks_url_is_used_instead_of_discovery() -> None:
    # No ROSTER_JWT_ISSUER / ROSTER_JWT_AUDIENCE needed: they default as well.
    settings = Settings.from_env(
        {**OIDC, "ROSTER_JWT_JWKS_URL": "https://id.example.com/realms/acme/certs"}
    )
    assert not settings.discovers_keys
    assert (settings.token_issuer, settings.token_audience) == (OIDC["ROSTER_OIDC_ISSUER"], "r")


def test_the_local_secret_is_not_read_with_an_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "jwt.secret").write_text("s" * 48)

    assert Settings.from_env({}).jwt_secret == "s" * 48
    assert Settings.from_env(OIDC).jwt_secret is None


def test_without_a_secret_invitations_need_their_own() -> None:
    with pytest.raises(ConfigurationError, match=r"Set ROSTER_INVITATION_SECRET .*ROSTER_OIDC"):
        Settings.from_env(OIDC).invitation_key()


# ---------------------------------------------------------------- discovery


@dataclass
class ProviderHost:
    """The provider's discovery document and keys over HTTP, on a port it keeps across a
    stop and a start."""

    key: SigningKey = field(default_factory=lambda: SigningKey("key-1", "RS256"))
    port: int = field(default_factory=free_port)
    document: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/acme"

    def __post_init__(self) -> None:
        self.document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/certs",
        }

    def token(self, **claims: Any) -> str:
        return self.key.token(
            **{"sub": "ana", "iss": self.issuer, "aud": CLIENT_ID, "profiles": None, **claims}
        )

    def start(self) -> None:
        self._server = serve_json(self.port, self._answer)

    def _answer(self, path: str) -> dict[str, Any] | None:
        self.asked.append(path)
        if path == "/realms/acme/.well-known/openid-configuration":
            return self.document
        if path == "/realms/acme/certs":
            return {"keys": [self.key.jwk()]}
        return None

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server)
            self._server = None


@pytest.fixture
def host() -> Iterator[ProviderHost]:
    running = ProviderHost()
    running.start()
    yield running
    running.stop()


def provider_settings(settings: Settings, host: ProviderHost, **more: Any) -> Settings:
    return replace(
        settings,
        jwt_secret=None,
        oidc_issuer=host.issuer,
        oidc_client_id=CLIENT_ID,
        jwt_profiles_claim="roles",
        invitation_secret="i" * 32,
        **more,
    )


def me(server: ThreadedServer, token: str) -> dict[str, Any]:
    data: dict[str, Any] = server.api.data(ME, as_=token)["me"]
    return data


def refusal(server: ThreadedServer, token: str) -> str:
    [error] = server.api.post(ME, as_=token)["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    text: str = error["message"]
    return text


def accepted_soon(server: ThreadedServer, token: str) -> dict[str, Any]:
    """`me` once the server has the provider's keys: it tries again after 1 s, 2 s, 4 s, …"""
    deadline = time.monotonic() + 30
    while error_codes(server.api.post(ME, as_=token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return me(server, token)


def test_the_keys_are_found_through_the_discovery_document_at_start_up(
    settings: Settings, host: ProviderHost
) -> None:
    with ThreadedServer(provider_settings(settings, host)) as server:
        # Read before the server answered anything: at start-up.
        assert host.asked == ["/realms/acme/.well-known/openid-configuration", "/realms/acme/certs"]
        token = host.token(roles=["AUDITOR", "payroll-approver"])

        assert me(server, token) == {"subject": "ana", "profiles": ["AUDITOR"]}
    # The document once; afterwards only the keys are fetched again.
    assert host.asked.count("/realms/acme/.well-known/openid-configuration") == 1


def test_the_issuer_with_a_trailing_slash_is_the_same_issuer(
    settings: Settings, host: ProviderHost
) -> None:
    with ThreadedServer(provider_settings(settings, host)) as server:
        assert me(server, host.token(iss=host.issuer + "/"))["subject"] == "ana"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "billing"},  # issued for another client of the provider
        {"iss": "https://id.example.com/realms/other"},
        {"iss": "http://127.0.0.1/realms/acme"},
    ],
    ids=["another-client", "another-issuer", "another-port"],
)
def test_a_token_for_another_client_or_from_another_issuer_is_refused(
    settings: Settings, host: ProviderHost, claims: dict[str, str]
) -> None:
    with ThreadedServer(provider_settings(settings, host)) as server:
        assert error_codes(server.api.post(ME, as_=host.token(**claims))) == ["UNAUTHENTICATED"]


def test_the_audience_setting_wins_over_the_client_id(
    settings: Settings, host: ProviderHost
) -> None:
    custom = provider_settings(settings, host, jwt_audience="api://roster")
    with ThreadedServer(custom) as server:
        assert "Audience doesn't match" in refusal(server, host.token())
        assert me(server, host.token(aud="api://roster"))["subject"] == "ana"


def test_the_server_starts_while_the_provider_is_down_and_discovers_when_it_is_up(
    settings: Settings, host: ProviderHost
) -> None:
    host.stop()
    with ThreadedServer(provider_settings(settings, host)) as server:
        assert "could not be fetched" in refusal(server, host.token())
        host.start()

        assert accepted_soon(server, host.token())["subject"] == "ana"


def test_keys_at_a_plain_http_address_elsewhere_are_not_used(
    settings: Settings, host: ProviderHost, caplog: pytest.LogCaptureFixture
) -> None:
    host.document["jwks_uri"] = "http://keys.example.com/realms/acme/certs"
    with (
        caplog.at_level(logging.WARNING, "roster.tokens"),
        ThreadedServer(provider_settings(settings, host)) as server,
    ):
        assert "could not be fetched" in refusal(server, host.token())
    assert "/realms/acme/certs" not in host.asked
    assert "jwks_uri 'http://keys.example.com/realms/acme/certs', which is not https" in caplog.text


def test_a_document_without_keys_is_logged_and_tried_again(
    settings: Settings, host: ProviderHost, caplog: pytest.LogCaptureFixture
) -> None:
    del host.document["jwks_uri"]
    with (
        caplog.at_level(logging.WARNING, "roster.tokens"),
        ThreadedServer(provider_settings(settings, host)) as server,
    ):
        assert "could not be fetched" in refusal(server, host.token())
        host.document["jwks_uri"] = f"{host.issuer}/certs"

        assert accepted_soon(server, host.token())["subject"] == "ana"
    assert "names no jwks_uri" in caplog.text


def test_a_document_naming_another_issuer_is_logged(
    settings: Settings, host: ProviderHost, caplog: pytest.LogCaptureFixture
) -> None:
    host.document["issuer"] = "https://id.example.com/realms/acme"
    with (
        caplog.at_level(logging.WARNING, "roster.tokens"),
        ThreadedServer(provider_settings(settings, host)) as server,
    ):
        # Its keys are taken, but `iss` is still the configured issuer.
        other = host.token(iss="https://id.example.com/realms/acme")
        assert "Invalid issuer" in refusal(server, other)
        assert me(server, host.token())["subject"] == "ana"
    assert "names the issuer 'https://id.example.com/realms/acme'" in caplog.text
