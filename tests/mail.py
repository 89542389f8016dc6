"""A real SMTP server on a local port (aiosmtpd, in a thread of this process), for the mail
tests, the restart drill and the benches: its mailbox counts every mail it accepts by
recipient and by the invitation its Message-ID names, so that a mail sent twice shows."""

from __future__ import annotations

import asyncio
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
    FROM's options); a bench of 100,000 mails does without. With `pipelining`, its
    server offers PIPELINING (RFC 2920), as most mail servers do (aiosmtpd reads
    pipelined commands one after the other, but does not offer it by itself). RCPT TO
    is refused with 550 for the addresses in `unknown`; `connections` counts the
    clients' greetings (EHLO), one per connection."""

    def __init__(
        self,
        *,
        keep: bool = True,
        clock: Callable[[], float] = time.time,
        pipelining: bool = False,
    ) -> None:
        self.answer = "250 OK"
        self.pipelining = pipelining
        self.unknown: set[str] = set()
        self.connections = 0
        self.attempts = 0
        self.keep = keep
        self.clock = clock
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.arrivals: list[float] = []
        self._recipients: Counter[str] = Counter()
        self._invitations: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does when no handler takes EHLO
        with self._lock:
            self.connections += 1
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)  # what aiosmtpd does when no handler takes RCPT
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

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
    non-ASCII local parts) only when told to. A bench gives it uvloop's event loop, which
    spends less of the machine on each mail than asyncio's own."""

    def __init__(
        self,
        mailbox: Mailbox | None = None,
        *,
        smtputf8: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.smtputf8 = smtputf8
        self.loop = loop
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            enable_SMTPUTF8=self.smtputf8,
            loop=self.loop,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
