"""Settings the server cannot run with are refused at start-up with a message that says
which variable and what to write instead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa, x25519

from server import create_app
from settings import ConfigurationError, Settings
from signing_keys import PublicKey
from tests.support import TEST_SECRET

BASE = {"ROSTER_JWT_SECRET": TEST_SECRET}
IDP = {"ROSTER_JWT_ISSUER": "https://id.example.com", "ROSTER_JWT_AUDIENCE": "roster"}
JWKS_URL = "https://id.example.com/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ROSTER_SMTP_URL", "mail.acme.com:25"),
        ("ROSTER_SMTP_URL", "http://mail.acme.com"),
        ("ROSTER_MAIL_RATE", "0"),
        ("ROSTER_MAIL_RATE", "fast"),
        ("ROSTER_MAX_ROWS", "-5"),
        ("ROSTER_MAX_ROWS", "16_777_216"),  # more than a row's user id can number
        ("ROSTER_MAX_UPLOAD_BYTES", "lots"),
        ("ROSTER_IMPORT_WORKER", "maybe"),
        ("ROSTER_ENCRYPT_PERSONAL_DATA", "sometimes"),
        ("ROSTER_IMPORT_LEASE", "soon"),
        ("ROSTER_EXPIRY_SWEEP", "0"),
        ("ROSTER_MAX_SUBSCRIPTIONS", "0"),
        ("ROSTER_MAX_CONCURRENT_UPLOADS", "0"),
        ("ROSTER_INVITATION_SECRET", "s" * 31),
        ("ROSTER_JWT_PROFILES_CLAIM", "realm_access..roles"),
        ("ROSTER_JWT_PROFILES_CLAIM", "my roles"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**BASE, name: value})


def test_the_mail_and_import_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "ROSTER_SMTP_URL": "smtps://bot:s3cret@mail.acme.com:465",
            "ROSTER_MAIL_RATE": "2.5",
            "ROSTER_MAX_ROWS": "1_000",
            "ROSTER_IMPORT_WORKER": "off",
            "ROSTER_IMPORT_LEASE": "2m",
            "ROSTER_EXPIRY_SWEEP": "10s",
        }
    )
    assert settings.smtp_url == "smtps://bot:s3cret@mail.acme.com:465"
    assert settings.mail_rate == 2.5
    assert settings.max_rows == 1_000
    assert settings.import_worker is False
    assert settings.import_lease == timedelta(minutes=2)
    assert settings.expiry_sweep == timedelta(seconds=10)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://roster:s3cret@db.acme.com:5433/roster",
            "postgresql://roster:***@db.acme.com:5433/roster",
        ),
        (
            "postgresql://roster:s3cret@db.acme.com/roster",
            "postgresql://roster:***@db.acme.com/roster",
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "postgresql://postgres@127.0.0.1:5432/postgres",
        ),
        ("sqlite:///data/roster.db", "sqlite:///data/roster.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert Settings.from_env({**BASE, "ROSTER_DATABASE_URL": url}).store.shown_url == shown


def test_personal_data_is_encrypted_unless_turned_off_to_measure_it() -> None:
    assert Settings.from_env(BASE).encrypt_personal_data is True
    off = Settings.from_env({**BASE, "ROSTER_ENCRYPT_PERSONAL_DATA": "off"})
    assert off.encrypt_personal_data is False


def test_the_token_and_upload_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            **IDP,
            "ROSTER_JWT_JWKS_URL": JWKS_URL,
            "ROSTER_JWT_PROFILES_CLAIM": "realm_access.roles",
            "ROSTER_INVITATION_SECRET": "s" * 32,
            "ROSTER_MAX_CONCURRENT_UPLOADS": "2",
        }
    )
    assert settings.jwt_jwks_url == JWKS_URL
    assert settings.jwt_profiles_claim == "realm_access.roles"
    assert settings.max_concurrent_uploads == 2


def test_the_defaults_of_the_token_and_upload_settings() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.jwt_profiles_claim, settings.max_concurrent_uploads) == ("profiles", 4)


def pem(private_key: Any) -> str:
    public = private_key.public_key()
    encoded: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize("name", ["ROSTER_JWT_PUBLIC_KEY", "ROSTER_JWT_JWKS_URL"])
@pytest.mark.parametrize("missing", ["ROSTER_JWT_ISSUER", "ROSTER_JWT_AUDIENCE"])
def test_an_identity_providers_key_needs_issuer_and_audience(name: str, missing: str) -> None:
    key = pem(ec.generate_private_key(ec.SECP256R1()))
    env = {**IDP, name: key if name == "ROSTER_JWT_PUBLIC_KEY" else JWKS_URL}
    del env[missing]
    with pytest.raises(ConfigurationError, match=f"Set {missing} with {name}"):
        Settings.from_env(env)


def test_two_ways_of_verifying_tokens_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="only one of"):
        Settings.from_env({**BASE, **IDP, "ROSTER_JWT_JWKS_URL": JWKS_URL})


@pytest.mark.parametrize(
    "url", ["http://id.example.com/jwks.json", "ftp://id.example.com/jwks", "jwks.json"]
)
def test_a_jwks_url_that_is_not_https_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="ROSTER_JWT_JWKS_URL"):
        Settings.from_env({**IDP, "ROSTER_JWT_JWKS_URL": url})


def test_a_jwks_url_over_plain_http_is_allowed_on_localhost() -> None:
    url = "http://127.0.0.1:8080/jwks.json"
    assert Settings.from_env({**IDP, "ROSTER_JWT_JWKS_URL": url}).jwt_jwks_url == url


UNUSABLE_KEYS = {
    "not-pem": lambda: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
    "private-key": lambda: private_pem(rsa.generate_private_key(65537, 2048)),
    "short-rsa": lambda: pem(rsa.generate_private_key(65537, 1024)),  # noqa: S505 (refused)
    "secp256k1": lambda: pem(ec.generate_private_key(ec.SECP256K1())),
    "dsa": lambda: pem(dsa.generate_private_key(2048)),
    "x25519": lambda: pem(x25519.X25519PrivateKey.generate()),
}


@pytest.mark.parametrize("make", UNUSABLE_KEYS.values(), ids=UNUSABLE_KEYS)
def test_a_public_key_that_cannot_verify_tokens_is_refused_at_start_up(make: Any) -> None:
    settings = Settings.from_env({**IDP, "ROSTER_JWT_PUBLIC_KEY": make()})
    with pytest.raises(ConfigurationError, match=r"ROSTER_JWT_PUBLIC_KEY .*: "):
        create_app(settings)


RSA = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}


@pytest.mark.parametrize(
    ("key", "algorithms"),
    [
        (lambda: rsa.generate_private_key(65537, 2048), RSA),
        (lambda: ec.generate_private_key(ec.SECP256R1()), {"ES256"}),
        (lambda: ec.generate_private_key(ec.SECP384R1()), {"ES384"}),
        (lambda: ed25519.Ed25519PrivateKey.generate(), {"EdDSA"}),
    ],
    ids=["rsa", "p-256", "p-384", "ed25519"],
)
def test_the_algorithms_follow_the_key_type(key: Any, algorithms: set[str]) -> None:
    assert set(PublicKey.from_pem(pem(key())).algorithms) == algorithms
