"""The invitation mail of one `mail_deliveries` row, as the delivery worker sends it.

The row holds what the events recorded, and older events hold what they hold: header
values never take control characters from the data (a CR or LF in the inviter, the
person's name or the subject template becomes a space), so no data adds a header line.
Addresses go out as the mail servers of the world read them: an internationalised
domain in its IDNA (punycode) form, which every server takes; a local part with
non-ASCII characters as it is, in a message of the SMTPUTF8 policy, which only a
server that offers SMTPUTF8 takes (`jobs.outboxes` says so when it does not).
"""

from __future__ import annotations

import email.policy
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from string import Template
from typing import Any

from email_validator import EmailNotValidError, validate_email

#: Runs of control characters (C0, DEL, C1) and the Unicode line and paragraph
#: separators: everything `str.splitlines` breaks at, and what no header should carry.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class UnsendableAddress(Exception):
    """The access email is not an address a mail can be sent to; says why."""


def header_text(value: str) -> str:
    """The value with each run of control characters replaced by one space."""
    return CONTROL.sub(" ", value)


def recipient(name: str, email: str) -> tuple[Address, bool]:
    """The person's address as the mail gives it, and whether it needs SMTPUTF8."""
    display = header_text(name)
    if email.isascii():
        try:
            return Address(display, addr_spec=email), False
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
        return Address(display, addr_spec=valid.ascii_email), False
    return Address(display, username=valid.local_part, domain=valid.ascii_domain), True


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
class InvitationMail:
    templates: MailTemplates
    sender: str

    def compose(self, row: dict[str, Any], link: str, expires_at: datetime) -> EmailMessage:
        """The mail for the row; UnsendableAddress when its email cannot receive one."""
        to, smtputf8 = recipient(row["name"], row["email"])
        values = {
            "name": header_text(row["name"]),
            "inviter": header_text(row["inviter"]),
            "link": link,
            "expires": expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        }
        message = EmailMessage(policy=email.policy.SMTPUTF8 if smtputf8 else email.policy.default)
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = header_text(self.templates.subject.safe_substitute(values))
        message["Message-ID"] = make_msgid(idstring=row["invitation_id"])
        message["Date"] = formatdate(usegmt=True)
        message.set_content(self.templates.text.safe_substitute(values))
        escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
        message.add_alternative(self.templates.html.safe_substitute(escaped), subtype="html")
        return message
