"""What the lanes of a process's mail delivery share (see `jobs.delivery`): the rate
(`Pace`), the mails handed over and not yet recorded (`Unrecorded`, written for all the
lanes at once, so that the store sees a few writes a second however many lanes send),
and where their time goes (`Stages`, logged)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.application import Roster
from projections.database import ReadDatabase, marks

log = logging.getLogger("roster.mail")

#: Mails a second at most while an import is read or committed (by any process), and
#: how often the store is asked whether one is (one small read: asked often, so that
#: mails go out at full pace soon after an import ends).
YIELD_RATE = 10.0
IMPORT_LOOK_SECONDS = 0.25
#: Mails marked SENT by one statement at most.
MARK_CHUNK = 500
#: How often, while mails go out, the time by stage is logged.
REPORT_SECONDS = 60.0
#: The stages of a mail, as the log line names them: waiting for its turn at the rate,
#: claiming and looking again, building it, handing it over, recording it sent.
STAGES = ("pace", "claim", "build", "send", "record")


class Stages:
    """The lanes' time by stage and the mails handed over since the last report, logged
    every REPORT_SECONDS while mails go out, when every lane has run out of mails, and
    when an import starts or ends (mails then go out at another pace)."""

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes
        self._seconds: defaultdict[str, float] = defaultdict(float)
        self._mails = 0
        self._busy: set[str] = set()
        self._since = time.monotonic()
        self._importing = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            with self._lock:
                self._seconds[stage] += seconds

    def handed_over(self) -> None:
        with self._lock:
            self._mails += 1

    def working(self, lane: str, busy: bool) -> None:
        """Whether the lane has mails; a report when one is due."""
        with self._lock:
            if busy and not self._busy and not self._mails:
                self._since = time.monotonic()  # mails start to go out
            if busy:
                self._busy.add(lane)
            else:
                self._busy.discard(lane)
            elapsed = time.monotonic() - self._since
            due = self._mails > 0 and (not self._busy or elapsed >= REPORT_SECONDS)
        if due:
            self._report(self._importing)

    def importing(self, importing: bool) -> None:
        """An import started or ended: what went before is reported on its own."""
        if importing != self._importing:
            self._report(importing)

    def _report(self, importing: bool) -> None:
        with self._lock:
            mails, seconds, since, during_import = (
                self._mails,
                self._seconds,
                self._since,
                self._importing,
            )
            self._seconds, self._mails, self._since = defaultdict(float), 0, time.monotonic()
            self._importing = importing
        if not mails:
            return
        elapsed = time.monotonic() - since
        per_mail = ", ".join(f"{stage} {seconds[stage] * 1000 / mails:.3f} ms" for stage in STAGES)
        log.info(
            "Mail delivery: %d mails handed over in %.1f s (%.0f/s) by %d lanes%s; "
            "lane time per mail: %s.",
            mails,
            elapsed,
            mails / elapsed if elapsed > 0 else 0.0,
            self.lanes,
            f", at most {YIELD_RATE:g}/s while an import ran" if during_import else "",
            per_mail,
        )


class Pace:
    """The process's rate, shared by its lanes: each mail takes the next free moment."""

    def __init__(
        self, rate: float, database: ReadDatabase, on_import: Callable[[bool], None]
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.database = database
        self.on_import = on_import
        self._next = 0.0
        self._lock = threading.Lock()
        self._importing = False
        self._looked_for_imports = float("-inf")

    def wait(self) -> None:
        """Until this mail's turn."""
        interval = max(self.interval, 1 / YIELD_RATE) if self._import_running() else self.interval
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next)
            self._next = turn + interval
        if turn > now:
            time.sleep(turn - now)

    def _import_running(self) -> bool:
        """Whether a worker anywhere reads or commits a batch (holds a live lease), asked
        of the store at most every IMPORT_LOOK_SECONDS: mails then go out at no more than
        YIELD_RATE a second, so that delivery does not slow the import down. When the
        import ends, the next mail goes out at once."""
        now = time.monotonic()
        if now - self._looked_for_imports >= IMPORT_LOOK_SECONDS:
            self._looked_for_imports = now
            with self.database.reading() as cursor:
                cursor.execute(
                    "SELECT 1 FROM import_leases WHERE expires_at > %s LIMIT 1", (time.time(),)
                )
                importing = cursor.fetchone() is not None
            if self._importing and not importing:
                with self._lock:
                    self._next = min(self._next, now)
            self._importing = importing
            self.on_import(importing)
        return self._importing


class Unrecorded:
    """Mails handed over and not yet recorded as sent, of all the lanes, with when each
    was sent. One lane at a time records them all: marks them SENT and records
    `InvitationSent` on their users. They are kept until both writes succeed (each may be
    done again: the second time, it changes nothing), so that a database that goes away
    meanwhile makes no mail go out twice."""

    def __init__(self, roster: Roster, database: ReadDatabase, stages: Stages) -> None:
        self.roster = roster
        self.database = database
        self.stages = stages
        self._mails: list[tuple[dict[str, Any], datetime]] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._recorded = time.monotonic()

    def add(self, row: dict[str, Any], at: datetime) -> None:
        with self._lock:
            self._mails.append((row, at))

    def record_every(self, seconds: float) -> None:
        """Records them if none was recorded for `seconds` and no lane is at it."""
        if time.monotonic() - self._recorded >= seconds:
            self.record(wait=False)

    def record(self, *, wait: bool = True) -> None:
        """Records them now; or, without `wait`, leaves them to the lane recording."""
        if not self._writing.acquire(blocking=wait):
            return
        try:
            with self._lock:
                sent, self._mails = self._mails, []
            self._recorded = time.monotonic()
            if not sent:
                return
            try:
                with self.stages.timed("record"):
                    self._write(sent)
            except BaseException:
                with self._lock:
                    self._mails[:0] = sent
                raise
        finally:
            self._writing.release()

    def _write(self, sent: list[tuple[dict[str, Any], datetime]]) -> None:
        ids = [row["invitation_id"] for row, _ in sent]
        with self.database.writing() as cursor:
            for start in range(0, len(ids), MARK_CHUNK):
                chunk = ids[start : start + MARK_CHUNK]
                cursor.execute(
                    "UPDATE mail_deliveries SET status = 'SENT'"
                    f" WHERE invitation_id IN ({marks(chunk)}) AND status = 'PENDING'",
                    chunk,
                )
        self.roster.record_invitations_sent(
            [(UUID(row["user_id"]), UUID(row["invitation_id"]), at) for row, at in sent]
        )
