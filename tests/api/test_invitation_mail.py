"""Invitation mails over real components: the file outbox, a real SMTP server (aiosmtpd)
that accepts, is down, answers 451 or refuses with 550, offers PIPELINING or not, resends,
deactivations before a mail goes out, the sending rate kept by several lanes, connections
kept from claim to claim, and a server process killed while mails go out.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from domain.users import User
from jobs import delivery
from jobs.delivery import FIRST_RETRY_SECONDS, lanes_for
from jobs.leases import Leases
from tests.api.importing import Importer, people
from tests.api.operations import ACCEPT, RESEND, Administrator
from tests.mail import Mailbox, MailServer, parse
from tests.support import ROOT, Api, ServerProcess, ThreadedServer, free_port

PORTAL = "http://127.0.0.1:8000/accept#token="
LINK = re.compile(re.escape(PORTAL) + r"(\S+)")
REPLACED = "This invitation was replaced by a newer one"
#: Claims that a killed process leaves behind come back after this many seconds (the
#: worker's own 120 s would outlast the test).
SHORT_CLAIM_SECONDS = 3


# ---------------------------------------------------------------- helpers


def wait_for(condition: Callable[[], bool], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "Waited in vain."
        time.sleep(0.1)


def address() -> str:
    return f"ana.{uuid4().hex[:12]}@acme.com"


def invitation_id(server: ThreadedServer, user_id: str) -> UUID:
    roster = server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    assert invitation is not None
    return cast(UUID, invitation.id)


def token_of(server: ThreadedServer, user_id: str) -> str:
    """The token of the user's current invitation, as the mailer derives it."""
    roster = server.app.state.services.roster
    return str(roster.tokens.token_for(invitation_id(server, user_id)))


def link_token(message: EmailMessage) -> str:
    """The token in the link of the mail's text part."""
    found = LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


def text_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return cast(str, cast(EmailMessage, part).get_content())


def accept(api: Api, token: str) -> dict[str, Any]:
    result: dict[str, Any] = api.data(ACCEPT, {"token": token})["acceptInvitation"]
    return result


def sent_at(admin: Administrator, user_id: str) -> str | None:
    value: str | None = admin.user(user_id)["invitation"]["sentAt"]
    return value


def delivery_statuses(server: ThreadedServer, user_id: str) -> list[str]:
    with server.app.state.services.database.reading() as cursor:
        cursor.execute(
            "SELECT status FROM mail_deliveries WHERE user_id = %s ORDER BY seq", (user_id,)
        )
        return [row["status"] for row in cursor.fetchall()]


