"""Tokens verified with a PEM public key: the key's type decides the algorithm, and every
token the key cannot verify (another type, another key, HMAC keyed with the public key,
`alg: none`) is UNAUTHENTICATED, over GraphQL and on the error report alike. Also the
optional issuer and audience of HS256 tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from settings import Settings
from tests.api.operations import error_codes, store_for_module
from tests.support import ThreadedServer

ME = "{ me { subject } }"
ISSUER = "https://id.example.com"
AUDIENCE = "roster"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
#: The algorithm each kind of key signs with here.
KINDS = {"RS256": "RSA", "ES256": "EC P-256", "EdDSA": "Ed25519"}


def private_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": "ana",
        "profiles": ["AUDITOR"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + timedelta(minutes=5),
        **extra,
    }


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]


Keyed = tuple[PrivateKey, str, ThreadedServer]


@pytest.fixture(scope="module", params=list(KINDS))
def keyed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Keyed]:
    """A server verifying tokens with the public half of a new key of one kind."""
    key = private_key(request.param)
    with store_for_module(tmp_path_factory.mktemp("keys")) as env:
        settings = replace(
            Settings.from_env(env),
            jwt_secret=None,
            jwt_public_key=public_pem(key),
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            invitation_secret="i" * 32,
        )
        with ThreadedServer(settings) as running:
            yield key, request.param, running


def test_a_token_signed_with_the_private_key_is_accepted(keyed: Keyed) -> None:
    key, algorithm, server = keyed
    token = jwt.encode(claims(), key, algorithm=algorithm)

    assert server.api.data(ME, as_=token)["me"] == {"subject": "ana"}


def test_a_token_signed_with_another_key_of_the_same_kind_is_refused(keyed: Keyed) -> None:
    _, algorithm, server = keyed
    token = jwt.encode(claims(), private_key(algorithm), algorithm=algorithm)

    assert codes(server.api.post(ME, as_=token)) == ["UNAUTHENTICATED"]


def other_kinds(algorithm: str) -> list[str]:
    return [other for other in KINDS if other != algorithm]


def test_a_token_signed_with_a_key_of_another_kind_is_unauthenticated(keyed: Keyed) -> None:
    _, algorithm, server = keyed
    for other in other_kinds(algorithm):  # ES256 against an RSA key, and every other pair
        token = jwt.encode(claims(), private_key(other), algorithm=other)

        result = server.api.post(ME, as_=token)

        assert codes(result) == ["UNAUTHENTICATED"], (other, result)


def test_a_token_of_another_kind_gets_401_on_the_error_report(keyed: Keyed) -> None:
    _, algorithm, server = keyed
    other = other_kinds(algorithm)[0]
    token = jwt.encode(claims(), private_key(other), algorithm=other)

    response = server.api.http.get(
        "/imports/00000000-0000-4000-8000-000000000000/errors.csv",
        headers={"authorization": f"Bearer {token}"},
    )

    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_an_hs256_token_keyed_with_the_public_key_is_refused(keyed: Keyed) -> None:
    key, _, server = keyed
    # The classic algorithm confusion: the public key used as an HMAC secret.
    secret = public_pem(key).encode()
    forged = forge(
        claims(profiles=["USER_MANAGEMENT_ADMIN"]),
        lambda signing_input: hmac.new(secret, signing_input, hashlib.sha256).digest(),
        alg="HS256",
    )

    assert codes(server.api.post(ME, as_=forged)) == ["UNAUTHENTICATED"]


def test_an_unsigned_token_is_refused(keyed: Keyed) -> None:
    _, _, server = keyed
    unsigned = forge(claims(), lambda signing_input: b"", alg="none")

    assert codes(server.api.post(ME, as_=unsigned)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "extra",
    [{"iss": "https://evil.example.com"}, {"aud": "another-app"}],
    ids=["wrong-issuer", "wrong-audience"],
)
def test_a_signed_token_for_another_issuer_or_audience_is_refused(
    keyed: Keyed, extra: dict[str, Any]
) -> None:
    key, algorithm, server = keyed
    token = jwt.encode(claims(**extra), key, algorithm=algorithm)

    assert codes(server.api.post(ME, as_=token)) == ["UNAUTHENTICATED"]


def forge(body: dict[str, Any], sign: Any, *, alg: str) -> str:
    """A token built by hand (PyJWT will not sign these), signed by `sign(input)`."""

    def part(value: dict[str, Any]) -> bytes:
        raw = json.dumps(value, separators=(",", ":"), default=str).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    payload = {**body, "exp": int(body["exp"].timestamp())}
    signing_input = part({"alg": alg, "typ": "JWT"}) + b"." + part(payload)
    signature = base64.urlsafe_b64encode(sign(signing_input)).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


# ---------------------------------------------------------------- issuer and audience (HS256)


@pytest.fixture
def strict_server(settings: Settings) -> Iterator[ThreadedServer]:
    checked = replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    with ThreadedServer(checked) as running:
        yield running


def hs256(settings: Settings, **extra: Any) -> str:
    assert settings.jwt_secret is not None
    body = {k: v for k, v in claims(**extra).items() if v is not None}
    return jwt.encode(body, settings.jwt_secret, algorithm="HS256")


def test_issuer_and_audience_are_accepted_when_they_match(
    strict_server: ThreadedServer, settings: Settings
) -> None:
    token = hs256(settings)

    assert strict_server.api.data(ME, as_=token)["me"] == {"subject": "ana"}


@pytest.mark.parametrize(
    "extra",
    [
        {"iss": None, "aud": None},
        {"iss": "https://evil.example.com"},
        {"aud": "another-app"},
        {"aud": None},
    ],
    ids=["neither", "wrong-issuer", "wrong-audience", "no-audience"],
)
def test_a_token_without_the_configured_issuer_or_audience_is_refused(
    strict_server: ThreadedServer, settings: Settings, extra: dict[str, Any]
) -> None:
    token = hs256(settings, **extra)

    assert codes(strict_server.api.post(ME, as_=token)) == ["UNAUTHENTICATED"]
