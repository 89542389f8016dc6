"""The User aggregate: a person who may enter the portal, and the history of their status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidStateError
from domain.ids import time_ordered_id
from domain.invitations import Invitation, InvitationData
from domain.personal import About, Declaration, about, actors
from domain.statuses import (
    REACTIVATE_WITHOUT_ACCEPTANCE,
    TRANSITIONS,
    StatusChangeSource,
    Transition,
    UserStatus,
    allowed,
    sources_of,
)


class User(Aggregate):
    """A registered person. Their status only moves along the table in `domain.statuses`.

    Every event records the actor (a token subject, or 'system'), the source and the
    reason when one was given; events that change the status also record the status
    before and after, so the history can be read off the events alone.
    """

    create_id = staticmethod(time_ordered_id)

    class Registered(Aggregate.Created):
        __personal__ = (
            about("first_name", "last_name", "email", "username"),
            About(("reason",), erased=None),
            actors("actor"),
        )

        first_name: str
        last_name: str
        email: str
        username: str
        group_ids: list[UUID]
        permissions: list[str]
        invitation: InvitationData | None
        status: UserStatus
        source: StatusChangeSource
        actor: str
        reason: str | None
        import_batch_id: UUID | None
        #: When the user was created in the system they were migrated from (a legacy
        #: import's `created_at`); None for users created here, at the event's time.
        created_at: datetime | None = None

    class StatusChanged(Aggregate.Event):
        """Base of every event that moves the user to another status. The reason is about
        the person (it is erased with them); the rest of it is the audit trail."""

        __personal__: ClassVar[tuple[Declaration, ...]] = (
            About(("reason",), erased=None),
            actors("actor"),
        )

        previous_status: UserStatus
        status: UserStatus
        source: StatusChangeSource
        actor: str
        reason: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.status = UserStatus(self.status)

    class Deactivated(StatusChanged):
        pass

    class Reactivated(StatusChanged):
        """Back to ACTIVE, or to PENDING with the new invitation it carries."""

        invitation: InvitationData | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            if self.invitation is not None:
                aggregate.invitation = Invitation.from_event_data(self.invitation)

    class InvitationReissued(StatusChanged):
        invitation: InvitationData

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.invitation = Invitation.from_event_data(self.invitation)

    class InvitationAccepted(StatusChanged):
        accepted_at: datetime

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.has_accepted = True
            if aggregate.invitation is not None:
                aggregate.invitation = aggregate.invitation.accepted(self.accepted_at)

    class InvitationExpired(StatusChanged):
        pass

    class InvitationSent(Aggregate.Event):
        """The invitation's mail was handed over to the mail server (or the outbox)."""

        invitation_id: UUID
        sent_at: datetime

        def apply(self, aggregate: Any) -> None:
            if aggregate.invitation is not None and aggregate.invitation.id == self.invitation_id:
                aggregate.invitation = aggregate.invitation.sent(self.sent_at)

    class InvitationUndeliverable(Aggregate.Event):
        """The mail server refused the invitation's mail for good (its reason may name the
        address)."""

        __personal__ = (about("reason"),)

        invitation_id: UUID
        reason: str

    class AccessChanged(Aggregate.Event):
        __personal__ = (actors("actor"),)

        group_ids: list[UUID]
        permissions: list[str]
        source: StatusChangeSource
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.group_ids = self.group_ids
            aggregate.permissions = self.permissions

    class Erased(StatusChanged):
        """The person was erased: the keys of `key_ids` (their own, and those of the rows
        of files about them, `rows`: [batch id, row number]) were destroyed, and with
        them every personal field sealed under them. The reason for the erasure stays
        readable, as the audit trail's."""

        __personal__ = (actors("actor"),)

        key_ids: list[UUID]
        rows: list[tuple[UUID, int]]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.first_name = aggregate.last_name = ""
            aggregate.email = aggregate.username = ""
            aggregate.invitation = None

    @event(Registered)
    def __init__(
        self,
        first_name: str,
        last_name: str,
        email: str,
        username: str,
        group_ids: list[UUID],
        permissions: list[str],
        invitation: InvitationData | None,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
        import_batch_id: UUID | None,
        created_at: datetime | None = None,
    ) -> None:
        self.first_name = first_name
        self.last_name = last_name
        self.email = email
        self.username = username
        self.group_ids = group_ids
        self.permissions = permissions
        self.invitation = Invitation.from_event_data(invitation) if invitation else None
        self.status = UserStatus(status)
        self.import_batch_id = import_batch_id
        self.created_at = created_at
        # A migrated ACTIVE user had accepted their invitation in the old system.
        self.has_accepted = self.status is UserStatus.ACTIVE

    @classmethod
    def registered(cls, user_id: UUID, **registration: Any) -> User:
        """A new user with an id chosen beforehand (an import row's, see ImportBatch)."""
        return cls._create(cls.Registered, id=user_id, **registration)

    # ------------------------------------------------------------------ commands

    def deactivate(
        self,
        actor: str,
        reason: str | None,
        source: StatusChangeSource = StatusChangeSource.ADMINISTRATOR,
    ) -> None:
        self._change_status(
            self.Deactivated,
            Transition.DEACTIVATE,
            source=source,
            actor=actor,
            reason=reason,
        )

    def reactivate(
        self,
        actor: str,
        reason: str | None,
        invitation: Invitation,
        *,
        source: StatusChangeSource = StatusChangeSource.ADMINISTRATOR,
        invite_again: bool = False,
    ) -> None:
        """Back to ACTIVE if the user accepted an invitation before, else PENDING with
        the given new invitation; always PENDING with it when `invite_again` (an import
        that invites a person once more)."""
        self._target(Transition.REACTIVATE)
        active = self.has_accepted and not invite_again
        self._change_status(
            self.Reactivated,
            Transition.REACTIVATE,
            status=None if active else REACTIVATE_WITHOUT_ACCEPTANCE,
            source=source,
            actor=actor,
            reason=reason,
            invitation=None if active else invitation.as_event_data(),
        )

    def reissue_invitation(
        self,
        actor: str,
        invitation: Invitation,
        *,
        source: StatusChangeSource = StatusChangeSource.ADMINISTRATOR,
    ) -> None:
        self._change_status(
            self.InvitationReissued,
            Transition.REISSUE_INVITATION,
            source=source,
            actor=actor,
            reason=None,
            invitation=invitation.as_event_data(),
        )

    def accept_invitation(self, invitation_id: UUID, now: datetime) -> None:
        self._target(Transition.ACCEPT_INVITATION)
        if self.invitation is None or self.invitation.id != invitation_id:
            raise InvalidStateError("This invitation was replaced by a newer one.")
        if now >= self.invitation.expires_at:
            raise InvalidStateError("This invitation has expired; ask for a new one.")
        self._change_status(
            self.InvitationAccepted,
            Transition.ACCEPT_INVITATION,
            source=StatusChangeSource.INVITATION,
            actor=str(self.id),
            reason=None,
            accepted_at=now,
        )

    def expire_invitation(self, now: datetime) -> None:
        self._target(Transition.EXPIRE_INVITATION)
        if self.invitation is None or self.invitation.expires_at > now:
            raise InvalidStateError("The invitation has not expired yet.")
        self._change_status(
            self.InvitationExpired,
            Transition.EXPIRE_INVITATION,
            source=StatusChangeSource.EXPIRY,
            actor="system",
            reason=None,
        )

    def record_sent(self, invitation_id: UUID, at: datetime) -> None:
        """Once per invitation; a second report of the same mail changes nothing."""
        invitation = self.invitation
        if invitation is not None and invitation.id == invitation_id and invitation.sent_at is None:
            self.trigger_event(self.InvitationSent, invitation_id=invitation_id, sent_at=at)

    def record_undeliverable(self, invitation_id: UUID, reason: str) -> None:
        self.trigger_event(self.InvitationUndeliverable, invitation_id=invitation_id, reason=reason)

    def erase(
        self, actor: str, reason: str, rows: list[tuple[UUID, int]], key_ids: list[UUID]
    ) -> None:
        self._change_status(
            self.Erased,
            Transition.ERASE,
            source=StatusChangeSource.ERASURE,
            actor=actor,
            reason=reason,
            rows=rows,
            key_ids=key_ids,
        )

    def set_access(
        self,
        group_ids: list[UUID],
        permissions: list[str],
        actor: str,
        *,
        source: StatusChangeSource = StatusChangeSource.ADMINISTRATOR,
    ) -> None:
        if (group_ids, permissions) != (self.group_ids, self.permissions):
            self.trigger_event(
                self.AccessChanged,
                group_ids=group_ids,
                permissions=permissions,
                source=source,
                actor=actor,
            )

    # ------------------------------------------------------------------ rules

    def _change_status(
        self,
        event_class: type[StatusChanged],
        transition: Transition,
        *,
        status: UserStatus | None = None,
        **details: Any,
    ) -> None:
        """Records a move along the transition table; `status` overrides the table's
        target where the rule depends on the user's past (reactivation)."""
        target = self._target(transition)
        self.trigger_event(
            event_class, previous_status=self.status, status=status or target, **details
        )

    def _target(self, transition: Transition) -> UserStatus:
        if not allowed(transition, self.status):
            starts = ", ".join(str(s) for s in sources_of(transition) if s is not None)
            raise InvalidStateError(
                f"Cannot {transition} a user who is {self.status}; only users who are "
                f"{starts} can be."
            )
        return TRANSITIONS[(transition, self.status)]
