"""Where invitation mails go: a mail server (`ROSTER_SMTP_URL`), or files in a folder.

`smtp://user:pass@host:port` (add `?starttls=true` to upgrade the connection) or
`smtps://…` (TLS from the start). Without a URL, each mail is one RFC 5322 file in the
outbox folder, named after its invitation, so `make run` needs no mail server, a
mail written twice is still one file, and the mail of an erased person is found and
deleted (`forget`).

A mail to an address with non-ASCII characters before the @ needs a server that offers
SMTPUTF8 (it is then sent with that option); a server that does not gets no such mail,
and the mail fails for good with a reason that says so. A connection is kept from mail
to mail, one for each thread that sends; to a server that offers PIPELINING (RFC 2920),
a mail's commands go in one write, so that it costs two round trips instead of four.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from jobs.invitation_mail import Mail

SMTP_TIMEOUT_SECONDS = 30
_LEADING_PERIOD = re.compile(rb"^\.", re.MULTILINE)
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
    def send(self, mail: Mail, name: str) -> None:
        """Hands the mail over; DeliveryError when it was not. `name` identifies it."""
        ...

    def close(self) -> None:
        """Lets go of the connection this thread kept between mails, if any."""
        ...

    def forget(self, name: str) -> None:
        """Deletes what is kept of the mail `name`, if anything (its person was erased);
        OSError when it cannot be deleted."""
        ...


class FileOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, mail: Mail, name: str) -> None:
        """Writes the mail as it would go over SMTP (UTF-8 headers for a non-ASCII local
        part). A folder that cannot be written is tried again later, like a server down.
        The temporary file is named after the mail too: one a crash left is forgotten
        with it."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=self.folder, prefix=f"{name}.", suffix=".tmp"
            )
            with os.fdopen(descriptor, "wb") as file:
                file.write(mail.content)
            os.replace(temporary, self.folder / f"{name}.eml")  # whole or not at all
        except OSError as error:
            raise DeliveryError(
                f"The outbox folder {str(self.folder)!r} cannot be written: {error}",
                permanent=False,
            ) from None

    def close(self) -> None:
        pass

    def forget(self, name: str) -> None:
        """The mail's file, and any temporary file of it a crash left behind."""
        for path in (self.folder / f"{name}.eml", *self.folder.glob(f"{name}.*.tmp")):
            path.unlink(missing_ok=True)


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
        #: Each thread (each lane of the delivery) has a connection of its own.
        self._local = threading.local()
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    def send(self, mail: Mail, name: str) -> None:
        """Sends over this thread's connection kept from the mail before, if it still
        works (a connection the server closed meanwhile is replaced); a failed mail
        closes it, and the next one connects afresh."""
        try:
            smtp = self._local.smtp = getattr(self._local, "smtp", None) or self._connect()
            try:
                self._commands(smtp, mail)
            except smtplib.SMTPServerDisconnected:
                self.close()  # before any of this mail's content went: it was not sent
                smtp = self._local.smtp = self._connect()
                self._commands(smtp, mail)
            self._content(smtp, mail)
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise _delivery_error(error) from None

    @staticmethod
    def _commands(smtp: smtplib.SMTP, mail: Mail) -> None:
        """MAIL FROM, RCPT TO and DATA, until the server waits for the content: in one
        write when it offers PIPELINING (RFC 2920: one round trip instead of three), one
        after the other when it does not. An answer that refuses raises as smtplib's
        sendmail would (the caller closes the connection, which drops the transaction)."""
        if mail.smtputf8 and not smtp.has_extn("smtputf8"):
            # Nothing was sent: the connection is as good as before.
            raise DeliveryError(SMTPUTF8_REFUSED, permanent=True)
        # As smtplib's send_message asks for a mail to a non-ASCII address.
        options = " SMTPUTF8 BODY=8BITMIME" if mail.smtputf8 else ""
        commands = [
            f"MAIL FROM:<{mail.sender}>{options}\r\n",
            f"RCPT TO:<{mail.recipient}>\r\n",
            "DATA\r\n",
        ]
        if smtp.has_extn("pipelining"):
            smtp.send("".join(commands).encode("utf-8"))
            answers = [smtp.getreply() for _ in commands]
        else:
            answers = []
            for command in commands:
                smtp.send(command.encode("utf-8"))
                answers.append(smtp.getreply())
                if answers[-1][0] not in (250, 251, 354):
                    break
        (code, text), *rest = answers
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, text, mail.sender)
        (code, text), *rest = rest
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({mail.recipient: (code, text)})
        ((code, text),) = rest
        if code != 354:
            raise smtplib.SMTPDataError(code, text)

    @staticmethod
    def _content(smtp: smtplib.SMTP, mail: Mail) -> None:
        """The content, its lines that start with a period doubled, and the final "."."""
        content = mail.content
        if content.startswith(b".") or b"\n." in content:  # seldom: a search is cheaper
            content = _LEADING_PERIOD.sub(b"..", content)
        smtp.send(content + b".\r\n")
        code, text = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, text)

    def forget(self, name: str) -> None:
        """Nothing is kept here: a mail handed over is the mail server's."""

    def close(self) -> None:
        """Closes this thread's connection."""
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        self._local.smtp = None
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
        smtp.ehlo_or_helo_if_needed()  # what the server offers: PIPELINING, SMTPUTF8
        return smtp

    def _context(self) -> ssl.SSLContext:
        """Made once: loading the system's certificates costs ~20 ms."""
        with self._tls_lock:
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
