"""The SMTP outbox against a real server (aiosmtpd), with and without PIPELINING: what
it sends arrives as it was, and a connection it kept is replaced when the server has
closed it meanwhile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs.invitation_mail import Mail
from jobs.outboxes import DeliveryError, SmtpOutbox
from tests.mail import Mailbox, MailServer

CONTENT = (
    b"From: r@example.com\r\nTo: ana@acme.com\r\nSubject: Dots\r\n"
    b"Message-ID: <1.2.3.6f1c9a36-8d4e-4d0e-9a51-0123456789ab@example.com>\r\n\r\n"
    b".a line that starts with a period\r\n.\r\n..two\r\nlast\r\n"
)


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def server(request: pytest.FixtureRequest) -> Iterator[MailServer]:
    running = MailServer(Mailbox(pipelining=request.param)).start()
    yield running
    running.stop()


def mail(recipient: str = "ana@acme.com") -> Mail:
    return Mail("r@example.com", recipient, CONTENT, smtputf8=False)


def test_lines_that_start_with_a_period_arrive_as_they_were(server: MailServer) -> None:
    outbox = SmtpOutbox(server.url)
    outbox.send(mail(), "x")
    outbox.close()

    (envelope,) = server.mailbox.envelopes
    assert envelope.original_content == CONTENT
    assert (envelope.mail_from, envelope.rcpt_tos) == ("r@example.com", ["ana@acme.com"])


def test_a_connection_the_server_closed_is_replaced(server: MailServer) -> None:
    outbox = SmtpOutbox(server.url)
    outbox.send(mail(), "x")
    server.stop()
    server.start()  # the same port: the connection kept is dead

    outbox.send(mail(), "y")
    outbox.close()

    assert server.mailbox.count() == 2
    assert server.mailbox.connections == 2


def test_a_refused_recipient_is_a_permanent_failure_and_the_next_mail_goes(
    server: MailServer,
) -> None:
    server.mailbox.unknown.add("gone@acme.com")
    outbox = SmtpOutbox(server.url)

    with pytest.raises(DeliveryError) as refused:
        outbox.send(mail("gone@acme.com"), "x")
    outbox.send(mail(), "y")
    outbox.close()

    assert refused.value.permanent
    assert "gone@acme.com" in str(refused.value)
    assert server.mailbox.recipients() == {"ana@acme.com": 1}
