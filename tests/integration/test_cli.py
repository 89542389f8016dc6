"""The `roster` command, run as a separate process the way people run it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

import cli
from settings import Settings
from tests.conftest import ON_POSTGRES
from tests.integration.harness import roster
from tests.support import ROOT, TEST_SECRET, ThreadedServer

SIGNING = {"ROSTER_JWT_SECRET": TEST_SECRET}
SECRET = Path("data/jwt.secret")


def issued(*args: str) -> str:
    result = roster("token", "--subject", "ops-lead", *args, env=SIGNING)
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout.strip()


def test_a_cli_token_is_accepted_by_the_server(server: ThreadedServer) -> None:
    token = issued("--profile", "USER_MANAGEMENT_ADMIN", "--profile", "AUDITOR", "--ttl", "8h")

    me = server.api.data("{ me { subject profiles } }", as_=token)["me"]

    assert me["subject"] == "ops-lead"
    assert sorted(me["profiles"]) == ["AUDITOR", "USER_MANAGEMENT_ADMIN"]


def test_a_cli_token_names_the_profiles_in_the_configured_claim() -> None:
    env = {**SIGNING, "ROSTER_JWT_PROFILES_CLAIM": "realm_access.roles"}
    result = roster("token", "--subject", "ops-lead", "--profile", "AUDITOR", env=env)

    claims = jwt.decode(result.stdout.strip(), TEST_SECRET, algorithms=["HS256"])

    assert claims["realm_access"] == {"roles": ["AUDITOR"]}
    assert "profiles" not in claims


def test_a_cli_token_expires_after_its_ttl() -> None:
    token = issued("--profile", "AUDITOR", "--ttl", "8h")

    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])

    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(hours=8)


def test_a_bad_ttl_exits_non_zero_and_says_how_to_write_one() -> None:
    result = roster(
        "token", "--subject", "ops-lead", "--profile", "AUDITOR", "--ttl", "8 hours", env=SIGNING
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "roster: --ttl='8 hours' is not a duration: use seconds or a number with s, m, h or d, "
        "e.g. 7d.\n"
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no configured signing key, as on a first `make run`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROSTER_JWT_SECRET", raising=False)
    monkeypatch.delenv("ROSTER_JWT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("ROSTER_JWT_JWKS_URL", raising=False)
    return tmp_path


def test_ensure_local_secret_creates_a_secret_only_its_owner_can_read(workdir: Path) -> None:
    cli.ensure_local_secret()

    assert stat.S_IMODE((workdir / SECRET).stat().st_mode) == 0o600


def test_ensure_local_secret_creates_a_secret_the_settings_accept(workdir: Path) -> None:
    cli.ensure_local_secret()

    assert Settings.from_env({}).jwt_secret == (workdir / SECRET).read_text()


def test_ensure_local_secret_keeps_an_existing_secret_and_makes_it_private(
    workdir: Path,
) -> None:
    (workdir / "data").mkdir()
    (workdir / SECRET).write_text(TEST_SECRET)
    (workdir / SECRET).chmod(0o644)

    cli.ensure_local_secret()

    assert (workdir / SECRET).read_text() == TEST_SECRET
    assert stat.S_IMODE((workdir / SECRET).stat().st_mode) == 0o600


def test_ensure_local_secret_writes_nothing_when_a_secret_is_configured(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSTER_JWT_SECRET", TEST_SECRET)

    cli.ensure_local_secret()

    assert not (workdir / "data").exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="only a PostgreSQL URL carries a password")
def test_a_roster_command_prints_the_database_url_without_its_password(
    store_url: str, tmp_path: Path
) -> None:
    # The local server trusts its clients: the password is sent nowhere, only printed.
    url = store_url.replace("postgres@", "postgres:s3cret-Pa55@", 1)
    env = {
        "ROSTER_DATABASE_URL": url,
        "ROSTER_JWT_SECRET": TEST_SECRET,
        "ROSTER_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ROSTER_ERASURE_LEDGER": str(tmp_path / "erasures.jsonl"),
    }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    mailer = subprocess.Popen(
        [sys.executable, "-m", "cli", "mailer"],
        cwd=ROOT,
        env={**inherited, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert mailer.stdout is not None
        first = mailer.stdout.readline()
    finally:
        mailer.send_signal(signal.SIGTERM)
        rest, _ = mailer.communicate(timeout=30)

    assert first.startswith("Roster mail delivery on postgresql://postgres:***@"), first
    assert "s3cret-Pa55" not in first + rest
