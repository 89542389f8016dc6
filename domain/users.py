"""The User aggregate: a person who may enter the portal, and the history of their status."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidStateError
from domain.invitations import Invitation
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

    class Registered(Aggregate.Created):
        first_name: str
        last_name: str
        email: str
        username: str
        group_ids: list[UUID]
        permissions: list[str]
        invitation: dict[str, Any] | None
        status: UserStatus
        source: StatusChangeSource
        actor: str
        reason: str | None
        import_batch_id: UUID | None

    class StatusChanged(Aggregate.Event):
        """Base of every event that moves the user to another status."""

        previous_status: UserStatus
        status: UserStatus
        source: StatusChangeSource
        actor: str
        reason: str | None

    class Deactivated(StatusChanged):
        pass

    class Reactivated(StatusChanged):
        invitation: dict[str, Any] | None

    class InvitationReissued(StatusChanged):
        invitation: dict[str, Any]

    class InvitationAccepted(StatusChanged):
        accepted_at: datetime

    class InvitationExpired(StatusChanged):
        pass

    class AccessChanged(Aggregate.Event):
        group_ids: list[UUID]
        permissions: list[str]
        actor: str

    @event(Registered)
    def __init__(
        self,
        first_name: str,
        last_name: str,
        email: str,
        username: str,
        group_ids: list[UUID],
        permissions: list[str],
        invitation: dict[str, Any] | None,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
        import_batch_id: UUID | None,
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
        self.has_accepted = False

    # ------------------------------------------------------------------ commands

    def deactivate(self, actor: str, reason: str | None) -> None:
        status = self._target(Transition.DEACTIVATE)
        self._deactivated(
            previous_status=self.status,
            status=status,
            source=StatusChangeSource.ADMINISTRATOR,
            actor=actor,
            reason=reason,
        )

    def reactivate(self, actor: str, reason: str | None, invitation: Invitation) -> None:
        """Back to ACTIVE if the user accepted an invitation before, else PENDING with
        the given new invitation."""
        status = self._target(Transition.REACTIVATE)
        if not self.has_accepted:
            status = REACTIVATE_WITHOUT_ACCEPTANCE
        self._reactivated(
            previous_status=self.status,
            status=status,
            source=StatusChangeSource.ADMINISTRATOR,
            actor=actor,
            reason=reason,
            invitation=None if self.has_accepted else invitation.as_event_data(),
        )

    def reissue_invitation(self, actor: str, invitation: Invitation) -> None:
        status = self._target(Transition.REISSUE_INVITATION)
        self._invitation_reissued(
            previous_status=self.status,
            status=status,
            source=StatusChangeSource.ADMINISTRATOR,
            actor=actor,
            reason=None,
            invitation=invitation.as_event_data(),
        )

    def accept_invitation(self, invitation_id: UUID, now: datetime) -> None:
        status = self._target(Transition.ACCEPT_INVITATION)
        if self.invitation is None or self.invitation.id != invitation_id:
            raise InvalidStateError("This invitation was replaced by a newer one.")
        if now >= self.invitation.expires_at:
            raise InvalidStateError("This invitation has expired; ask for a new one.")
        self._invitation_accepted(
            previous_status=self.status,
            status=status,
            source=StatusChangeSource.INVITATION,
            actor=str(self.id),
            reason=None,
            accepted_at=now,
        )

    def expire_invitation(self, now: datetime) -> None:
        status = self._target(Transition.EXPIRE_INVITATION)
        if self.invitation is None or self.invitation.expires_at > now:
            raise InvalidStateError("The invitation has not expired yet.")
        self._invitation_expired(
            previous_status=self.status,
            status=status,
            source=StatusChangeSource.EXPIRY,
            actor="system",
            reason=None,
        )

    def set_access(self, group_ids: list[UUID], permissions: list[str], actor: str) -> None:
        if (group_ids, permissions) != (self.group_ids, self.permissions):
            self._access_changed(group_ids=group_ids, permissions=permissions, actor=actor)

    # ------------------------------------------------------------------ events

    @event(Deactivated)
    def _deactivated(
        self,
        previous_status: UserStatus,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
    ) -> None:
        self.status = UserStatus(status)

    @event(Reactivated)
    def _reactivated(
        self,
        previous_status: UserStatus,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
        invitation: dict[str, Any] | None,
    ) -> None:
        self.status = UserStatus(status)
        if invitation is not None:
            self.invitation = Invitation.from_event_data(invitation)

    @event(InvitationReissued)
    def _invitation_reissued(
        self,
        previous_status: UserStatus,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
        invitation: dict[str, Any],
    ) -> None:
        self.status = UserStatus(status)
        self.invitation = Invitation.from_event_data(invitation)

    @event(InvitationAccepted)
    def _invitation_accepted(
        self,
        previous_status: UserStatus,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
        accepted_at: datetime,
    ) -> None:
        self.status = UserStatus(status)
        self.has_accepted = True
        if self.invitation is not None:
            self.invitation = self.invitation.accepted(accepted_at)

    @event(InvitationExpired)
    def _invitation_expired(
        self,
        previous_status: UserStatus,
        status: UserStatus,
        source: StatusChangeSource,
        actor: str,
        reason: str | None,
    ) -> None:
        self.status = UserStatus(status)

    @event(AccessChanged)
    def _access_changed(self, group_ids: list[UUID], permissions: list[str], actor: str) -> None:
        self.group_ids = group_ids
        self.permissions = permissions

    # ------------------------------------------------------------------ rules

    def _target(self, transition: Transition) -> UserStatus:
        if not allowed(transition, self.status):
            starts = ", ".join(str(s) for s in sources_of(transition) if s is not None)
            raise InvalidStateError(
                f"Cannot {transition} a user who is {self.status}; only users who are "
                f"{starts} can be."
            )
        return TRANSITIONS[(transition, self.status)]
