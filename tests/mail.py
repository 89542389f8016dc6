"""A real SMTP server on a local port (aiosmtpd, in a thread of this process), for the mail
tests, the restart drill and the benches: its mailbox counts every mail it accepts by
recipient and by the invitation its Message-ID names, so that a mail sent twice shows."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support import free_port

#: The invitation id that make_msgid(idstring=invitation_id) puts before the "@".
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<[^>]*\.([0-9a-f-]{36})@", re.I | re.M)


def parse(content: bytes) -> EmailMessage:
    """An RFC 5322 message as the standard library reads it with its modern policy."""
    return email.message_from_bytes(content, policy=email.policy.default)


class Mailbox:
    """An SMTP handler that answers DATA with `answer` (switch it to "451 try later" or
    "550 no such user") and counts the mails it accepts, noting when each came (on
    `clock`). With `keep`, it also keeps each message and its envelope (RCPT TO, MAIL
    FROM's options); a bench of 100,000 mails does without."""

    def __init__(self, *, keep: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.answer = "250 OK"
        self.attempts = 0
        self.keep = keep
        self.clock = clock
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.arrivals: list[float] = []
        self._recipients: Counter[str] = Counter()
        self._invitations: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._lock:
            self.attempts += 1
            if not self.answer.startswith("250"):
                return self.answer
            self.arrivals.append(self.clock())
            self._recipients.update(envelope.rcpt_tos)
            found = MESSAGE_ID.search(content)
            self._invitations[found.group(1).decode() if found else "?"] += 1
            if self.keep:
                self.messages.append(parse(content))
                self.envelopes.append(envelope)
            return self.answer

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def recipients(self) -> Counter[str]:
        """Mails by RCPT TO address, as they are now."""
        with self._lock:
            return Counter(self._recipients)

    def invitations(self) -> Counter[str]:
        """Mails by the invitation their Message-ID names, as they are now."""
        with self._lock:
            return Counter(self._invitations)

    def times(self) -> list[float]:
        with self._lock:
            return list(self.arrivals)


class MailServer:
    """The SMTP server; not listening until `start`. It offers SMTPUTF8 (addresses with
    non-ASCII local parts) only when told to."""

    def __init__(self, mailbox: Mailbox | None = None, *, smtputf8: bool = False) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.smtputf8 = smtputf8
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
