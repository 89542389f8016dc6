"""The invitation mail as `jobs.mime` writes it, read back by the standard library's
parser (as a mail program reads it) and by its RFC 2047 decoder: the same addresses,
subject and parts the email package would have given, whatever the data."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from string import Template
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.invitation_mail import (
    InvitationMail,
    MailTemplates,
    UnsendableAddress,
    header_text,
    recipient,
)
from settings import TEMPLATES
from tests.mail import parse

INVITATION = "6f1c9a36-8d4e-4d0e-9a51-0123456789ab"
EXPIRES = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
LINK = "http://127.0.0.1:8000/accept#token=" + "Ab-_" * 16
#: Names and inviters as data gives them: accents, other scripts, quotes, specials,
#: runs of spaces, control characters and line breaks, things that look like encoded
#: words, and long ones.
TEXT = st.lists(
    st.sampled_from(
        [*"AnaJoséMüllerÇ日本 \"'\\,.;:<>@()[]=?_-\t\r\n\x00\u2028", "=?utf-8?q?x?=", "Ann Lee"]
    ),
    max_size=60,
).map("".join)


def mail(name: str, inviter: str = "hr.lead", address: str = "ana@acme.com") -> EmailMessage:
    templates = MailTemplates.load(Path(TEMPLATES))
    composer = InvitationMail(templates, "Roster <no-reply@example.com>")
    row = {"invitation_id": INVITATION, "name": name, "email": address, "inviter": inviter}
    return parse(composer.compose(row, LINK, EXPIRES).content)


def raw_header(message: EmailMessage, name: str) -> str:
    """The header's value as written, unfolded, not parsed."""
    value = next(v for k, v in message.raw_items() if k == name)
    return re.sub(r"\r?\n", "", str(value))


def rfc2047(text: str) -> str:
    """The text with its encoded words decoded as RFC 2047 says (the white space between
    two of them dropped, which the modern parser keeps in a display name)."""
    return str(make_header(decode_header(text)))


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None
    return cast(str, cast(EmailMessage, body).get_content())


@given(name=TEXT, inviter=TEXT)
def test_any_name_and_inviter_read_back_as_they_were_given(name: str, inviter: str) -> None:
    message = mail(name, inviter)

    (to,) = message["To"].addresses
    assert to.addr_spec == "ana@acme.com"
    display = raw_header(message, "To").rsplit(" <", 1)[0] if name else ""
    if display.startswith('"'):
        display = re.sub(r"\\(.)", r"\1", display[1:-1])
    assert rfc2047(display) == header_text(name)
    # The modern parser reads the same name, but for the space it keeps between two
    # encoded words and the runs of spaces it folds outside quotes.
    assert to.display_name.split() == header_text(name).split() or "?= =?" in display
    assert message["Subject"] == header_text(f"{inviter} invited you to the portal")
    assert set(message.keys()) == {
        "From",
        "To",
        "Subject",
        "Message-ID",
        "Date",
        "MIME-Version",
        "Content-Type",
    }


@given(name=TEXT, inviter=TEXT)
def test_the_parts_hold_the_templates_filled_in(name: str, inviter: str) -> None:
    message = mail(name, inviter)
    templates = MailTemplates.load(Path(TEMPLATES))
    values = {
        "name": header_text(name),
        "inviter": header_text(inviter),
        "link": LINK,
        "expires": "2030-01-02 03:04 UTC",
    }
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}

    assert message.get_content_type() == "multipart/alternative"
    assert lines(part(message, "plain")) == lines(templates.text.safe_substitute(values))
    assert lines(part(message, "html")) == lines(templates.html.safe_substitute(escaped))


def lines(text: str) -> list[bytes]:
    return text.encode().splitlines()


def test_no_line_of_a_mail_is_longer_than_smtp_allows() -> None:
    content = InvitationMail(MailTemplates.load(Path(TEMPLATES)), "Roster <r@example.com>")
    row = {
        "invitation_id": INVITATION,
        "name": "José " * 200,
        "email": "a" * 64 + "@" + "b" * 180 + ".com",
        "inviter": "x" * 2000,
    }
    raw = content.compose(row, LINK, EXPIRES).content

    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_template_edited_with_other_line_ends_gives_crlf_lines(tmp_path: Path) -> None:
    (tmp_path / "invitation.txt").write_bytes(b"Subject: Hi $name\n\nOne\r\nTwo\rThree\n")
    (tmp_path / "invitation.html").write_text("<p>$name</p>", encoding="utf-8")
    composer = InvitationMail(MailTemplates.load(tmp_path), "r@example.com")
    row = {"invitation_id": INVITATION, "name": "Ana", "email": "a@b.com", "inviter": "x"}
    raw = composer.compose(row, LINK, EXPIRES).content

    assert b"One\r\nTwo\r\nThree\r\n" in raw
    assert parse(raw)["Subject"] == "Hi Ana"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ana.lee+x@acme.com", ("ana.lee+x@acme.com", False)),
        ("bea@exämple.com", ("bea@xn--exmple-cua.com", False)),
        ("josé@example.com", ("josé@example.com", True)),
        ('"odd person"@acme.com', ('"odd person"@acme.com', False)),
    ],
)
def test_an_address_goes_out_as_mail_servers_read_it(
    address: str, expected: tuple[str, bool]
) -> None:
    assert recipient(address) == expected


def test_an_address_no_mail_can_reach_says_why() -> None:
    with pytest.raises(UnsendableAddress, match="two periods in a row"):
        recipient("old..entry@acme.com")


def test_a_sender_that_is_not_one_address_fails_each_mail_with_what_to_set() -> None:
    composer = InvitationMail(MailTemplates.load(Path(TEMPLATES)), "Roster, Other")
    row = {"invitation_id": INVITATION, "name": "Ana", "email": "a@b.com", "inviter": "x"}

    with pytest.raises(ValueError, match="ROSTER_MAIL_FROM"):
        composer.compose(row, LINK, EXPIRES)


def test_the_sender_keeps_its_display_name() -> None:
    templates = MailTemplates(Template("Hi"), Template("text"), Template("<p>html</p>"))
    composer = InvitationMail(templates, "Équipe Roster <no-reply@example.com>")
    row = {"invitation_id": INVITATION, "name": "Ana", "email": "a@b.com", "inviter": "x"}
    sent = composer.compose(row, LINK, EXPIRES)

    (sender,) = parse(sent.content)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Équipe Roster", "no-reply@example.com")
    assert sent.sender == "no-reply@example.com"
