"""The invitation mail of one `mail_deliveries` row, as the delivery worker sends it.

The row holds what the events recorded, and older events hold what they hold: header
values never take control characters from the data (a CR or LF in the inviter, the
person's name or the subject template becomes a space), so no data adds a header line.
Addresses go out as the mail servers of the world read them: an internationalised
domain in its IDNA (punycode) form, which every server takes; a local part with
non-ASCII characters as it is, in UTF-8 (RFC 6532), which only a server that offers
SMTPUTF8 takes (`jobs.outboxes` says so when it does not). The mail is written out by
`jobs.mime`, in a few dozen microseconds: the email package took milliseconds.
"""

from __future__ import annotations

import email.policy
import functools
import html
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader
from email.utils import formatdate, make_msgid
from pathlib import Path
from string import Template
from typing import Any, cast

from email_validator import EmailNotValidError, validate_email

from jobs import mime

#: Runs of control characters (C0, DEL, C1) and the Unicode line and paragraph
#: separators: everything `str.splitlines` breaks at, and what no header should carry.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: An address that goes out as it is, with no parsing: a dot-atom (RFC 5322) before
#: the @, host names of letters, digits and hyphens after it.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


class UnsendableAddress(Exception):
    """The access email is not an address a mail can be sent to; says why."""


def header_text(value: str) -> str:
    """The value with each run of control characters replaced by one space."""
    return CONTROL.sub(" ", value)


def recipient(email: str) -> tuple[str, bool]:
    """The person's address as the mail gives it, and whether it needs SMTPUTF8."""
    if PLAIN_ADDRESS.fullmatch(email):
        return email, False  # most are: letters, digits and dots, a plain domain
    if email.isascii():
        try:
            return Address(addr_spec=email).addr_spec, False
        except (ValueError, HeaderParseError):
            pass  # an address an older check let through: email-validator says what is wrong
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise UnsendableAddress(
            f"The access email {email!r} is not an address mail can be sent to: {error} "
            "Deactivate this user and register the person with a corrected address."
        ) from None
    if valid.ascii_email is not None:  # at most the domain is internationalised
        return Address(addr_spec=valid.ascii_email).addr_spec, False
    return Address(username=valid.local_part, domain=valid.ascii_domain).addr_spec, True


@dataclass(frozen=True)
class MailTemplates:
    subject: Template
    text: Template
    html: Template

    @classmethod
    def load(cls, folder: Path) -> MailTemplates:
        """`invitation.txt` (a `Subject:` line, a blank line, the text) and
        `invitation.html`, with $name, $inviter, $link and $expires."""
        head, _, body = (folder / "invitation.txt").read_text(encoding="utf-8").partition("\n\n")
        subject = head.removeprefix("Subject:").strip()
        html_text = (folder / "invitation.html").read_text(encoding="utf-8")
        return cls(Template(subject), Template(body), Template(html_text))


@dataclass(frozen=True)
class Mail:
    """A mail ready to hand over: its envelope and its bytes (RFC 5322, CRLF line ends)."""

    sender: str
    recipient: str
    content: bytes
    #: The recipient's local part is not ASCII: only a server with SMTPUTF8 takes it.
    smtputf8: bool


@dataclass(frozen=True)
class InvitationMail:
    templates: MailTemplates
    sender: str

    def compose(self, row: dict[str, Any], link: str, expires_at: datetime) -> Mail:
        """The mail for the row; UnsendableAddress when its email cannot receive one."""
        to, smtputf8 = recipient(row["email"])
        values = {
            "name": header_text(row["name"]),
            "inviter": header_text(row["inviter"]),
            "link": link,
            "expires": expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        }
        sender_line, sender = self._from
        headers = "".join(
            (
                sender_line,
                mime.mailbox("To", values["name"], to),
                mime.unstructured(
                    "Subject", header_text(self.templates.subject.safe_substitute(values))
                ),
                f"Message-ID: {make_msgid(idstring=row['invitation_id'], domain=_host())}\r\n",
                f"Date: {formatdate(usegmt=True)}\r\n",
            )
        )
        escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
        content = mime.alternative(
            headers,
            f"=_{row['invitation_id']}",
            self.templates.text.safe_substitute(values),
            self.templates.html.safe_substitute(escaped),
        )
        return Mail(sender, to, content, smtputf8)

    @functools.cached_property
    def _from(self) -> tuple[str, str]:
        """The From line, folded by the email package once, and the envelope sender."""
        header = email.policy.SMTP.header_factory("From", header_text(self.sender))
        addresses = cast(AddressHeader, header).addresses
        if len(addresses) != 1 or not addresses[0].addr_spec:
            raise ValueError(
                f"ROSTER_MAIL_FROM={self.sender!r} is not one address: use e.g. "
                "'Roster <no-reply@example.com>'."
            )
        return header.fold(policy=email.policy.SMTP), addresses[0].addr_spec


@functools.cache
def _host() -> str:
    """The host part of Message-IDs: make_msgid would look it up for every mail."""
    return socket.getfqdn()