def stays(condition: Callable[[], bool], seconds: float) -> None:
    """`condition` holds every time it is checked for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition()
        time.sleep(0.2)


# ---------------------------------------------------------------- the file outbox


def test_a_registration_writes_one_mail_to_the_outbox(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve()
    admin = Administrator(server.api, subject="hr.lead")
    email_address = address()
    user = admin.register("Ana", "Silva", email_address)
    outbox = Path(env["ROSTER_OUTBOX_DIR"])
    wait_for(lambda: any(outbox.glob("*.eml")))

    files = list(outbox.glob("*.eml"))
    assert [f.name for f in files] == [f"{invitation_id(server, user['id'])}.eml"]
    message = parse(files[0].read_bytes())
    to = message["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in to] == [("Ana Silva", email_address)]
    expires = datetime.fromisoformat(user["invitation"]["expiresAt"]).strftime("%Y-%m-%d %H:%M")
    link = PORTAL + token_of(server, user["id"])
    for part in (text_of(message), text_of(message, "html")):
        assert "Ana Silva" in part
        assert "hr.lead" in part
        assert expires in part
    assert link in text_of(message)
    assert html.escape(link, quote=True) in text_of(message, "html")
    wait_for(lambda: sent_at(admin, user["id"]) is not None)


def test_the_link_in_the_mail_accepts_the_invitation(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve()
    user = Administrator(server.api).register("Ana", "Silva", address())
    outbox = Path(env["ROSTER_OUTBOX_DIR"])
    wait_for(lambda: any(outbox.glob("*.eml")))
    (file,) = outbox.glob("*.eml")
    accepted = accept(server.api, link_token(parse(file.read_bytes())))

    assert (accepted["__typename"], accepted["id"], accepted["status"]) == (
        "User",
        user["id"],
        "ACTIVE",
    )


# ---------------------------------------------------------------- a real SMTP server


def test_each_registration_sends_one_message(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    users = [admin.register("Ana", f"No{n}", address()) for n in range(3)]

    wait_for(lambda: mail_server.mailbox.count() >= 3)
    wait_for(lambda: all(sent_at(admin, u["id"]) is not None for u in users))
    assert mail_server.mailbox.recipients() == Counter(u["email"] for u in users)


def test_an_import_sends_one_message_per_row(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_RATE="500")
    importer = Importer(server.api)
    batch = importer.started(people(300))
    assert importer.committed(batch["id"])["progress"]["created"] == 300

    wait_for(lambda: mail_server.mailbox.count() >= 300, within=40)
    time.sleep(1)  # time for a mail too many
    expected = Counter(f"person.{n}@acme.com" for n in range(1, 301))
    assert mail_server.mailbox.recipients() == expected


def test_a_mail_server_that_is_down_gets_the_mail_once_it_is_up(
    serve: Callable[..., ThreadedServer], stopped_mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=stopped_mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("Ana", "Silva", address())
    stays(lambda: sent_at(admin, user["id"]) is None, 2)

    stopped_mail_server.start()

    wait_for(lambda: stopped_mail_server.mailbox.count() >= 1, within=4 * FIRST_RETRY_SECONDS)
    wait_for(lambda: sent_at(admin, user["id"]) is not None)
    assert stopped_mail_server.mailbox.recipients() == Counter([user["email"]])


def test_a_mail_server_that_answers_451_gets_the_mail_again(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    mail_server.mailbox.answer = "451 try later"
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("Ana", "Silva", address())
    wait_for(lambda: mail_server.mailbox.attempts >= 1)
    assert sent_at(admin, user["id"]) is None

    mail_server.mailbox.answer = "250 OK"

    wait_for(lambda: mail_server.mailbox.count() >= 1, within=4 * FIRST_RETRY_SECONDS)
    wait_for(lambda: sent_at(admin, user["id"]) is not None)
    assert mail_server.mailbox.recipients() == Counter([user["email"]])


def test_a_permanent_refusal_is_recorded_and_not_retried(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    mail_server.mailbox.answer = "550 no such user"
    server = serve(ROSTER_SMTP_URL=mail_server.url)
    admin = Administrator(server.api)
    user = admin.register("Ana", "Silva", address())
    wait_for(lambda: delivery_statuses(server, user["id"]) == ["FAILED"])

    time.sleep(FIRST_RETRY_SECONDS + 1.5)  # past the first retry a 4xx would get

    assert mail_server.mailbox.attempts == 1
    assert sent_at(admin, user["id"]) is None
    stored = server.app.state.services.roster.recorder.select_events(UUID(user["id"]))
    assert [e.topic for e in stored if e.topic.endswith(".InvitationUndeliverable")]
    assert not [e.topic for e in stored if e.topic.endswith(".InvitationSent")]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_a_refused_recipient_fails_its_mail_and_the_next_goes_out(
    serve: Callable[..., ThreadedServer], pipelining: bool
) -> None:
    """MAIL, RCPT and DATA go in one write to a server that offers PIPELINING; its answer
    to each is read, and a refusal of any fails that mail alone, as without it."""
    mailbox = Mailbox(pipelining=pipelining)
    mail_server = MailServer(mailbox).start()
    try:
        server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_DELIVERY="off")
        admin = Administrator(server.api)
        gone, kept = address(), address()
        mailbox.unknown.add(gone)
        users = [admin.register("Ana", f"No{n}", mail) for n, mail in enumerate([gone, kept])]
        wait_for(lambda: all(delivery_statuses(server, u["id"]) == ["PENDING"] for u in users))

        server.app.state.services.delivery.start()

        wait_for(lambda: sent_at(admin, users[1]["id"]) is not None)
        wait_for(lambda: delivery_statuses(server, users[0]["id"]) == ["FAILED"])
    finally:
        mail_server.stop()
    assert mailbox.recipients() == Counter([kept])
    (message,) = mailbox.messages
    assert message["To"].addresses[0].addr_spec == kept


def test_a_server_offering_pipelining_gets_each_mail_of_an_import_once(
    serve: Callable[..., ThreadedServer],
) -> None:
    mail_server = MailServer(Mailbox(pipelining=True)).start()
    try:
        server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_RATE="500")
        batch = Importer(server.api).started(people(200))
        assert Importer(server.api).committed(batch["id"])["progress"]["created"] == 200
        wait_for(lambda: mail_server.mailbox.count() >= 200, within=40)
        time.sleep(1)  # time for a mail too many
    finally:
        mail_server.stop()
    assert mail_server.mailbox.recipients() == Counter(
        f"person.{n}@acme.com" for n in range(1, 201)
    )


# ---------------------------------------------------------------- what is not sent


def test_a_resend_before_the_first_mail_sends_only_the_newest(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    user = admin.register("Ana", "Silva", address())
    first_token = token_of(server, user["id"])
    resent = server.api.data(RESEND, {"id": user["id"]}, as_=admin.token)["resendInvitation"]
    assert resent["__typename"] == "User", resent
    newest_token = token_of(server, user["id"])
    wait_for(lambda: delivery_statuses(server, user["id"]) == ["SUPERSEDED", "PENDING"])

    server.app.state.services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 1)
    time.sleep(1.5)  # time for a mail too many

    (message,) = mail_server.mailbox.messages
    assert link_token(message) == newest_token
    refused = accept(server.api, first_token)
    assert refused["__typename"] == "InvalidInvitation"
    assert refused["message"].startswith(REPLACED), refused["message"]
    assert accept(server.api, newest_token)["status"] == "ACTIVE"


def test_a_user_deactivated_before_the_mail_goes_out_gets_none(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    gone = admin.register("Ana", "Silva", address())
    assert admin.deactivate(gone["id"])["__typename"] == "User"
    wait_for(lambda: admin.user(gone["id"])["status"] == "DEACTIVATED")
    later = admin.register("Bea", "Costa", address())

    server.app.state.services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 1)  # mails go out in order
    time.sleep(1.5)

    assert mail_server.mailbox.recipients() == Counter([later["email"]])
    assert sent_at(admin, gone["id"]) is None


def test_a_user_deactivated_while_mails_go_out_gets_none(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(
        ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_RATE="2", ROSTER_MAIL_DELIVERY="off"
    )
    admin = Administrator(server.api)
    users = [admin.register("Ana", f"No{n}", address()) for n in range(4)]
    server.app.state.services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 1)  # the others wait their turn

    assert admin.deactivate(users[-1]["id"])["__typename"] == "User"
    wait_for(lambda: mail_server.mailbox.count() >= 3)
    time.sleep(1.5)  # the last one's turn

    assert mail_server.mailbox.recipients() == Counter(u["email"] for u in users[:-1])


# ---------------------------------------------------------------- pace and crashes


def with_mails_waiting(
    serve: Callable[..., ThreadedServer], mail_server: MailServer, *, rate: str, mails: int
) -> ThreadedServer:
    """A server sending at `rate`, its delivery not started yet, with `mails` waiting."""
    server = serve(
        ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_RATE=rate, ROSTER_MAIL_DELIVERY="off"
    )
    admin = Administrator(server.api)
    for n in range(mails):
        admin.register("Ana", f"No{n}", address())
    return server


def test_mails_go_out_at_the_configured_rate(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = with_mails_waiting(serve, mail_server, rate="20", mails=60)

    server.app.state.services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 60, within=20)

    arrivals = mail_server.mailbox.arrivals
    assert arrivals[-1] - arrivals[0] >= 2.0  # 59 gaps of 1/20 s: about 2.95 s
    assert len(mail_server.mailbox.recipients()) == 60


def test_lanes_share_the_rate_and_send_each_mail_once(
    serve: Callable[..., ThreadedServer], mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 750 a second a process sends over three lanes (threads, each with its own
    claims and connection); together they keep to the rate."""
    assert lanes_for(750) == 3
    monkeypatch.setattr(delivery, "CLAIM_ROWS", 20)  # so that each lane gets some
    server = with_mails_waiting(serve, mail_server, rate="750", mails=150)
    services = server.app.state.services

    services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 150, within=30)
    wait_for(lambda: set(delivery_statuses_all(server)) == {"SENT"})
    time.sleep(1)  # time for a mail too many

    arrivals = mail_server.mailbox.arrivals
    assert arrivals[-1] - arrivals[0] >= 0.8 * 149 / 750  # 149 gaps of 1/750 s
    assert set(mail_server.mailbox.recipients().values()) == {1}
    assert len(mail_server.mailbox.recipients()) == 150
    assert 1 < len({row["claimed_by"] for row in delivery_rows(server)}) <= 3
    stored = services.roster.recorder.select_notifications(start=1, limit=10_000)
    assert sum(n.topic.endswith(".InvitationSent") for n in stored) == 150


