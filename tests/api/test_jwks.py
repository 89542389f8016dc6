"""ROSTER_JWT_JWKS_URL: tokens verified with an identity provider's keys, fetched from a
JWKS served over real HTTP by the test. Keys are found by `kid`, rotate, are fetched
again for an unknown `kid` (at most once in a while), and stay in use while the host is
down; a fetch never holds the event loop."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from settings import Settings
from tests.api.operations import error_codes
from tests.support import ThreadedServer, free_port, serve_json, stop_serving

ME = "{ me { subject } }"
ISSUER = "https://id.example.com/realms/acme"
AUDIENCE = "roster"


@dataclass
class SigningKey:
    """One of the identity provider's key pairs, published under `kid`."""

    kid: str
    algorithm: str
    private: Any = None

    def __post_init__(self) -> None:
        if self.private is None:
            self.private = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if self.algorithm == "RS256"
                else ec.generate_private_key(ec.SECP256R1())
            )

    def jwk(self) -> dict[str, Any]:
        kind = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        public = kind.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def token(self, *, kid: str | None = None, **extra: Any) -> str:
        claims = {
            "sub": "ana",
            "profiles": ["AUDITOR"],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": datetime.now(UTC) + timedelta(minutes=5),
            **extra,
        }
        headers = {"kid": kid or self.kid}
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers=headers)


