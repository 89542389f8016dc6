"""Invitation benchmark: imports the same N-row file twice over HTTP against the real server,
once with mail delivery paused and once delivering every invitation to a local SMTP server that
accepts everything, and prints how long until every invitation is delivered, mails per second
per sending process against the goal, where the senders' time goes by stage, whether the rate
was kept, and what delivering costs the import. Timings are printed for comparison, never
asserted.

    .venv/bin/python bench/invitations.py --rows 100000 [--database-url URL] [--mail-rate 5000]
        [--mailers N] [--no-pipelining] [--csv PATH] [--keep]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/search.py, next to this file
from search import running_server  # noqa: E402

from domain.profiles import Profile  # noqa: E402
from settings import Settings  # noqa: E402
from tests.mail import Mailbox, MailServer  # noqa: E402
from tokens import issue_token  # noqa: E402

# bench/import.py: its file, its steps over HTTP, its store ("import" is a keyword).
importing = importlib.import_module("import")

POLL_SECONDS = 0.5
SHOW_SECONDS = 10.0
#: Waiting for mails stops when none came for this long, or at the limit.
STALL_SECONDS = 120.0
WAIT_LIMIT = 4 * 3600.0
SAMPLE = 500  # the server's largest page
#: Mails a second that one sending process should reach, after the import is committed.
GOAL = 1500.0
SENT = f"""query Sent {{ users(first: {SAMPLE}) {{
  edges {{ node {{ invitation {{ sentAt }} }} }} }} }}"""
STATUSES = "SELECT status, count(*) FROM mail_deliveries GROUP BY status"
LOG_LINE = re.compile(r"^\S+ \S+ (INFO|WARNING|ERROR|CRITICAL) ")
#: The delivery's own report of where its lanes' time went (jobs.delivery.Stages).
STAGES_LINE = re.compile(
    r"Mail delivery: (\d+) mails handed over .* by (\d+) lanes(.*?); .*: (.*)\.$"
)
STAGE = re.compile(r"(\w+) ([\d.]+) ms")


@contextmanager
def mail_server(pipelining: bool) -> Iterator[tuple[Mailbox, str]]:
    """tests/mail.py's SMTP server, counting only (times on this bench's clock), offering
    PIPELINING as most mail servers do unless told not to, on uvloop (it shares the
    machine with the server measured); yields its smtp:// URL."""
    mailbox = Mailbox(keep=False, clock=time.perf_counter, pipelining=pipelining)
    server = MailServer(mailbox, loop=uvloop.new_event_loop()).start()
    try:
        yield server.mailbox, server.url
    finally:
        server.stop()


@dataclass
class Run:
    """One import: when each step started and ended (perf_counter), and what it left."""

    name: str
    started: dict[str, float] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    sent_in_sample: int = 0
    sent_lag: float = 0.0
    #: CPU seconds of the server and of this process (the SMTP server) after COMPLETED.
    cpu_after: tuple[float, float] = (0.0, 0.0)
    peak_rss: int = 0
    log: list[str] = field(default_factory=list)
    #: The log lines of the `roster mailer` processes, if any.
    mailer_log: list[str] = field(default_factory=list)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """As bench/import.py's Figures.timed, which its import_over_http calls."""
        self.started[phase] = time.perf_counter()
        yield
        self.phases[phase] = time.perf_counter() - self.started[phase]

    @property
    def commit(self) -> tuple[float, float]:
        """When commitImport was sent and when the batch was seen COMPLETED."""
        start = self.started["commit -> COMPLETED"]
        return start, start + self.phases["commit -> COMPLETED"]


# ---------------------------------------------------------------- the server


@contextmanager
def store(args: argparse.Namespace, scratch: Path, run: str) -> Iterator[str]:
    """A fresh store per run: bench/import.py's fresh_store, with a SQLite file of its own
    (`-paused` or `-delivering` added to the name given)."""
    given: str | None = args.database_url
    if given is not None and not given.startswith("sqlite:///"):
        with importing.fresh_store(args, scratch) as url:
            yield str(url)
        return
    base = Path(given.removeprefix("sqlite:///")) if given else scratch / "roster.db"
    path = base.with_name(f"{base.stem}-{run}{base.suffix}").resolve()
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    yield f"sqlite:///{path}"


