"""Where invitation mails go: a mail server (`ROSTER_SMTP_URL`), or files in a folder.

`smtp://user:pass@host:port` (add `?starttls=true` to upgrade the connection) or
`smtps://…` (TLS from the start). Without a URL, each mail is one RFC 5322 file in the
outbox folder, named after its invitation, so `make run` needs no mail server and a
mail written twice is still one file.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

SMTP_TIMEOUT_SECONDS = 30


class DeliveryError(Exception):
    """The mail was not handed over. `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Outbox(Protocol):
    def send(self, message: EmailMessage, name: str) -> None:
        """Hands the message over; DeliveryError when it was not. `name` identifies it."""
        ...


class FileOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(message))
        os.replace(temporary, self.folder / f"{name}.eml")  # whole or not at all


class SmtpOutbox:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"ROSTER_SMTP_URL={url!r}: use smtp://user:pass@host:port or smtps://…"
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryError(
                f"The mail server refused the address: {error.recipients}",
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"The mail server answered {error.smtp_code}: {error.smtp_error!r}",
                permanent=500 <= error.smtp_code < 600
                and not isinstance(error, smtplib.SMTPAuthenticationError),
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(
                f"The mail server cannot be reached: {error}", permanent=False
            ) from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        if self.starttls:
            smtp.starttls(context=context)
        return smtp
