"""The PostgreSQL restart drill, shared by its test and by `bench/drill.py`.

A Roster server process (`uvicorn server:app`, its import worker and mail delivery on),
with `roster worker` and `roster mailer` processes beside it if asked, runs on a
PostgreSQL server of the drill's own (`PrivateServer`) and sends to an SMTP server in
this process. The drill imports a file of `rows` people and restarts the database in
the middle of the commit (`pg_ctl stop -m fast`, a pause, `pg_ctl start`), and again in
the middle of the mail delivery that follows, asking /health all along. Roster's
processes are never restarted. What the store and the mailbox hold at the end says
whether anything was lost or done twice: `Figures` keeps it all, for the test to assert
and for the bench to print.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from psycopg import sql

from bootstrap import build_services
from domain.imports.batch import ImportBatch
from settings import Settings
from tests.api.importing import Importer, people
from tests.integration.private_postgres import PrivateServer
from tests.integration.probes import HealthProbe
from tests.integration.roster_processes import RosterProcesses
from tests.mail import Mailbox, MailServer
from tests.support import TEST_SECRET, ServerProcess


@dataclass
class Restart:
    """One restart of the database (times from time.time()): down from `stopped` (when
    `pg_ctl stop` had returned) to `started` (when `pg_ctl start` was called)."""

    during: str
    stopped: float
    started: float
    #: The statuses /health answered while the database was down.
    health_while_down: Counter[int]
    #: When /health was first answered 503 after the stop, and 200 after the start.
    first_503: float | None
    first_200: float | None
    #: What was done when the database went down: rows registered, mails received.
    rows_before: int
    mails_before: int

    @property
    def downtime(self) -> float:
        return self.started - self.stopped

    @property
    def recovery(self) -> float | None:
        """From the database's start to /health answering 200 again."""
        return None if self.first_200 is None else self.first_200 - self.started


@dataclass
class Figures:
    rows: int
    restarts: list[Restart] = field(default_factory=list)
    batch_status: str = ""
    #: (when, rows created) of each range the commit recorded (its RowsRegistered events).
    ranges: list[tuple[float, int]] = field(default_factory=list)
    row_statuses: Counter[str] = field(default_factory=Counter)
    users: int = 0
    distinct_emails: int = 0
    #: Users that are the file's rows' own (`ImportBatch.user_id_for`).
    derived_users: int = 0
    mail_times: list[float] = field(default_factory=list)
    recipients: Counter[str] = field(default_factory=Counter)
    invitations: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[str] = field(default_factory=Counter)
    #: InvitationSent events recorded, and the users they are recorded on.
    sent_events: int = 0
    users_sent: int = 0
    commit_seconds: float = 0.0
    delivery_seconds: float = 0.0
    #: Whether every Roster process that the drill started ran to its end.
    processes_alive: bool = False

    @property
    def mails(self) -> int:
        return len(self.mail_times)

    @property
    def twice(self) -> list[str]:
        """Recipients and invitations mailed more than once."""
        return [k for c in (self.recipients, self.invitations) for k, n in c.items() if n > 1]

    def ranges_between(self, start: float, end: float) -> int:
        return sum(1 for at, _ in self.ranges if start <= at < end)

    def mails_between(self, start: float, end: float) -> int:
        return sum(1 for at in self.mail_times if start <= at < end)


@dataclass
class Drill:
    """What the drill runs on: see `drill_setup`."""

    database: PrivateServer
    server: ServerProcess
    mailbox: Mailbox
    processes: RosterProcesses


@contextmanager
def drill_setup(
    workdir: Path, *, workers: int = 0, mailers: int = 0, lease: str = "30s"
) -> Iterator[Drill]:
    """A private PostgreSQL server, an SMTP server, a Roster server process on them, and
    `workers` `roster worker` and `mailers` `roster mailer` processes beside it, import
    leases lasting `lease`; all stopped (and the database removed) at the end."""
    with ExitStack() as stack:
        database = PrivateServer.create()
        stack.callback(database.remove)
        database.start()
        mails = MailServer(Mailbox(keep=False)).start()
        stack.callback(mails.stop)
        mailbox = mails.mailbox
        env = {
            "ROSTER_DATABASE_URL": database.url,
            "ROSTER_JWT_SECRET": TEST_SECRET,
            "ROSTER_SMTP_URL": mails.url,
            "ROSTER_MAIL_RATE": "1000",
            "ROSTER_MAIL_DELIVERY": "on",
            "ROSTER_OUTBOX_DIR": str(workdir / "outbox"),
            "ROSTER_ERASURE_LEDGER": str(workdir / "erasures.jsonl"),
            "ROSTER_IMPORT_LEASE": lease,
        }
        server = ServerProcess.launch(env, workdir)
        stack.callback(server.stop)
        processes = stack.enter_context(RosterProcesses(env, workdir))
        for _ in range(workers):
            processes.start("worker")
        for _ in range(mailers):
            processes.start("mailer")
        yield Drill(database, server, mailbox, processes)