def logging_to(path: Path) -> dict[str, str]:
    """The server's log lines (INFO and up, with the thread) into `path`, through uvicorn's
    UVICORN_LOG_CONFIG; the server sets up logging only when nobody did."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s [%(threadName)s] %(name)s %(message)s"}
        },
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(path), "formatter": "plain"}
        },
        "root": {"level": "INFO", "handlers": ["file"]},
    }
    config_path = path.with_suffix(".json")
    config_path.write_text(json.dumps(config))
    return {"UVICORN_LOG_CONFIG": str(config_path)}


@contextmanager
def admin_client(url: str, secret: str, env: dict[str, str]) -> Iterator[httpx.Client]:
    settings = Settings.from_env({"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret})
    admin = [Profile.USER_MANAGEMENT_ADMIN]
    token = issue_token(settings, subject="bench", profiles=admin, ttl=timedelta(hours=6))
    headers = {"authorization": f"Bearer {token}"}
    with (
        running_server(url, secret, env) as base,
        httpx.Client(base_url=base, headers=headers, timeout=600) as client,
    ):
        yield client


def server_cpu() -> float:
    """CPU seconds (user and system) of the server and the mailers this bench started."""
    seconds = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and (b"uvicorn" in command or b"mailer" in command):
            seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


@contextmanager
def mailers(count: int, url: str, secret: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """`roster mailer` processes on the store, sending instead of the server."""
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    process_env |= {"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret, **env}
    with log.open("ab") as output:
        processes = [
            subprocess.Popen(
                [sys.executable, "cli.py", "mailer"],
                cwd=ROOT,
                env=process_env,
                stdout=output,
                stderr=output,
            )
            for _ in range(count)
        ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def delivery_statuses(url: str) -> dict[str, int]:
    """mail_deliveries' rows by status, read from the store."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as db:
            rows = db.execute(STATUSES).fetchall()
    else:
        with psycopg.connect(url) as connection:
            rows = connection.execute(STATUSES).fetchall()
    return {str(status): int(n) for status, n in rows}


def sent_in_sample(client: httpx.Client, run: Run) -> None:
    """How many of the newest users' invitations show a sentAt once delivery is over, waiting
    up to STALL_SECONDS for the read model to include the last InvitationSent events."""
    expected, started = min(SAMPLE, int(run.progress["created"])), time.perf_counter()
    while time.perf_counter() - started < STALL_SECONDS:
        edges = importing.post(client, SENT, "users")["users"]["edges"]
        run.sent_in_sample = sum(edge["node"]["invitation"]["sentAt"] is not None for edge in edges)
        if run.sent_in_sample >= expected:
            break
        time.sleep(POLL_SECONDS)
    run.sent_lag = time.perf_counter() - started


# ---------------------------------------------------------------- waiting for mails


def await_delivery(mailbox: Mailbox, url: str, run: Run) -> None:
    """Until a mail came for every user created and none is PENDING, or delivery stalled."""
    expected = int(run.progress["created"])
    started = shown = last_change = time.perf_counter()
    last_count = 0
    while (now := time.perf_counter()) - started < WAIT_LIMIT:
        received = mailbox.count()
        if received >= expected and none_pending(url, run):
            return
        if received != last_count:
            last_change, last_count = now, received
        elif now - last_change > STALL_SECONDS:
            print(f"  no mail for {STALL_SECONDS:.0f} s; giving up")
            return
        if now - shown >= SHOW_SECONDS:
            none_pending(url, run)
            print(
                f"  mails {received:>9,} of {expected:,}  {mail_rate(mailbox, now):>6,.0f}/s "
                f"over the last {SHOW_SECONDS:.0f} s   mail_deliveries {run.statuses}"
            )
            shown = now
        time.sleep(POLL_SECONDS)
    print(f"  gave up after {WAIT_LIMIT:.0f} s")


def none_pending(url: str, run: Run) -> bool:
    run.statuses = delivery_statuses(url)
    return run.statuses.get("PENDING", 0) == 0


def mail_rate(mailbox: Mailbox, now: float) -> float:
    return sum(t > now - SHOW_SECONDS for t in mailbox.times()[-100_000:]) / SHOW_SECONDS


# ---------------------------------------------------------------- the runs


