"""Settings the server cannot run with are refused at start-up with a message that says
which variable and what to write instead."""

from __future__ import annotations

from datetime import timedelta

import pytest

from settings import ConfigurationError, Settings
from tests.support import TEST_SECRET

BASE = {"ROSTER_JWT_SECRET": TEST_SECRET}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ROSTER_SMTP_URL", "mail.acme.com:25"),
        ("ROSTER_SMTP_URL", "http://mail.acme.com"),
        ("ROSTER_MAIL_RATE", "0"),
        ("ROSTER_MAIL_RATE", "fast"),
        ("ROSTER_MAX_ROWS", "-5"),
        ("ROSTER_MAX_UPLOAD_BYTES", "lots"),
        ("ROSTER_IMPORT_WORKER", "maybe"),
        ("ROSTER_IMPORT_LEASE", "soon"),
        ("ROSTER_EXPIRY_SWEEP", "0"),
        ("ROSTER_MAX_SUBSCRIPTIONS", "0"),
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