@dataclass
class JwksHost:
    """The identity provider's JWKS endpoint: an HTTP server in a thread of the test, on a
    port of its own that it keeps across a stop and a start."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    fetches: int = 0
    #: While cleared, a fetch waits (to catch the server waiting on it).
    open: threading.Event = field(default_factory=threading.Event)
    asked: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/acme/protocol/openid-connect/certs"

    def publish(self, *keys: SigningKey | dict[str, Any]) -> None:
        self.keys = [k.jwk() if isinstance(k, SigningKey) else k for k in keys]

    def start(self) -> None:
        self.open.set()
        self._server = serve_json(self.port, self._answer)

    def _answer(self, path: str) -> dict[str, Any]:
        self.fetches += 1
        self.asked.set()
        self.open.wait(30)
        return {"keys": self.keys}

    def stop(self) -> None:
        if self._server is not None:
            self.open.set()
            stop_serving(self._server)
            self._server = None


@pytest.fixture
def first() -> SigningKey:
    return SigningKey("key-2024", "RS256")


@pytest.fixture
def host(first: SigningKey) -> Iterator[JwksHost]:
    running = JwksHost()
    running.publish(first)
    running.start()
    yield running
    running.stop()


def idp_settings(settings: Settings, host: JwksHost) -> Settings:
    return replace(
        settings,
        jwt_secret=None,
        jwt_jwks_url=host.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        invitation_secret="i" * 32,
    )


@pytest.fixture
def server(settings: Settings, host: JwksHost) -> Iterator[ThreadedServer]:
    with ThreadedServer(idp_settings(settings, host)) as running:
        yield running


def codes(server: ThreadedServer, token: str) -> list[str]:
    return error_codes(server.api.post(ME, as_=token))


def message(server: ThreadedServer, token: str) -> str:
    [error] = server.api.post(ME, as_=token)["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    text: str = error["message"]
    return text


# ---------------------------------------------------------------- keys by kid


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_token_signed_with_a_published_key_is_accepted(
    settings: Settings, host: JwksHost, algorithm: str
) -> None:
    key = SigningKey(f"{algorithm}-key", algorithm)
    host.publish(key)
    with ThreadedServer(idp_settings(settings, host)) as server:
        assert server.api.data(ME, as_=key.token())["me"] == {"subject": "ana"}


def test_a_token_naming_a_published_kid_but_signed_by_another_key_is_refused(
    server: ThreadedServer, first: SigningKey
) -> None:
    forger = SigningKey(first.kid, "RS256")

    assert codes(server, forger.token()) == ["UNAUTHENTICATED"]


def test_a_token_signed_with_another_algorithm_than_its_keys_is_refused(
    server: ThreadedServer, first: SigningKey
) -> None:
    # The kid names the RSA key; the token is ES256, signed by an EC key.
    other = SigningKey("ec", "ES256")

    assert codes(server, other.token(kid=first.kid)) == ["UNAUTHENTICATED"]


def test_a_token_without_a_kid_is_checked_with_the_only_key_of_the_set(
    server: ThreadedServer, first: SigningKey
) -> None:
    # OpenID Connect Core 10.1: `kid` is required only when the set has several keys.
    claims = jwt.decode(first.token(), options={"verify_signature": False})
    token = jwt.encode(claims, first.private, algorithm="RS256")
    forged = jwt.encode(claims, SigningKey("forger", "RS256").private, algorithm="RS256")

    assert server.api.data(ME, as_=token)["me"] == {"subject": "ana"}
    assert codes(server, forged) == ["UNAUTHENTICATED"]


def test_a_token_without_a_kid_is_refused_when_the_set_has_several_keys(
    settings: Settings, host: JwksHost, first: SigningKey
) -> None:
    host.publish(first, SigningKey("key-2025", "ES256"))
    claims = jwt.decode(first.token(), options={"verify_signature": False})
    token = jwt.encode(claims, first.private, algorithm="RS256")
    with ThreadedServer(idp_settings(settings, host)) as server:
        assert "no usable 'kid'" in message(server, token)


def test_a_token_for_another_service_of_the_provider_is_refused(
    server: ThreadedServer, first: SigningKey
) -> None:
    assert codes(server, first.token(aud="billing")) == ["UNAUTHENTICATED"]


def test_only_the_public_signing_keys_of_the_set_are_used(
    settings: Settings, host: JwksHost
) -> None:
    secret = b"s" * 32
    rsa_key = SigningKey("rsa", "RS256")
    host.publish(
        {"kty": "oct", "kid": "shared", "k": jwt.utils.base64url_encode(secret).decode()},
        {"kty": "oct", "kid": "none", "alg": "none", "k": "AA"},
        {**SigningKey("enc", "RS256").jwk(), "use": "enc"},
        rsa_key,
    )
    claims = {"sub": "eve", "profiles": ["USER_MANAGEMENT_ADMIN"], "iss": ISSUER, "aud": AUDIENCE}
    exp = datetime.now(UTC) + timedelta(minutes=5)
    keyed_with_secret = jwt.encode(
        {**claims, "exp": exp}, secret, algorithm="HS256", headers={"kid": "shared"}
    )
    with ThreadedServer(idp_settings(settings, host)) as server:
        assert codes(server, keyed_with_secret) == ["UNAUTHENTICATED"]
        assert server.api.data(ME, as_=rsa_key.token())["me"] == {"subject": "ana"}


# ---------------------------------------------------------------- rotation and outages


def test_a_rotated_key_is_fetched_and_the_removed_one_refused(
    server: ThreadedServer, host: JwksHost, first: SigningKey
) -> None:
    assert server.api.data(ME, as_=first.token())["me"] == {"subject": "ana"}
    second = SigningKey("key-2025", "ES256")
    host.publish(second)  # the new key, with a new kid; the old one removed

    assert server.api.data(ME, as_=second.token())["me"] == {"subject": "ana"}
    assert "does not publish" in message(server, first.token())


def test_a_rotated_key_is_fetched_for_a_websocket_connection_init(
    server: ThreadedServer, host: JwksHost, first: SigningKey
) -> None:
    second = SigningKey("key-2026", "ES256")
    host.publish(second)

    with server.api.websocket(second.token()) as ws:  # acknowledged, or it raises
        ws.subscribe("subscription { statusChanged { to } }")


def test_tokens_with_made_up_kids_fetch_the_keys_once_in_a_while(
    server: ThreadedServer, host: JwksHost, first: SigningKey
) -> None:
    fetched_at_start = host.fetches
    for _ in range(20):
        assert codes(server, first.token(kid=uuid.uuid4().hex)) == ["UNAUTHENTICATED"]

    assert host.fetches - fetched_at_start == 1


def test_known_keys_keep_verifying_while_the_host_is_down(
    server: ThreadedServer, host: JwksHost, first: SigningKey
) -> None:
    host.stop()

    # The unknown kid makes the server try the host, which fails: it says so, and
    # keeps the keys it has.
    said = message(server, SigningKey("key-2025", "RS256").token())
    assert "could not be fetched" in said
    assert "try again shortly" in said
    assert server.api.data(ME, as_=first.token())["me"] == {"subject": "ana"}


def test_the_server_starts_while_the_host_is_down_and_takes_the_keys_when_it_is_up(
    settings: Settings, host: JwksHost, first: SigningKey
) -> None:
    host.stop()
    with ThreadedServer(idp_settings(settings, host)) as server:
        assert "could not be fetched" in message(server, first.token())
        host.start()

        deadline = time.monotonic() + 30
        while codes(server, first.token()) and time.monotonic() < deadline:
            time.sleep(0.2)  # the server tries again after 1 s, 2 s, 4 s, …

        assert server.api.data(ME, as_=first.token())["me"] == {"subject": "ana"}


def test_a_fetch_for_an_unknown_kid_does_not_hold_other_requests(
    server: ThreadedServer, host: JwksHost, first: SigningKey
) -> None:
    second = SigningKey("key-2025", "RS256")
    host.publish(first, second)
    host.open.clear()  # the host answers only when the test lets it
    host.asked.clear()
    answers: list[dict[str, Any]] = []
    waiting = threading.Thread(
        target=lambda: answers.append(server.api.post(ME, as_=second.token())), daemon=True
    )
    waiting.start()
    assert host.asked.wait(10), "the unknown kid did not make the server fetch the keys"

    # While the server waits for the host, it answers other requests.
    with httpx.Client(base_url=server.base_url, timeout=10) as other:
        response = other.post(
            "/graphql",
            json={"query": ME},
            headers={"authorization": f"Bearer {first.token()}"},
        )
    still_waiting = waiting.is_alive()
    host.open.set()
    waiting.join(10)

    assert response.json() == {"data": {"me": {"subject": "ana"}}}
    assert still_waiting
    assert answers == [{"data": {"me": {"subject": "ana"}}}]
