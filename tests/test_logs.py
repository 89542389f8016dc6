"""Secrets are cleaned out of every log record where it is made."""

from __future__ import annotations

import logging

import pytest

from logs import keep_secrets_out_of_logs, redacted
from tests.support import ADMIN, token

INVITATION = "Zm9vYmFyYmF6cXV4.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_a_bearer_token_is_redacted() -> None:
    jwt = token(ADMIN)

    assert redacted(f"authorization: Bearer {jwt}") == "authorization: Bearer [redacted]"


def test_a_jwt_without_its_scheme_is_redacted() -> None:
    jwt = token(ADMIN)

    assert redacted(f"token {jwt} refused") == "token [redacted JWT] refused"


@pytest.mark.parametrize("link", ["/accept?token=", "/accept#token=", "/accept?x=1&token="])
def test_a_token_in_a_link_is_redacted(link: str) -> None:
    assert redacted(f"GET {link}{INVITATION} HTTP/1.1") == f"GET {link}[redacted] HTTP/1.1"


def test_text_without_secrets_is_left_as_it_is() -> None:
    text = 'GET /graphql?query={users{totalCount}} 200 "tokens of ana@acme.com"'

    assert redacted(text) == text


class Kept(logging.Handler):
    """Keeps the messages of the records it is given, formatted."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_records_are_cleaned_whatever_their_logger() -> None:
    keep_secrets_out_of_logs()
    jwt = token(ADMIN)
    kept = Kept()
    # uvicorn's access logger does not propagate (its own config): listen to each directly.
    loggers = [logging.getLogger("uvicorn.access"), logging.getLogger("somewhere.else")]
    for logger in loggers:
        logger.addHandler(kept)
    try:
        loggers[0].warning(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/accept?token={INVITATION}", "1.1", 200
        )
        loggers[1].warning("header was Bearer %s", jwt)
    finally:
        for logger in loggers:
            logger.removeHandler(kept)

    assert kept.lines == [
        '127.0.0.1 - "GET /accept?token=[redacted] HTTP/1.1" 200',
        "header was Bearer [redacted JWT]",
    ]
