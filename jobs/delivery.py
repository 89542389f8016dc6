"""The delivery worker: sends the invitation mails that `mail_deliveries` lists.

Driven by the events: the read model adds a row for every invitation issued, in one
transaction with its position, so no invitation is missed and none is listed twice.
The worker claims due rows for a while (`claimed_until`, so several processes share
the work and a dead one's rows come back), looks again that they are still to be sent
(at most RECHECK_SECONDS before sending each), sends them, and every RECHECK_SECONDS
marks those sent (by every lane of the process, see below) SENT and records
`InvitationSent` on their users, the users read at once and written at once. A crash
between sending and marking resends only the mails of that last quarter second (a
database that goes away meanwhile resends none: they are recorded once it is back). A mail
server that is down or answers 4xx is tried again with growing pauses. Every mail is
built and sent on its own: whatever else goes wrong with one (a 5xx refusal, an
address the server cannot take, a mail that cannot be built, an error of our own) is
recorded on its user (`InvitationUndeliverable`, with a reason a person can act on),
it is not tried again, and the other mails of the claim go on.

A mail server answers each mail after a few round trips, so one connection carries
only so many mails a second: a process sends over one lane (a thread with its own
claims and its own connection, kept from claim to claim) per LANE_RATE mails a second
of its rate, up to MAX_LANES. Each lane claims, looks again and sends as above; they
share the rate and the record of mails sent (`jobs.sharing`): mails of the process go
out at most `rate` per second, and at most YIELD_RATE while any worker reads or commits
an import (the commit only adds rows to the list, and is not slowed by sending). Where
the lanes' time goes is logged once a minute while mails go out, and once more when
none is left or an import starts or ends.

An erased person's mails (ERASING, see projections/deliveries.py) are never claimed;
what the outbox keeps of them (the file outbox's files) is deleted by every lane at the
start of each round, so on start too, and again after a crash. A row becomes ERASED
once no lane can still be writing its mail: its claim, if any, is this lane's (which
sends nothing between rounds), has run out, or was let go by the erasure (the mail was
sent or failed already). A lane that claimed a waiting mail before the erasure, and
looked again before it, may still hand it over: its own next round deletes it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import textwrap
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.application import Roster
from domain.errors import DomainError
from jobs.invitation_mail import InvitationMail, MailTemplates, UnsendableAddress
from jobs.loop import BackgroundLoop
from jobs.outboxes import DeliveryError, Outbox
from jobs.sharing import Pace, Stages, Unrecorded
from jobs.worker import worker_name
from projections.database import ReadDatabase, marks
from projections.encoding import from_iso

log = logging.getLogger("roster.mail")

#: Mails claimed at once by a lane at most, and for how long: a claim holds no more
#: mails than a quarter of its time allows at the lane's share of the rate, so it never
#: runs out mid-claim, and a dead process's mails come back to the others within a minute.
CLAIM_ROWS = 200
CLAIM_SECONDS = 60.0
#: How stale the look at a claimed mail may be when it is sent, and how long sent mails
#: wait to be recorded as sent (a crash resends those).
RECHECK_SECONDS = 0.25
#: One lane (thread and mail server connection) per this many mails a second of the
#: rate, and at most this many: a lane spends 1.5 to 2.5 ms on a mail to a mail server
#: on the same host (its round trips, waiting for the lanes' shared interpreter), more
#: over a network; with time to spare, lanes keep to the rate set.
LANE_RATE = 250.0
MAX_LANES = 4
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 3600.0
#: An erased person's mails whose files a lane deletes in one round at most.
FORGET_ROWS = 500
#: A reason recorded on the user is cut to this length, an unforeseen error's own
#: message in it to the shorter one.
MAX_REASON_LENGTH = 500
CAUSE_LENGTH = 200


def lanes_for(rate: float) -> int:
    return max(1, min(MAX_LANES, math.ceil(rate / LANE_RATE)))


@dataclass
class Delivery:
    """What the lanes of a process share."""

    roster: Roster
    database: ReadDatabase
    outbox: Outbox
    mail: InvitationMail
    portal_url: str
    claim_rows: int
    stages: Stages
    pace: Pace
    unrecorded: Unrecorded


class Lane(BackgroundLoop):
    """One thread that claims mails, sends them over its own connection and records them."""

    def __init__(self, delivery: Delivery, name: str, poll_seconds: float) -> None:
        self.delivery = delivery
        self.roster = delivery.roster
        self.database = delivery.database
        self.outbox = delivery.outbox
        self.stages = delivery.stages
        self.unrecorded = delivery.unrecorded
        self.owner = worker_name()
        super().__init__(name, poll_seconds)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.outbox.close()  # this lane's connection

    def run_once(self) -> bool:
        return self.deliver_due() > 0

    def deliver_due(self) -> int:
        """Sends the mails due now (one claim's worth); returns how many were handled."""
        # Mails whose record failed (the database went away) are still PENDING and claimed
        # by their lane: recorded first, so that no claim ever sends them again.
        self.unrecorded.record()
        self._forget_erased()
        with self.stages.timed("claim"):
            rows = self._claim()
        self.stages.working(self.name, bool(rows))
        if not rows:
            self.outbox.close()  # nothing to send: the connection is let go until there is
            return 0
        ours = {row["invitation_id"] for row in rows}
        checked = renewed = time.monotonic()  # the claim itself was a fresh look
        try:
            for index, row in enumerate(rows):
                if self.stopping:
                    break
                with self.stages.timed("pace"):
                    self.delivery.pace.wait()
                if time.monotonic() - checked >= RECHECK_SECONDS:
                    later = [waiting["invitation_id"] for waiting in rows[index:]]
                    with self.stages.timed("claim"):
                        if time.monotonic() - renewed >= CLAIM_SECONDS / 4:
                            self._renew(later)
                            renewed = time.monotonic()
                        ours = self._still_ours(later)
                    checked = time.monotonic()
                if row["invitation_id"] not in ours:
                    continue  # replaced, accepted or deactivated since: not worth sending
                if self._deliver(row):
                    self.unrecorded.add(row, datetime.now(UTC))
                    self.stages.handed_over()
                self.unrecorded.record_every(RECHECK_SECONDS)
        finally:
            self.unrecorded.record()
        return len(rows)

    # ------------------------------------------------------------------ one mail

    def _deliver(self, row: dict[str, Any]) -> bool:
        """Hands the mail over; False when it was not (expired, refused, or failed in any
        way: that is recorded on this invitation, and the next mail goes on)."""
        expires_at = from_iso(row["expires_at"])
        assert expires_at is not None
        if expires_at <= datetime.now(UTC):
            self._set(row, status="SUPERSEDED", last_error="expired before it could be sent")
            return False
        token = self.roster.tokens.token_for(UUID(row["invitation_id"]))
        try:
            with self.stages.timed("build"):
                mail = self.delivery.mail.compose(
                    row, f"{self.delivery.portal_url}{token}", expires_at
                )
        except UnsendableAddress as error:
            self._failed(row, DeliveryError(str(error), permanent=True))
            return False
        except Exception as error:  # a template, the sender or an old event's data
            self._unexpected(row, error, token, "could not be built")
            return False
        try:
            with self.stages.timed("send"):
                self.outbox.send(mail, row["invitation_id"])
        except DeliveryError as error:
            self._failed(row, error)
            return False
        except Exception as error:  # of the mail library or ours: this mail's alone
            self.outbox.close()  # the connection's state is unknown: the next mail starts anew
            self._unexpected(row, error, token, "could not be sent")
            return False
        return True

    def _unexpected(self, row: dict[str, Any], error: Exception, token: str, what: str) -> None:
        """Logs an error no rule foresaw (with its traceback, the token left out: it
        opens the portal) and records this mail as failed for good."""
        details = "".join(traceback.format_exception(error)).replace(token, "<token>")
        log.error("Invitation %s: the mail %s.\n%s", row["invitation_id"], what, details)
        cause = f"{type(error).__name__}: {error}".replace(token, "<token>")
        cause = textwrap.shorten(cause, CAUSE_LENGTH, placeholder=" …")  # one line, short
        reason = (
            f"The invitation mail {what} ({cause}). The server log has the details; once the "
            "cause is fixed (the mail templates, ROSTER_MAIL_FROM, the user's data), resend "
            "the invitation."
        )
        self._failed(row, DeliveryError(reason, permanent=True))

    def _failed(self, row: dict[str, Any], error: DeliveryError) -> None:
        if error.permanent:
            reason = str(error)[:MAX_REASON_LENGTH]
            log.warning("Invitation %s is undeliverable: %s", row["invitation_id"], reason)
            self._set(row, status="FAILED", last_error=reason)
            if self._erased(row):
                return  # its reason may quote the address: nothing is recorded of it
            with contextlib.suppress(DomainError):
                self.roster.record_invitation_undeliverable(
                    UUID(row["user_id"]), UUID(row["invitation_id"]), reason
                )
            return
        attempts = int(row["attempts"]) + 1
        pause = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
        log.info(
            "Invitation %s not sent (%s); again in %.0f s.", row["invitation_id"], error, pause
        )
        self._set(
            row,
            attempts=attempts,
            next_attempt_at=time.time() + pause,
            last_error=str(error),
            claimed_by=None,
            claimed_until=None,
        )

    # ------------------------------------------------------------------ erased persons

    def _forget_erased(self) -> None:
        """Deletes what the outbox keeps of erased persons' mails; marks ERASED those no
        other lane may still be writing (see the module's docstring)."""
        with self.database.reading() as cursor:
            cursor.execute(
                "SELECT invitation_id, claimed_by, claimed_until FROM mail_deliveries"
                " WHERE status = 'ERASING' ORDER BY seq LIMIT %s",
                (FORGET_ROWS,),
            )
            rows = cursor.fetchall()
        if not rows:
            return
        now = time.time()
        done = []
        for row in rows:
            try:
                self.outbox.forget(row["invitation_id"])
            except OSError as error:  # the mails of others go on; tried again next round
                log.error("The erased mail %s cannot be deleted: %s", row["invitation_id"], error)
                continue
            claim = row["claimed_until"]
            if claim is None or claim < now or row["claimed_by"] == self.owner:
                done.append(row["invitation_id"])
        if done:
            with self.database.writing() as cursor:
                cursor.execute(
                    "UPDATE mail_deliveries SET status = 'ERASED'"
                    f" WHERE invitation_id IN ({marks(done)}) AND status = 'ERASING'",
                    done,
                )

    def _erased(self, row: dict[str, Any]) -> bool:
        with self.database.reading() as cursor:
            cursor.execute(
                "SELECT status FROM mail_deliveries WHERE invitation_id = %s",
                (row["invitation_id"],),
            )
            found = cursor.fetchone()
        return found is not None and found["status"] in ("ERASING", "ERASED")

    # ------------------------------------------------------------------ the table

    def _claim(self) -> list[dict[str, Any]]:
        now = time.time()
        lock = " FOR UPDATE SKIP LOCKED" if self.database.dialect == "postgres" else ""
        with self.database.writing() as cursor:
            cursor.execute(
                "SELECT invitation_id FROM mail_deliveries WHERE status = 'PENDING'"
                " AND next_attempt_at <= %s AND (claimed_until IS NULL OR claimed_until < %s)"
                f" ORDER BY seq LIMIT %s{lock}",
                (now, now, self.delivery.claim_rows),
            )
            ids = [row["invitation_id"] for row in cursor.fetchall()]
            if not ids:
                return []
            cursor.execute(
                f"UPDATE mail_deliveries SET claimed_by = %s, claimed_until = %s"
                f" WHERE invitation_id IN ({marks(ids)})",
                (self.owner, now + CLAIM_SECONDS, *ids),
            )
            cursor.execute(
                f"SELECT * FROM mail_deliveries WHERE invitation_id IN ({marks(ids)}) ORDER BY seq",
                ids,
            )
            claimed: list[dict[str, Any]] = cursor.fetchall()
            return claimed

    def _renew(self, ids: list[str]) -> None:
        """Claims these rows for CLAIM_SECONDS more: a claim sent slower than its size
        allowed for (while an import runs) does not run out under this lane."""
        with self.database.writing() as cursor:
            cursor.execute(
                "UPDATE mail_deliveries SET claimed_until = %s"
                f" WHERE invitation_id IN ({marks(ids)}) AND status = 'PENDING'"
                " AND claimed_by = %s",
                (time.time() + CLAIM_SECONDS, *ids, self.owner),
            )

    def _still_ours(self, ids: list[str]) -> set[str]:
        """Of these rows, those still to be sent by this lane: not those the read model
        superseded since (replaced, accepted, deactivated) or another lane or process
        claimed (after a claim of ours ran out). A read: the rows are not locked."""
        with self.database.reading() as cursor:
            cursor.execute(
                f"SELECT invitation_id FROM mail_deliveries WHERE invitation_id IN ({marks(ids)})"
                " AND status = 'PENDING' AND claimed_by = %s",
                (*ids, self.owner),
            )
            return {row["invitation_id"] for row in cursor.fetchall()}

    def _set(self, row: dict[str, Any], **columns: Any) -> None:
        """Updates a row this lane claimed, unless the read model has moved it on."""
        assignments = ", ".join(f"{name} = %s" for name in columns)
        with self.database.writing() as cursor:
            cursor.execute(
                f"UPDATE mail_deliveries SET {assignments}"
                " WHERE invitation_id = %s AND status = 'PENDING'",
                (*columns.values(), row["invitation_id"]),
            )


class DeliveryWorker(Lane):
    """The mail delivery of a process: its first lane, which starts, wakes and stops the
    others (`lanes_for(rate)` in all) with itself."""

    def __init__(
        self,
        roster: Roster,
        database: ReadDatabase,
        outbox: Outbox,
        templates: MailTemplates,
        *,
        sender: str,
        portal_url: str,
        rate: float,
        poll_seconds: float = 1.0,
    ) -> None:
        lanes = lanes_for(rate)
        stages = Stages(lanes)
        delivery = Delivery(
            roster=roster,
            database=database,
            outbox=outbox,
            mail=InvitationMail(templates, sender),
            portal_url=portal_url,
            claim_rows=max(1, min(CLAIM_ROWS, int(rate / lanes * CLAIM_SECONDS / 4))),
            stages=stages,
            pace=Pace(rate, database, stages.importing),
            unrecorded=Unrecorded(roster, database, stages),
        )
        super().__init__(delivery, "mail-delivery", poll_seconds)
        self.others = [
            Lane(delivery, f"mail-delivery-{number}", poll_seconds)
            for number in range(2, lanes + 1)
        ]

    def start(self) -> None:
        super().start()
        for lane in self.others:
            lane.start()

    def wake(self) -> None:
        super().wake()
        for lane in self.others:
            lane.wake()

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        for lane in self.others:
            lane.stop(timeout)
