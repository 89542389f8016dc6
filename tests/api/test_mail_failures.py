"""Each invitation mail on its own, over real SMTP servers (aiosmtpd, with and without
SMTPUTF8) and the real outbox folder: internationalised addresses go out (a domain as
IDNA, a non-ASCII local part over SMTPUTF8), a mail that fails is recorded as failed on
its invitation and shown by the API, and the mails queued behind it still go out.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest

from domain.application import NewUser
from tests.api.operations import RESEND, Administrator
from tests.api.test_invitation_mail import (
    delivery_statuses,
    invitation_id,
    wait_for,
)
from tests.mail import MailServer
from tests.support import ThreadedServer

INVITATION = """query($id: ID!) { user(id: $id) { invitation {
  sentAt deliveryFailedAt deliveryError } } }"""
SMTPUTF8_REFUSED = (
    "The mail server does not accept addresses with non-ASCII characters before the @ (SMTPUTF8)"
)
#: Well under the minute a claim lasts: a mail held up by the one before it would wait that.
PROMPTLY = 10.0


@pytest.fixture
def utf8_server() -> Iterator[MailServer]:
    server = MailServer(smtputf8=True).start()
    yield server
    server.stop()


def invitation(admin: Administrator, user_id: str) -> dict[str, Any]:
    """The user's invitation as the API shows it; empty until the user is listed."""
    found = admin.api.data(INVITATION, {"id": user_id}, as_=admin.token)["user"]
    return cast(dict[str, Any], found["invitation"]) if found else {}


def shows(admin: Administrator, user_id: str, field: str) -> bool:
    """Whether the user's invitation has a value for the field."""
    return invitation(admin, user_id).get(field) is not None


def queued(server: ThreadedServer, admin: Administrator, *emails: str) -> list[str]:
    """Registers a user per email, in this order, while delivery waits; their ids."""
    ids = [admin.register("Ana", f"No{n}", mail)["id"] for n, mail in enumerate(emails)]
    wait_for(lambda: all(delivery_statuses(server, i) == ["PENDING"] for i in ids))
    return ids


def read(content: bytes) -> EmailMessage:
    """A message whose headers may be UTF-8 (SMTPUTF8), read as text."""
    return email.message_from_string(content.decode("utf-8"), policy=email.policy.default)


# ---------------------------------------------------------------- internationalised addresses


def test_a_non_ascii_local_part_goes_out_over_smtputf8(
    serve: Callable[..., ThreadedServer], utf8_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=utf8_server.url)
    admin = Administrator(server.api)
    user = admin.register("José", "Pérez", "josé@example.com")

    wait_for(lambda: shows(admin, user["id"], "sentAt"))
    (envelope,) = utf8_server.mailbox.envelopes
    assert envelope.rcpt_tos == ["josé@example.com"]
    assert "SMTPUTF8" in envelope.mail_options
    message = read(cast(bytes, envelope.original_content))
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("José Pérez", "josé@example.com")


def test_an_internationalised_domain_goes_out_in_its_punycode_form(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("Bea", "Costa", "bea@exämple.com")

    wait_for(lambda: shows(admin, user["id"], "sentAt"))
    (envelope,) = mail_server.mailbox.envelopes
    assert envelope.rcpt_tos == ["bea@xn--exmple-cua.com"]
    assert "SMTPUTF8" not in envelope.mail_options
    (message,) = mail_server.mailbox.messages
    assert message["To"].addresses[0].addr_spec == "bea@xn--exmple-cua.com"


def test_the_file_outbox_writes_the_mail_of_a_non_ascii_address(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve()
    admin = Administrator(server.api)
    user = admin.register("José", "Pérez", "josé@exämple.com")

    wait_for(lambda: shows(admin, user["id"], "sentAt"))
    file = Path(env["ROSTER_OUTBOX_DIR"]) / f"{invitation_id(server, user['id'])}.eml"
    (to,) = read(file.read_bytes())["To"].addresses
    assert to.addr_spec == "josé@xn--exmple-cua.com"


# ---------------------------------------------------------------- one bad mail


def test_a_server_without_smtputf8_fails_that_mail_and_the_next_goes_out(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    bad, good = queued(server, admin, "josé@example.com", "cid@example.com")

    server.app.state.services.delivery.start()

    wait_for(lambda: mail_server.mailbox.count() >= 1, within=PROMPTLY)
    wait_for(lambda: shows(admin, good, "sentAt"))
    assert mail_server.mailbox.recipients() == Counter(["cid@example.com"])
    assert mail_server.mailbox.attempts == 1
    assert delivery_statuses(server, bad) == ["FAILED"]


def test_a_mail_that_cannot_be_built_fails_and_the_next_goes_out(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve(ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    roster = server.app.state.services.roster
    # An address an earlier version let through: the event holds it as it was.
    old = NewUser("Old", "Entry", "old..entry@acme.com", kept=True)
    bad = str(roster.register_user(old, actor="admin").id)
    (good,) = queued(server, admin, "cid@example.com")

    server.app.state.services.delivery.start()

    wait_for(lambda: shows(admin, good, "sentAt"), within=PROMPTLY)
    wait_for(lambda: shows(admin, bad, "deliveryError"))
    error = invitation(admin, bad)["deliveryError"]
    assert error.startswith("The access email 'old..entry@acme.com' is not an address"), error
    assert "two periods in a row" in error
    outbox = Path(env["ROSTER_OUTBOX_DIR"])
    assert [f.name for f in outbox.glob("*.eml")] == [f"{invitation_id(server, good)}.eml"]


def test_a_permanent_failure_shows_on_the_invitation(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("José", "Pérez", "josé@example.com")

    wait_for(lambda: shows(admin, user["id"], "deliveryFailedAt"))
    shown = invitation(admin, user["id"])
    assert shown["deliveryError"].startswith(SMTPUTF8_REFUSED), shown
    assert shown["sentAt"] is None


def test_a_resent_invitation_shows_no_failure_of_the_one_before(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("José", "Pérez", "josé@example.com")
    wait_for(lambda: shows(admin, user["id"], "deliveryFailedAt"))
    server.app.state.services.delivery.stop()  # the new one would fail the same way

    resent = server.api.data(RESEND, {"id": user["id"]}, as_=admin.token)["resendInvitation"]
    assert resent["__typename"] == "User", resent

    assert invitation(admin, user["id"]) == {
        "sentAt": None,
        "deliveryFailedAt": None,
        "deliveryError": None,
    }


# ---------------------------------------------------------------- data in headers


def test_line_breaks_in_the_inviter_and_the_name_give_clean_headers(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    roster = server.app.state.services.roster
    # Recorded before tokens and names were checked for line breaks: events keep them.
    person = NewUser("Ana\r\nX-Injected: yes", "Silva", "ana@acme.com", kept=True)
    user_id = str(roster.register_user(person, actor="hr.lead\r\nBcc: eve@example.com").id)

    wait_for(lambda: shows(admin, user_id, "sentAt"))
    (envelope,) = mail_server.mailbox.envelopes
    assert envelope.rcpt_tos == ["ana@acme.com"]
    (message,) = mail_server.mailbox.messages
    assert message["Subject"] == "hr.lead Bcc: eve@example.com invited you to the portal"
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert message["To"].addresses[0].display_name == "Ana X-Injected: yes Silva"
