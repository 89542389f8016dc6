"""The outbox of invitation mails: one row per invitation issued, PENDING until the
delivery worker hands it over (SENT), the mail server refuses it for good (FAILED), or a
newer invitation or a deactivation makes it pointless (SUPERSEDED); and ERASING, then
ERASED, once its person is erased: the row keeps no address, name or error, and the
delivery worker deletes the mail's file from the outbox folder (ERASING until it has).

The outbox is work in progress, not a read model: the worker marks a mail SENT as it
hands it over, before `InvitationSent` is recorded, and that mark must outlive a
rebuild or a version change, or the mail would be sent again. So the table is never
cleared, and every change made here holds when the events are applied again on top of
it: a row is inserted once, statuses are set by invitation, a user's waiting mails
are superseded only by an event after they were issued, and an erased person's rows
stay erased (applied again, their events give no address or name: the keys are gone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.personal import full_name
from domain.users import User
from projections.database import Cursor, marks
from projections.encoding import iso

ISSUING = (User.Registered, User.Reactivated, User.InvitationReissued)
#: Mails marked SENT by one statement at most.
MARK_CHUNK = 500


class DeliveryView:
    def clear(self, cursor: Cursor) -> None:
        """Keeps the outbox as it is: the events applied again change nothing in it."""

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        """The events in their order; a run of issued invitations is inserted at once, a
        run of mails sent (a delivery records them by the hundred) is marked at once, and
        a run of status changes (a bulk action's) supersedes its users' mails at once."""
        issued: list[tuple[Any, int]] = []
        sent: list[str] = []
        ended: list[tuple[str, int]] = []
        for event, position in events:
            if not isinstance(event, User.StatusChanged) or isinstance(event, ISSUING):
                self._supersede_all(cursor, ended)
                ended = []
            if isinstance(event, User.InvitationSent):
                self._issue(cursor, issued)
                issued = []
                sent.append(str(event.invitation_id))
                continue
            self._mark_sent(cursor, sent)
            sent = []
            if isinstance(event, ISSUING) and getattr(event, "invitation", None):
                issued.append((event, position))
                continue
            self._issue(cursor, issued)
            issued = []
            if isinstance(event, User.InvitationUndeliverable):
                self._mark(cursor, event.invitation_id, "FAILED")
            elif isinstance(event, User.Erased):
                self._erase(cursor, str(event.originator_id))
            elif isinstance(event, User.StatusChanged):
                # Accepted, expired, deactivated: nothing of this user is worth sending.
                ended.append((str(event.originator_id), position))
        self._issue(cursor, issued)
        self._supersede_all(cursor, ended)
        self._mark_sent(cursor, sent)

    def _issue(self, cursor: Cursor, issued: list[tuple[Any, int]]) -> None:
        """Inserts the mails of these invitations; those to users registered before (a
        resend, a reactivation) replace the users' waiting mails, a run at a time."""
        rows: list[tuple[Any, ...]] = []
        again: list[tuple[Any, int]] = []
        users_again: set[str] = set()
        for event, position in issued:
            user_id = str(event.originator_id)
            if isinstance(event, User.Registered):
                if again:
                    rows = self._issue_again(cursor, rows, again)
                    again, users_again = [], set()
                name = full_name(event.first_name, event.last_name)
                rows.append(_mail(event, user_id, event.email, name, position))
                continue
            if user_id in users_again:  # a second invitation of one run replaces the first
                rows = self._issue_again(cursor, rows, again)
                again, users_again = [], set()
            again.append((event, position))
            users_again.add(user_id)
        if again:
            rows = self._issue_again(cursor, rows, again)
        self._insert(cursor, rows)

    def _issue_again(
        self, cursor: Cursor, rows: list[tuple[Any, ...]], again: list[tuple[Any, int]]
    ) -> list[tuple[Any, ...]]:
        """The mails listed so far inserted (one of them may be for one of these users),
        the users' waiting mails superseded, and the mails of `again` (each to a user of
        its own) listed, with each user's name and email as the users table has them."""
        self._insert(cursor, rows)
        self._supersede_all(cursor, [(str(e.originator_id), position) for e, position in again])
        ids = [str(event.originator_id) for event, _ in again]
        found: dict[str, Any] = {}
        for start in range(0, len(ids), MARK_CHUNK):
            chunk = ids[start : start + MARK_CHUNK]
            cursor.execute(
                f"SELECT id, first_name, last_name, email FROM users WHERE id IN ({marks(chunk)})",
                chunk,
            )
            found.update((user["id"], user) for user in cursor.fetchall())
        listed = []
        for event, position in again:
            user = found.get(str(event.originator_id))
            if user is not None:
                name = full_name(user["first_name"], user["last_name"])
                listed.append(_mail(event, user["id"], user["email"], name, position))
        return listed

    @staticmethod
    def _insert(cursor: Cursor, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cursor.executemany(
            "INSERT INTO mail_deliveries (invitation_id, user_id, email, name, inviter,"
            " expires_at, seq, status, attempts, next_attempt_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 'PENDING', 0, %s)"
            " ON CONFLICT (invitation_id) DO NOTHING",
            rows,
        )

    @staticmethod
    def _mark_sent(cursor: Cursor, invitation_ids: list[str]) -> None:
        """SENT, unless they are already: the worker marks each mail as it hands it over,
        before InvitationSent. (An erased person has no invitation to record as sent.)"""
        for start in range(0, len(invitation_ids), MARK_CHUNK):
            chunk = invitation_ids[start : start + MARK_CHUNK]
            cursor.execute(
                "UPDATE mail_deliveries SET status = 'SENT'"
                f" WHERE invitation_id IN ({marks(chunk)}) AND status <> 'SENT'",
                chunk,
            )

    @staticmethod
    def _mark(cursor: Cursor, invitation_id: Any, status: str) -> None:
        """An erased person's mail stays erased: a refusal may be recorded after the
        erasure (a lane handed the mail over as the person was erased)."""
        cursor.execute(
            "UPDATE mail_deliveries SET status = %s"
            " WHERE invitation_id = %s AND status NOT IN ('ERASING', 'ERASED')",
            (status, str(invitation_id)),
        )

    @staticmethod
    def _erase(cursor: Cursor, user_id: str) -> None:
        """The person's mails, sent or not, keep no address, name or error (which may
        quote the address), are never sent, and wait for the delivery worker to delete
        their files (ERASING). A claim matters only to a mail that a lane may still be
        handing over: that of a mail sent or failed is let go. Mails erased before are
        left as they are: applied again, the erasure changes nothing. The inviter is an
        actor, erased on its own."""
        cursor.execute(
            "UPDATE mail_deliveries SET status = 'ERASING', email = '', name = '',"
            " last_error = NULL, claimed_until = CASE WHEN status IN ('SENT', 'FAILED')"
            " THEN NULL ELSE claimed_until END"
            " WHERE user_id = %s AND status NOT IN ('ERASING', 'ERASED')",
            (user_id,),
        )

    @staticmethod
    def _supersede_all(cursor: Cursor, ended: list[tuple[str, int]]) -> None:
        """For each (user, position): the user's mails issued before `position` that still
        wait (a mail issued after it, met again when the events are applied again, is left
        alone). One statement, run for every pair (PostgreSQL pipelines them). `seq + 0`
        keeps SQLite on the user's index: given `seq <` it took the queue's (status, seq)
        and read every waiting mail for each user (0.8 ms a user with 5,000 waiting)."""
        if not ended:
            return
        cursor.executemany(
            "UPDATE mail_deliveries SET status = 'SUPERSEDED'"
            " WHERE user_id = %s AND status = 'PENDING' AND seq + 0 < %s",
            ended,
        )


def _mail(event: Any, user_id: str, email: str, name: str, position: int) -> tuple[Any, ...]:
    """The outbox row of the invitation the event issued."""
    invitation = event.invitation
    return (
        str(invitation["id"]),
        user_id,
        email,
        name,
        event.actor,
        iso(invitation["expires_at"]),
        position,
        event.timestamp.timestamp(),
    )
