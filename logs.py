"""Secrets never reach a log line: bearer tokens, JWTs and invitation tokens in URLs.

Installed once per process (the server, `roster` commands) as the log record factory, so
that every record is cleaned where it is made, whichever logger or handler takes it:
uvicorn's access log (an old `/accept?token=…` link), a message quoting a header, or a
library's error text. Arguments are cleaned one by one, so that formatters reading
`record.args` (uvicorn's access formatter) keep working; a secret in the message itself
makes the record the cleaned message without arguments.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SECRETS = (
    # An Authorization header's value, however it is quoted.
    (re.compile(r"(?i)\b(bearer)\s+[^\s'\",\[][^\s'\",]*"), r"\1 [redacted]"),
    # A JWT anywhere: three base64url parts, the first a JSON object ("eyJ").
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), "[redacted JWT]"),
    # A token in a URL's query or fragment (invitation links).
    (re.compile(r"(?i)([?&#;]token=)[^&\s#'\"]+"), r"\1[redacted]"),
)
_installed = False


def redacted(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    return redacted(value) if isinstance(value, str) else value


def keep_secrets_out_of_logs() -> None:
    """Makes every log record of this process cleaned of secrets (once; idempotent)."""
    global _installed
    if _installed:
        return
    making = logging.getLogRecordFactory()

    def cleaned(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = making(*args, **kwargs)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a broken format: logging reports it when it is emitted
        if redacted(message) != message:  # a secret in the format string itself
            record.msg, record.args = redacted(message), ()
        return record

    logging.setLogRecordFactory(cleaned)
    _installed = True