def run_drill(
    workdir: Path,
    rows: int,
    *,
    workers: int = 0,
    mailers: int = 0,
    lease: str = "30s",
    down_seconds: float = 5.0,
    wait_seconds: float = 600.0,
    say: Callable[[str], None] = lambda _: None,
) -> Figures:
    """The whole drill: see the module's docstring."""
    figures = Figures(rows)
    with drill_setup(workdir, workers=workers, mailers=mailers, lease=lease) as drill:
        importer, mailbox = Importer(drill.server.api), drill.mailbox
        with HealthProbe(drill.server.base_url) as probe:
            say(f"Uploading {rows} rows")
            batch_id = importer.start(people(rows), filename="drill.csv")["id"]
            importer.wait_for(batch_id, "IN_REVIEW", timeout=wait_seconds)
            chosen = importer.set_access(batch_id, mode="CUSTOMIZE", rows=[])
            assert chosen["__typename"] == "ImportBatch", chosen
            commit_started = time.time()
            assert importer.commit(batch_id)["status"] == "COMMITTING"
            say("Committing; the database goes down once a fifth of the rows are registered")
            _until(lambda: _processed(importer, batch_id) >= rows // 5, wait_seconds)

            def restart(during: str) -> None:
                before = (_processed(importer, batch_id), mailbox.count())
                figures.restarts.append(
                    _restart(drill.database, probe, during, before, down_seconds)
                )
                say(f"Restarted during the {during}: {_shown(figures.restarts[-1])}")

            restart("commit")
            done = importer.wait_for(batch_id, "COMPLETED", "CANCELLED", timeout=wait_seconds)
            figures.commit_seconds = time.time() - commit_started
            figures.batch_status = done["status"]
            say(f"{done['status']} in {figures.commit_seconds:.1f} s; mails go out")
            # Mid-delivery: once a fifth of the mails still to send then went out.
            after_commit = mailbox.count()
            _until(
                lambda: mailbox.count() >= after_commit + (rows - after_commit) // 5, wait_seconds
            )
            restart("delivery")
            _until(lambda: _all_sent(drill.database) or mailbox.count() > rows, wait_seconds)
            figures.delivery_seconds = time.time() - commit_started
            time.sleep(1)  # time for a mail too many
        figures.processes_alive = drill.server.process.poll() is None and drill.processes.alive()
        _tally(figures, drill.database, batch_id, mailbox)
    return figures


def _restart(
    database: PrivateServer,
    probe: HealthProbe,
    during: str,
    before: tuple[int, int],
    down_seconds: float,
) -> Restart:
    database.stop()
    stopped = time.time()
    _until(lambda: probe.first(503, stopped) is not None, 30)
    time.sleep(max(0.0, stopped + down_seconds - time.time()))
    started = time.time()
    database.start()
    _until(lambda: probe.first(200, started) is not None, 120)
    return Restart(
        during,
        stopped,
        started,
        probe.between(stopped, started),
        probe.first(503, stopped),
        probe.first(200, started),
        *before,
    )


def _shown(restart: Restart) -> str:
    return (
        f"down {restart.downtime:.1f} s, health 503 {restart.health_while_down[503]} times, "
        f"200 again {restart.recovery:.2f} s after the start; "
        f"{restart.rows_before} rows and {restart.mails_before} mails before"
    )


def _processed(importer: Importer, batch_id: str) -> int:
    return int(importer.batch(batch_id)["progress"]["processed"])


def _all_sent(database: PrivateServer) -> bool:
    with database.connect() as connection:
        statuses = connection.execute("SELECT DISTINCT status FROM mail_deliveries").fetchall()
    return [row[0] for row in statuses] == ["SENT"]


def _until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {within:.0f} s in vain.")
        time.sleep(0.1)


def _tally(figures: Figures, database: PrivateServer, batch_id: str, mailbox: Mailbox) -> None:
    """What the store and the mailbox hold at the end."""
    settings = {"ROSTER_DATABASE_URL": database.url, "ROSTER_JWT_SECRET": TEST_SECRET}
    services = build_services(Settings.from_env(settings))
    try:
        roster, batch = services.roster, UUID(batch_id)
        for stored in roster.recorder.select_events(batch):
            event: Any = roster.mapper.to_domain_event(stored)
            if isinstance(event, ImportBatch.RowsRegistered):
                figures.ranges.append((event.timestamp.timestamp(), len(event.created)))
        with services.database.reading() as cursor:
            cursor.execute(
                "SELECT status, count(*) AS n FROM import_rows WHERE batch_id = %s GROUP BY status",
                (batch_id,),
            )
            figures.row_statuses = Counter({r["status"]: r["n"] for r in cursor.fetchall()})
            cursor.execute("SELECT id, email FROM users")
            users = cursor.fetchall()
            cursor.execute("SELECT status, count(*) AS n FROM mail_deliveries GROUP BY status")
            figures.deliveries = Counter({r["status"]: r["n"] for r in cursor.fetchall()})
        figures.users = len(users)
        figures.distinct_emails = len({user["email"].lower() for user in users})
        derived = {str(ImportBatch.user_id_for(batch, n)) for n in range(1, figures.rows + 1)}
        figures.derived_users = len(derived & {user["id"] for user in users})
        events = sql.Identifier(roster.recorder.events_table_name)  # type: ignore[attr-defined]
    finally:
        services.close()
    with database.connect() as connection:
        found = connection.execute(
            sql.SQL(
                "SELECT count(*), count(DISTINCT originator_id) FROM {} WHERE topic LIKE %s"
            ).format(events),
            ("%.InvitationSent",),
        ).fetchone()
    figures.sent_events, figures.users_sent = found or (0, 0)
    figures.mail_times = mailbox.times()
    figures.recipients, figures.invitations = mailbox.recipients(), mailbox.invitations()