def import_once(
    args: argparse.Namespace, scratch: Path, run: Run, env: dict[str, str], mailbox: Mailbox | None
) -> None:
    """The import over HTTP on a fresh store; with a mailbox, then the delivery of its mails."""
    print(f"\n{run.name}:")
    log = scratch / f"server-{run.name}.log"
    secret = secrets.token_urlsafe(48)
    count = args.mailers if mailbox is not None else 0
    if count:
        env = env | {"ROSTER_MAIL_DELIVERY": "off"}  # the mailers send, not the server
    mailer_log = scratch / f"mailers-{run.name}.log"
    with (
        store(args, scratch, run.name) as url,
        admin_client(url, secret, env | logging_to(log)) as c,
        mailers(count, url, secret, env, mailer_log),
    ):
        importing.import_over_http(c, args.csv_path, run)
        if mailbox is not None:
            cpu = server_cpu(), time.process_time()
            await_delivery(mailbox, url, run)
            run.cpu_after = server_cpu() - cpu[0], time.process_time() - cpu[1]
            sent_in_sample(c, run)
        run.statuses = delivery_statuses(url)
        run.peak_rss = importing.server_memory("VmHWM")
    run.log = log.read_text(errors="replace").splitlines()
    if mailer_log.exists():
        run.mailer_log = mailer_log.read_text(errors="replace").splitlines()


def run_both(args: argparse.Namespace, scratch: Path) -> tuple[Run, Run, Mailbox]:
    paused, delivering = Run("paused"), Run("delivering")
    with mail_server(args.pipelining) as (mailbox, smtp_url):
        env = {"ROSTER_SMTP_URL": smtp_url, "ROSTER_MAIL_RATE": str(args.mail_rate)}
        import_once(args, scratch, paused, env | {"ROSTER_MAIL_DELIVERY": "off"}, None)
        if mailbox.count():
            print(f"  {mailbox.count():,} mails came while delivery was paused")
        import_once(args, scratch, delivering, env | {"ROSTER_MAIL_DELIVERY": "on"}, mailbox)
    return paused, delivering, mailbox


# ---------------------------------------------------------------- the report


def import_table(paused: Run, delivering: Run) -> None:
    """The import's steps, paused and delivering, and how much longer delivering took."""
    print(f"\n{'import (seconds)':<30} {'paused':>10} {'delivering':>11} {'difference':>11}")
    for phase in [*paused.phases, "upload to COMPLETED"]:
        before, after = (
            run.phases.get(phase, sum(run.phases.values())) for run in (paused, delivering)
        )
        change = f"{(after - before) / before:+.0%}" if before else ""
        print(f"{phase:<30} {before:10.2f} {after:11.2f} {change:>11}")
    for run in (paused, delivering):
        created, commit = int(run.progress["created"]), run.phases["commit -> COMPLETED"]
        print(
            f"  {run.name}: {created:,} users created, commit {created / commit:,.0f} users/s, "
            f"server peak RSS (VmHWM) {run.peak_rss / 2**20:,.0f} MiB"
        )


def delivery_table(run: Run, mailbox: Mailbox, args: argparse.Namespace) -> None:
    arrivals, created = sorted(mailbox.times()), int(run.progress["created"])
    if not arrivals:
        print("\nNo mail arrived.")
        return
    start, done = run.commit
    first, last = arrivals[0], arrivals[-1]
    during = sum(t <= done for t in arrivals)
    after = len(arrivals) - during
    invitations, recipients = mailbox.invitations(), mailbox.recipients()
    twice = sum(n > 1 for n in invitations.values())
    processes = args.mailers or 1
    senders = f"{args.mailers} roster mailer processes" if args.mailers else "the server"
    offer = "with" if args.pipelining else "without"
    print(
        f"\nDelivery by {senders} (ROSTER_MAIL_RATE {args.mail_rate:g}/s each) to an SMTP "
        f"server {offer} PIPELINING"
    )
    lines = [
        ("mails received / users created", f"{len(arrivals):,} / {created:,}"),
        (
            "distinct Message-IDs / recipients",
            f"{len(invitations):,} / {len(recipients):,}",
        ),
        ("Message-IDs received twice or more", f"{twice:,}"),
        ("recipients with 2+ mails", f"{sum(n > 1 for n in recipients.values()):,}"),
        ("commit start -> first mail", f"{first - start:.2f} s"),
        ("commit start -> last mail", f"{last - start:.2f} s"),
        ("COMPLETED -> last mail", f"{last - done:.2f} s"),
        ("mails/s, first to last mail", per_second(len(arrivals), last - first)),
        ("mails/s while the commit ran", f"{per_second(during, done - start)} ({during:,} mails)"),
        ("mails/s after COMPLETED", f"{per_second(after, last - done)} ({after:,} mails)"),
        (
            "busiest second (the rate set)",
            f"{busiest_second(arrivals):,} mails ({args.mail_rate * processes:,.0f} at most)",
        ),
        (
            "CPU per mail after COMPLETED",
            f"server and mailers {cpu_ms(run.cpu_after[0], after)}, "
            f"this process (SMTP server) {cpu_ms(run.cpu_after[1], after)}",
        ),
        ("mail_deliveries at the end", str(run.statuses)),
        (
            f"newest {SAMPLE} users with a sentAt",
            f"{run.sent_in_sample} (read model seen after {run.sent_lag:.1f} s more)",
        ),
    ]
    for label, value in lines:
        print(f"  {label:<36} {value}")
    seconds = last - done
    rate = after / seconds / processes if seconds > 0 and after else 0.0
    verdict = "met" if rate >= GOAL else "NOT met"
    print(
        f"\nMails/s per sending process after COMPLETED: {rate:,.0f} "
        f"(goal >= {GOAL:,.0f}/s: {verdict})"
    )
    stage_table([*run.log, *run.mailer_log])