def test_a_lane_keeps_its_connection_from_claim_to_claim(
    serve: Callable[..., ThreadedServer], mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "CLAIM_ROWS", 5)
    server = with_mails_waiting(serve, mail_server, rate="200", mails=20)  # one lane

    server.app.state.services.delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 20)

    assert mail_server.mailbox.connections == 1  # four claims, one connection


def delivery_rows(server: ThreadedServer) -> list[dict[str, Any]]:
    with server.app.state.services.database.reading() as cursor:
        cursor.execute("SELECT * FROM mail_deliveries ORDER BY seq")
        return cast(list[dict[str, Any]], cursor.fetchall())


def delivery_statuses_all(server: ThreadedServer) -> list[str]:
    return [row["status"] for row in delivery_rows(server)]


def launch_with_short_claims(env: dict[str, str], workdir: Path) -> ServerProcess:
    """`uvicorn server:app` in its own process, its delivery claims lasting a few seconds."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    code = (
        "import sys, uvicorn, jobs.delivery as d; "
        f"d.CLAIM_SECONDS = {SHORT_CLAIM_SECONDS}; "
        "uvicorn.run('server:app', host='127.0.0.1', port=int(sys.argv[1]), "
        "log_level='warning')"
    )
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(port)],
            cwd=ROOT,
            env={**process_env, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log)
    server.wait_ready()
    return server


def test_rebuilds_while_two_processes_send_mails_send_each_mail_once(
    serve: Callable[..., ThreadedServer], mail_server: MailServer, env: dict[str, str]
) -> None:
    """A rebuild must not forget which mails are claimed or handed over: another process
    would take them and send them again."""
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_RATE="20")
    admin = Administrator(server.api)
    users = [admin.register("Ana", f"No{n}", address()) for n in range(60)]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    process_env = {**inherited, **env, "ROSTER_SMTP_URL": mail_server.url}
    mailer = subprocess.Popen(
        [sys.executable, "cli.py", "mailer"],
        cwd=ROOT,
        env={**process_env, "ROSTER_MAIL_RATE": "20"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rebuilds = 0
    try:
        while mail_server.mailbox.count() < len(users) and rebuilds < 10:
            rebuilt = subprocess.run(
                [sys.executable, "-m", "cli", "projections", "rebuild"],
                cwd=ROOT,
                env=process_env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert rebuilt.returncode == 0, rebuilt.stderr
            rebuilds += 1
        wait_for(lambda: all(sent_at(admin, user["id"]) for user in users), within=30)
        stays(lambda: mail_server.mailbox.count() == len(users), seconds=1.0)
    finally:
        mailer.send_signal(signal.SIGTERM)
        mailer.wait(timeout=30)

    assert rebuilds >= 2, "the mails went out before a rebuild could meet them"
    assert set(mail_server.mailbox.recipients().values()) == {1}


def test_a_killed_process_leaves_its_mails_to_the_next_without_sending_twice(
    env: dict[str, str], tmp_path: Path, mail_server: MailServer
) -> None:
    slow = {
        **env,
        "ROSTER_MAIL_DELIVERY": "on",
        "ROSTER_SMTP_URL": mail_server.url,
        "ROSTER_MAIL_RATE": "5",
    }
    first = launch_with_short_claims(slow, tmp_path)
    try:
        admin = Administrator(first.api)
        emails = [admin.register("Ana", f"No{n}", address())["email"] for n in range(40)]
        wait_for(lambda: mail_server.mailbox.count() >= 5)
        first.process.kill()  # SIGKILL: no shutdown of any kind
        first.process.wait()
    finally:
        first.stop()
    received_at_kill = mail_server.mailbox.count()
    assert received_at_kill < 40

    second = launch_with_short_claims(slow, tmp_path)
    try:
        wait_for(lambda: set(mail_server.mailbox.recipients()) == set(emails), within=40)
        time.sleep(1)  # time for a mail too many
    finally:
        second.stop()

    received = mail_server.mailbox.recipients()
    assert set(received) == set(emails)
    twice = [mailbox for mailbox, times in received.items() if times > 1]
    assert len(twice) <= 2, twice
    assert max(received.values()) <= 2


def test_while_a_worker_holds_an_import_mails_go_out_at_most_10_a_second(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    services = with_mails_waiting(serve, mail_server, rate="1000", mails=20).app.state.services
    # The lease another process's worker holds while it reads or commits a batch.
    other_worker = Leases(services.database, "another-process", seconds=30)
    lease = other_worker.hold(uuid4())
    assert lease is not None

    with lease:
        services.delivery.start()
        wait_for(lambda: mail_server.mailbox.count() >= 20, within=20)

    arrivals = mail_server.mailbox.arrivals
    assert arrivals[-1] - arrivals[0] >= 1.5  # 19 gaps of 1/10 s; at 1000/s, 0.02 s


def test_roster_mailer_sends_the_mails_of_servers_that_do_not(
    serve: Callable[..., ThreadedServer], mail_server: MailServer, env: dict[str, str]
) -> None:
    server = serve(ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    users = [admin.register("Ana", f"No{n}", address()) for n in range(3)]
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    mailer = subprocess.Popen(
        [sys.executable, "cli.py", "mailer"],
        cwd=ROOT,
        env={**process_env, **env, "ROSTER_SMTP_URL": mail_server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: mail_server.mailbox.count() >= 3, within=30)
        wait_for(lambda: all(sent_at(admin, user["id"]) for user in users))
    finally:
        mailer.send_signal(signal.SIGTERM)
        output, _ = mailer.communicate(timeout=20)

    assert mailer.returncode == 0, output
    assert "Roster mail delivery on" in output
    assert mail_server.mailbox.recipients() == Counter(user["email"] for user in users)
