"""Tokens verified with a public key (RS256, ES256), and the optional issuer and audience."""

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
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from settings import Settings
from tests.support import ThreadedServer

ME = "{ me { subject } }"


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def private_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": "ana", "profiles": ["AUDITOR"], "exp": now + timedelta(minutes=5), **extra}


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]


@pytest.fixture(params=["RS256", "ES256"])
def signed_by_key(
    request: pytest.FixtureRequest, settings: Settings
) -> Iterator[tuple[Any, str, ThreadedServer]]:
    key = private_key(request.param)
    keyed = replace(
        settings, jwt_secret=None, jwt_public_key=public_pem(key), invitation_secret="i" * 32
    )
    with ThreadedServer(keyed) as running:
        yield key, request.param, running


def test_a_token_signed_with_the_private_key_is_accepted(
    signed_by_key: tuple[Any, str, ThreadedServer],
) -> None:
    key, algorithm, server = signed_by_key
    token = jwt.encode(claims(), key, algorithm=algorithm)

    assert server.api.data(ME, as_=token)["me"] == {"subject": "ana"}


def test_a_token_signed_with_another_key_is_refused(
    signed_by_key: tuple[Any, str, ThreadedServer],
) -> None:
    _, algorithm, server = signed_by_key
    token = jwt.encode(claims(), private_key(algorithm), algorithm=algorithm)

    assert codes(server.api.post(ME, as_=token)) == ["UNAUTHENTICATED"]


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    signed_by_key: tuple[Any, str, ThreadedServer],
) -> None:
    key, _, server = signed_by_key
    # The classic algorithm confusion: the public key used as an HMAC secret.
    forged = forge_hs256(public_pem(key))

    assert codes(server.api.post(ME, as_=forged)) == ["UNAUTHENTICATED"]


def forge_hs256(secret: str) -> str:
    """An admin token signed HS256 with `secret`, built by hand (PyJWT refuses PEM keys)."""

    def part(value: dict[str, Any]) -> bytes:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    header = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": "eve", "profiles": ["USER_MANAGEMENT_ADMIN"], "exp": 9999999999})
    signature = hmac.new(secret.encode(), header + b"." + body, hashlib.sha256).digest()
    return (header + b"." + body + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


@pytest.fixture
def strict_server(settings: Settings) -> Iterator[ThreadedServer]:
    checked = replace(settings, jwt_issuer="https://id.example.com", jwt_audience="roster")
    with ThreadedServer(checked) as running:
        yield running


def hs256(settings: Settings, **extra: Any) -> str:
    assert settings.jwt_secret is not None
    return jwt.encode(claims(**extra), settings.jwt_secret, algorithm="HS256")


def test_issuer_and_audience_are_accepted_when_they_match(
    strict_server: ThreadedServer, settings: Settings
) -> None:
    token = hs256(settings, iss="https://id.example.com", aud="roster")

    assert strict_server.api.data(ME, as_=token)["me"] == {"subject": "ana"}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"iss": "https://evil.example.com", "aud": "roster"},
        {"iss": "https://id.example.com", "aud": "another-app"},
        {"iss": "https://id.example.com"},
    ],
    ids=["neither", "wrong-issuer", "wrong-audience", "no-audience"],
)
def test_a_token_without_the_configured_issuer_or_audience_is_refused(
    strict_server: ThreadedServer, settings: Settings, extra: dict[str, Any]
) -> None:
    token = hs256(settings, **extra)

    assert codes(strict_server.api.post(ME, as_=token)) == ["UNAUTHENTICATED"]