def busiest_second(arrivals: list[float]) -> int:
    """The most mails that arrived within any one second (arrivals sorted)."""
    most, first = 0, 0
    for last, arrival in enumerate(arrivals):
        while arrival - arrivals[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def stage_table(log: list[str]) -> None:
    """Where the senders' lanes spent their time, per mail, from the delivery's own log
    lines, leaving out those of the mails sent while the import ran (10 a second)."""
    mails, lanes, seconds = 0, 0, dict[str, float]()
    for line in log:
        if (found := STAGES_LINE.search(line)) and "import" not in found.group(3):
            count = int(found.group(1))
            mails += count
            lanes = max(lanes, int(found.group(2)))
            for stage, ms in STAGE.findall(found.group(4)):
                seconds[stage] = seconds.get(stage, 0.0) + float(ms) * count / 1000
    if not mails:
        print("No delivery report in the senders' logs (roster mailer logs only warnings).")
        return
    total = sum(seconds.values())
    print(f"Senders' lane time per mail by stage ({lanes} lanes in each process, {mails:,} mails):")
    for stage, spent in seconds.items():
        print(f"  {stage:<8} {spent * 1000 / mails:8.3f} ms  {spent / total:5.0%}")
    print(
        "  (pace: waiting for the rate; claim: claiming and looking again; build: the message;"
        " send: the SMTP exchange; record: SENT and InvitationSent)"
    )


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}" if seconds > 0 else "-"


def cpu_ms(seconds: float, mails: int) -> str:
    return f"{seconds * 1000 / mails:.2f} ms" if mails else "-"


def log_summary(run: Run) -> None:
    levels = Counter(m.group(1) for line in run.log if (m := LOG_LINE.match(line)))
    locked = sum("locked" in line.lower() for line in run.log)
    print(
        f"Server log, {run.name}: {len(run.log):,} lines {dict(levels)}; {locked} mention 'locked'"
    )
    problems = Counter(
        re.sub(r"[0-9a-f-]{36}", "<id>", line.split(" ", 3)[-1])
        for line in run.log
        if " WARNING " in line or " ERROR " in line
    )
    for message, n in problems.most_common(5):
        print(f"  {n:>6}x {message[:150]}")


# ---------------------------------------------------------------- main


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file (100000)")
    parser.add_argument(
        "--database-url",
        help="sqlite:///path (two files beside it), or postgresql://user@host:port/db to create "
        "a fresh database per run on that server (default: SQLite files in a temporary directory)",
    )
    parser.add_argument(
        "--mail-rate",
        type=float,
        default=5000.0,
        help="ROSTER_MAIL_RATE, mails per second at most; above 0 (5000: above what one "
        "process sends, so that the figure is the process's own)",
    )
    parser.add_argument(
        "--mailers",
        type=int,
        default=0,
        help="send from this many `roster mailer` processes instead of the server (0)",
    )
    parser.add_argument(
        "--no-pipelining",
        dest="pipelining",
        action="store_false",
        help="the SMTP server does not offer PIPELINING (aiosmtpd as it is): each mail then "
        "costs four round trips instead of two",
    )
    parser.add_argument("--csv", help="import this file instead of writing one")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (file, logs) and PostgreSQL databases",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the file (1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    scratch = Path(tempfile.mkdtemp(prefix="roster-invitations-bench-"))
    try:
        started = time.perf_counter()
        args.csv_path = importing.prepare_csv(args, scratch, importing.Figures())
        paused, delivering, mailbox = run_both(args, scratch)
        import_table(paused, delivering)
        delivery_table(delivering, mailbox, args)
        for run in (paused, delivering):
            log_summary(run)
        print(f"Whole bench: {time.perf_counter() - started:.0f} s")
    finally:
        if args.keep:
            print(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
