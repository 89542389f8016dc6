"""The delivery worker: sends the invitation mails that `mail_deliveries` lists.

Driven by the events: the read model adds a row for every invitation issued, in one
transaction with its position, so no invitation is missed and none is listed twice.
The worker claims due rows for a while (`claimed_until`, so several processes share
the work and a dead one's rows come back), looks again that they are still to be sent
(at most RECHECK_SECONDS before sending each), sends them, and every RECHECK_SECONDS
marks those sent SENT and records `InvitationSent` on their users in one write. A crash
between sending and marking resends only the mails of that last quarter second (a
database that goes away meanwhile resends none: they are recorded once it is back). A mail
server that is down or answers 4xx is tried again with growing pauses. Every mail is
built and sent on its own: whatever else goes wrong with one (a 5xx refusal, an
address the server cannot take, a mail that cannot be built, an error of our own) is
recorded on its user (`InvitationUndeliverable`, with a reason a person can act on),
it is not tried again, and the other mails of the claim go on. Mails go out
at most `rate` per second, and at most YIELD_RATE while any worker reads or commits an
import: the commit only adds rows to the list, and is not slowed by sending.
"""

from __future__ import annotations

import contextlib
import logging
import textwrap
import time
import traceback
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.application import Roster
from domain.errors import DomainError
from jobs.invitation_mail import InvitationMail, MailTemplates, UnsendableAddress
from jobs.loop import BackgroundLoop
from jobs.outboxes import DeliveryError, Outbox
from jobs.worker import worker_name
from projections.database import ReadDatabase, marks
from projections.encoding import from_iso

log = logging.getLogger("roster.mail")

#: Mails claimed at once at most, and for how long: a claim holds no more mails than
#: a quarter of its time allows at the set rate, so it never runs out mid-claim, and a
#: dead process's mails come back to the others within a minute.
CLAIM_ROWS = 50
CLAIM_SECONDS = 60.0
#: How stale the look at a claimed mail may be when it is sent, and how long sent mails
#: wait to be recorded as sent (a crash resends those).
RECHECK_SECONDS = 0.25
#: Mails a second at most while an import is read or committed (by any process), and
#: how often the store is asked whether one is.
YIELD_RATE = 10.0
IMPORT_LOOK_SECONDS = 1.0
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 3600.0
#: A reason recorded on the user is cut to this length, an unforeseen error's own
#: message in it to the shorter one.
MAX_REASON_LENGTH = 500
CAUSE_LENGTH = 200


