"""Where invitation mails go: a mail server (`ROSTER_SMTP_URL`), or files in a folder.

`smtp://user:pass@host:port` (add `?starttls=true` to upgrade the connection) or
`smtps://…` (TLS from the start). Without a URL, each mail is one RFC 5322 file in the
outbox folder, named after its invitation, so `make run` needs no mail server and a
mail written twice is still one file.

A mail to an address with non-ASCII characters before the @ needs a server that offers
SMTPUTF8 (smtplib then sends it with that option); a server that does not gets no such
mail, and the mail fails for good with a reason that says so.
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
SMTPUTF8_REFUSED = (
    "The mail server does not accept addresses with non-ASCII characters before the @ "
    "(SMTPUTF8); ask its operator to enable SMTPUTF8, or deactivate this user and register "
    "the person with an address in ASCII letters."
)


class DeliveryError(Exception):
    """The mail was not handed over. `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Outbox(Protocol):
    def send(self, message: EmailMessage, name: str) -> None:
        """Hands the message over; DeliveryError when it was not. `name` identifies it."""
        ...

    def close(self) -> None:
        """Lets go of any connection kept between mails."""
        ...


class FileOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, name: str) -> None:
        """Writes the message as its policy renders it (SMTPUTF8's for a non-ASCII local
        part). A folder that cannot be written is tried again later, like a server down."""
        content = bytes(message)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
            os.replace(temporary, self.folder / f"{name}.eml")  # whole or not at all
        except OSError as error:
            raise DeliveryError(
                f"The outbox folder {str(self.folder)!r} cannot be written: {error}",
                permanent=False,
            ) from None

    def close(self) -> None:
        pass


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
        self._smtp: smtplib.SMTP | None = None
        self._tls: ssl.SSLContext | None = None

    def send(self, message: EmailMessage, name: str) -> None:
        """Sends over the connection kept from the mail before, if it still works; a
        failed mail closes it, and the next one connects afresh."""
        try:
            try:
                self._hand_over(message)
            except smtplib.SMTPServerDisconnected:
                self.close()
                self._hand_over(message)
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise _delivery_error(error) from None

    def _hand_over(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPNotSupportedError:
            # Only SMTPUTF8 is asked for here, and refused before MAIL FROM: the
            # connection is as good as before, and no other mail is concerned.
            raise DeliveryError(SMTPUTF8_REFUSED, permanent=True) from None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
            if self.starttls:
                smtp.starttls(context=self._context())
        if self.user:
            smtp.login(self.user, self.password)
        return smtp

    def _context(self) -> ssl.SSLContext:
        """Made once: loading the system's certificates costs ~20 ms."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


def _delivery_error(error: Exception) -> DeliveryError:
    """Permanent for a 5xx answer (but a failed login, which an operator can fix),
    temporary for 4xx answers and for a server that cannot be reached."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return DeliveryError(
            f"The mail server refused the address: {error.recipients}",
            permanent=bool(codes) and all(500 <= code < 600 for code in codes),
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return DeliveryError(
            f"The mail server answered {error.smtp_code}: {error.smtp_error!r}",
            permanent=500 <= error.smtp_code < 600
            and not isinstance(error, smtplib.SMTPAuthenticationError),
        )
    return DeliveryError(f"The mail server cannot be reached: {error}", permanent=False)
