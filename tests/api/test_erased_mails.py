"""An erased person's invitation mails: those waiting are never sent, and the files the
file outbox wrote of them are deleted by the delivery worker, also when the erasure was
applied while no worker ran (as after a crash)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from bootstrap import Services
from tests.api.operations import Administrator
from tests.api.test_invitation_mail import address, delivery_statuses, wait_for
from tests.mail import MailServer
from tests.support import ThreadedServer


def services_of(server: ThreadedServer) -> Services:
    services: Services = server.app.state.services
    return services


def erase(server: ThreadedServer, user_id: str) -> None:
    services = services_of(server)
    services.roster.erase_user(UUID(user_id), actor="dpo", reason="request 14", rows=[])
    services.read_model.catch_up()


def test_an_erased_persons_waiting_mail_is_never_sent(
    serve: Callable[..., ThreadedServer], mail_server: MailServer
) -> None:
    server = serve(ROSTER_SMTP_URL=mail_server.url, ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    erased = admin.register("Ana", "Silva", address())
    later = admin.register("Bea", "Costa", address())
    erase(server, erased["id"])

    services_of(server).delivery.start()
    wait_for(lambda: mail_server.mailbox.count() >= 1)  # mails go out in order
    wait_for(lambda: delivery_statuses(server, erased["id"]) == ["ERASED"])

    assert mail_server.mailbox.recipients() == Counter([later["email"]])


def test_the_outbox_file_of_an_erased_persons_mail_is_deleted(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    server = serve()
    admin = Administrator(server.api)
    erased = admin.register("Ana", "Silva", address())
    kept = admin.register("Bea", "Costa", address())
    outbox = Path(env["ROSTER_OUTBOX_DIR"])
    wait_for(lambda: delivery_statuses(server, kept["id"]) == ["SENT"])
    wait_for(lambda: delivery_statuses(server, erased["id"]) == ["SENT"])
    assert len(list(outbox.glob("*.eml"))) == 2

    erase(server, erased["id"])

    wait_for(lambda: delivery_statuses(server, erased["id"]) == ["ERASED"])
    files = list(outbox.glob("*"))
    assert len(files) == 1
    assert kept["email"].encode() in files[0].read_bytes()


def test_files_of_an_erasure_applied_while_no_worker_ran_are_deleted_on_start(
    serve: Callable[..., ThreadedServer], env: dict[str, str]
) -> None:
    """The mail's file, and a temporary file of it that a crash left midway through
    writing it."""
    server = serve(ROSTER_MAIL_DELIVERY="off")
    admin = Administrator(server.api)
    erased = admin.register("Ana", "Silva", address())
    outbox = Path(env["ROSTER_OUTBOX_DIR"])
    with services_of(server).database.reading() as cursor:
        cursor.execute(
            "SELECT invitation_id FROM mail_deliveries WHERE user_id = %s", (erased["id"],)
        )
        found = cursor.fetchone()
    assert found is not None
    outbox.mkdir(parents=True)
    for name in (f"{found['invitation_id']}.eml", f"{found['invitation_id']}.k2x9_1.tmp"):
        (outbox / name).write_text(f"To: {erased['email']}\r\n")
    erase(server, erased["id"])
    assert delivery_statuses(server, erased["id"]) == ["ERASING"]

    services_of(server).delivery.start()

    wait_for(lambda: delivery_statuses(server, erased["id"]) == ["ERASED"])
    assert list(outbox.iterdir()) == []