class DeliveryWorker(BackgroundLoop):
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
        self.roster = roster
        self.database = database
        self.outbox = outbox
        self.mail = InvitationMail(templates, sender)
        self.portal_url = portal_url
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._importing = False
        self._looked_for_imports = float("-inf")
        self.claim_rows = max(1, min(CLAIM_ROWS, int(rate * CLAIM_SECONDS / 4)))
        self.owner = worker_name()
        self._next_send = 0.0
        #: Mails handed over and not yet recorded as sent (with when they were sent).
        self._unrecorded: list[tuple[dict[str, Any], datetime]] = []
        super().__init__("mail-delivery", poll_seconds)

    def run_once(self) -> bool:
        return self.deliver_due() > 0

    def deliver_due(self) -> int:
        """Sends the mails due now (one claim's worth); returns how many were handled."""
        # Mails whose record failed (the database went away) are still PENDING and claimed
        # by this worker: recorded first, so that no claim of ours ever sends them again.
        self._record_sent()
        rows = self._claim()
        ours = {row["invitation_id"] for row in rows}
        checked = recorded = time.monotonic()  # the claim itself was a fresh look
        try:
            for index, row in enumerate(rows):
                if self.stopping:
                    break
                self._pace()
                if time.monotonic() - checked >= RECHECK_SECONDS:
                    ours = self._still_ours([later["invitation_id"] for later in rows[index:]])
                    checked = time.monotonic()
                if row["invitation_id"] not in ours:
                    continue  # replaced, accepted or deactivated since: not worth sending
                if self._deliver(row):
                    self._unrecorded.append((row, datetime.now(UTC)))
                if time.monotonic() - recorded >= RECHECK_SECONDS:
                    self._record_sent()
                    recorded = time.monotonic()
        finally:
            self.outbox.close()  # one connection per claim, not per mail
            self._record_sent()
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
            message = self.mail.compose(row, f"{self.portal_url}{token}", expires_at)
        except UnsendableAddress as error:
            self._failed(row, DeliveryError(str(error), permanent=True))
            return False
        except Exception as error:  # a template, the sender or an old event's data
            self._unexpected(row, error, token, "could not be built")
            return False
        try:
            self.outbox.send(message, row["invitation_id"])
        except DeliveryError as error:
            self._failed(row, error)
            return False
        except Exception as error:  # of the mail library or ours: this mail's alone
            self.outbox.close()  # the connection's state is unknown: the next mail starts anew
            self._unexpected(row, error, token, "could not be sent")
            return False
        return True

    def _record_sent(self) -> None:
        """Marks mails handed over as SENT and records `InvitationSent` on their users,
        a few at a time: a crash before this resends only these. They are kept until both
        writes succeed (each may be done again: the second time, it changes nothing)."""
        sent = self._unrecorded
        if not sent:
            return
        ids = [row["invitation_id"] for row, _ in sent]
        with self.database.writing() as cursor:
            cursor.execute(
                f"UPDATE mail_deliveries SET status = 'SENT' WHERE invitation_id IN ({marks(ids)})"
                " AND status = 'PENDING'",
                ids,
            )
        self.roster.record_invitations_sent(
            [(UUID(row["user_id"]), UUID(row["invitation_id"]), at) for row, at in sent]
        )
        self._unrecorded = []

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

    def _pace(self) -> None:
        now = time.monotonic()
        if now < self._next_send:
            time.sleep(self._next_send - now)
        interval = max(self.interval, 1 / YIELD_RATE) if self._import_running() else self.interval
        self._next_send = max(now, self._next_send) + interval

    def _import_running(self) -> bool:
        """Whether a worker anywhere reads or commits a batch (holds a live lease), asked
        of the store at most once a second: mails then go out at no more than YIELD_RATE
        a second, so that delivery does not slow the import down."""
        now = time.monotonic()
        if now - self._looked_for_imports >= IMPORT_LOOK_SECONDS:
            with self.database.reading() as cursor:
                cursor.execute(
                    "SELECT 1 FROM import_leases WHERE expires_at > %s LIMIT 1", (time.time(),)
                )
                self._importing = cursor.fetchone() is not None
            self._looked_for_imports = now
        return self._importing

    # ------------------------------------------------------------------ the table

    def _claim(self) -> list[dict[str, Any]]:
        now = time.time()
        lock = " FOR UPDATE SKIP LOCKED" if self.database.dialect == "postgres" else ""
        with self.database.writing() as cursor:
            cursor.execute(
                "SELECT invitation_id FROM mail_deliveries WHERE status = 'PENDING'"
                " AND next_attempt_at <= %s AND (claimed_until IS NULL OR claimed_until < %s)"
                f" ORDER BY seq LIMIT %s{lock}",
                (now, now, self.claim_rows),
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

    def _still_ours(self, ids: list[str]) -> set[str]:
        """Renews the claim on these rows just before sending them; those no longer
        PENDING (the read model superseded them) or claimed by another process are left
        out."""
        owner = self.owner
        with self.database.writing() as cursor:
            cursor.execute(
                "UPDATE mail_deliveries SET claimed_until = %s"
                f" WHERE invitation_id IN ({marks(ids)}) AND status = 'PENDING'"
                " AND claimed_by = %s",
                (time.time() + CLAIM_SECONDS, *ids, owner),
            )
            cursor.execute(
                f"SELECT invitation_id FROM mail_deliveries WHERE invitation_id IN ({marks(ids)})"
                " AND status = 'PENDING' AND claimed_by = %s",
                (*ids, owner),
            )
            return {row["invitation_id"] for row in cursor.fetchall()}

    def _set(self, row: dict[str, Any], **columns: Any) -> None:
        """Updates a row this worker claimed, unless the read model has moved it on."""
        assignments = ", ".join(f"{name} = %s" for name in columns)
        with self.database.writing() as cursor:
            cursor.execute(
                f"UPDATE mail_deliveries SET {assignments}"
                " WHERE invitation_id = %s AND status = 'PENDING'",
                (*columns.values(), row["invitation_id"]),
            )
