"""PostgreSQL restart drill: restarts the database in the middle of a 100,000-row commit and
again in the middle of the mail delivery that follows, under a running Roster server
(import worker and mail delivery on, optionally with `roster worker` and `roster mailer`
processes beside it), and prints what it saw: how long the database was down, when
/health said 503 and 200 again, when the commit and the mails went on, and whether any
row or mail was lost or doubled. Figures are printed, never asserted (the suite's
tests/integration/test_database_restart.py asserts the same drill on 4,000 rows).

The database is a PostgreSQL server of the drill's own, made with initdb in a temporary
folder on a free port and removed at the end; the shared server is never touched.

    .venv/bin/python bench/drill.py [--rows 100000] [--down 5] [--workers 0] [--mailers 0]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.restart_drill import Figures, Restart, run_drill  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows imported (100000)")
    parser.add_argument("--down", type=float, default=5.0, help="seconds down per restart (5)")
    parser.add_argument("--workers", type=int, default=0, help="`roster worker` processes (0)")
    parser.add_argument("--mailers", type=int, default=0, help="`roster mailer` processes (0)")
    parser.add_argument("--lease", default="30s", help="ROSTER_IMPORT_LEASE (30s)")
    parser.add_argument("--wait", type=float, default=3600.0, help="longest wait per step (s)")
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="roster-drill-"))
    began = time.time()

    def say(text: str) -> None:
        print(f"[{time.time() - began:7.1f} s] {text}", flush=True)

    figures = run_drill(
        workdir,
        args.rows,
        workers=args.workers,
        mailers=args.mailers,
        lease=args.lease,
        down_seconds=args.down,
        wait_seconds=args.wait,
        say=say,
    )
    print()
    report(figures)
    if args.keep:
        print(f"\nLogs: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems(figures) else 0


def report(figures: Figures) -> None:
    rows = figures.rows
    for restart in figures.restarts:
        print(f"Restart during the {restart.during}:")
        print(f"  database down            {restart.downtime:8.1f} s")
        print(f"  /health 503 after stop   {_after(restart.first_503, restart.stopped)}")
        print(f"  /health while down       {dict(restart.health_while_down)}")
        print(f"  /health 200 after start  {_after(restart.first_200, restart.started)}")
        print(f"  {_resumed(figures, restart)}")
    print("Commit:")
    print(f"  batch                    {figures.batch_status}")
    print(f"  commit (with downtime)   {figures.commit_seconds:8.1f} s")
    print(f"  rows                     {dict(figures.row_statuses)} of {rows:,}")
    print(f"  users / distinct emails  {figures.users:,} / {figures.distinct_emails:,}")
    print(f"  users that are the rows' {figures.derived_users:,}")
    print("Mails:")
    print(f"  received                 {figures.mails:,} for {figures.users:,} users")
    print(f"  recipients twice         {sum(1 for n in figures.recipients.values() if n > 1)}")
    print(f"  invitations twice        {sum(1 for n in figures.invitations.values() if n > 1)}")
    print(f"  deliveries               {dict(figures.deliveries)}")
    print(f"  InvitationSent events    {figures.sent_events:,} on {figures.users_sent:,} users")
    print(f"  last mail, from commit   {figures.delivery_seconds:8.1f} s")
    print(f"Roster processes alive at the end: {'yes' if figures.processes_alive else 'NO'}")
    found = problems(figures)
    print("Verdict: " + ("; ".join(found) if found else "nothing lost, nothing doubled"))


def _after(moment: float | None, since: float) -> str:
    return "never" if moment is None else f"{moment - since:8.2f} s"


def _resumed(figures: Figures, restart: Restart) -> str:
    """When the work went on after the database's start: the commit's next range written
    (and what was done before the stop), or the next mail received."""
    if restart.during == "commit":
        after = [at for at, _ in figures.ranges if at >= restart.started]
        went_on = _after(min(after, default=None), restart.started)
        return f"commit went on after     {went_on} ({restart.rows_before:,} rows before)"
    arrivals = [at for at in figures.mail_times if at >= restart.started]
    went_on = _after(min(arrivals, default=None), restart.started)
    return f"mails went on after      {went_on} ({restart.mails_before:,} mails before)"


def problems(figures: Figures) -> list[str]:
    rows = figures.rows
    found = []
    if figures.batch_status != "COMPLETED":
        found.append(f"the batch is {figures.batch_status}")
    if figures.row_statuses.get("CREATED") != rows or figures.derived_users != rows:
        found.append("rows lost or registered twice")
    if figures.users != rows or figures.distinct_emails != rows:
        found.append(f"{figures.users} users for {rows} rows")
    if figures.mails != rows or figures.twice:
        found.append(f"{figures.mails} mails for {rows} users, {len(figures.twice)} twice")
    if figures.deliveries.get("SENT") != rows or figures.sent_events != rows:
        found.append("mails sent but not recorded as sent")
    if not figures.processes_alive:
        found.append("a Roster process died")
    return found


if __name__ == "__main__":
    sys.exit(main())
