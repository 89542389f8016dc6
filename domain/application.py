"""The application: the commands Roster's users can give, over the event store.

Each command loads what it needs, asks one aggregate to act, and saves the new
events (with any claims on unique values) in one atomic write. Commands return the
ids they created and the position of the last event they wrote, so callers can wait
for the read models to include it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain import values
from domain.claims import Claim, ClaimKind, claim_id
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.groups import Group
from domain.invitations import InvitationTokens
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class NewUser:
    """What a person asks to register: checked by `Roster.register_user`."""

    first_name: str
    last_name: str
    email: str
    username: str | None = None
    group_ids: list[UUID] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Saved:
    id: UUID
    position: int


class Roster(Application[UUID]):
    """Users and groups, event-sourced."""

    name = "Roster"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        tokens: InvitationTokens,
        invitation_ttl: timedelta,
    ) -> None:
        super().__init__(env)
        self.tokens = tokens
        self.invitation_ttl = invitation_ttl

    # ------------------------------------------------------------------ users

    def register_user(
        self,
        new: NewUser,
        *,
        actor: str,
        source: StatusChangeSource = StatusChangeSource.REGISTRATION,
        import_batch_id: UUID | None = None,
    ) -> Saved:
        """Registers a PENDING user and issues their invitation."""
        first_name = values.parse_name(new.first_name, field="firstName")
        last_name = values.parse_name(new.last_name, field="lastName")
        email = values.parse_email(new.email)
        given = values.parse_username(new.username) if new.username is not None else None
        permissions = values.parse_permissions(new.permissions)
        group_ids = self._existing_groups(new.group_ids, field="groupIds")
        email_key = values.email_key(email)
        if self._is_claimed(ClaimKind.EMAIL, email_key):
            raise _taken("EMAIL_TAKEN", f"The access email {email} is already registered.")
        for username in [given] if given else values.username_candidates(email):
            if self._is_claimed(ClaimKind.USERNAME, values.username_key(username)):
                if given:
                    raise _taken("USERNAME_TAKEN", f"The username {given} is already taken.")
                continue
            user = User(
                first_name=first_name,
                last_name=last_name,
                email=email,
                username=username,
                group_ids=group_ids,
                permissions=permissions,
                invitation=self._new_invitation().as_event_data(),
                status=UserStatus.PENDING,
                source=source,
                actor=actor,
                reason=None,
                import_batch_id=import_batch_id,
            )
            claims = [
                Claim(ClaimKind.EMAIL, email_key, user.id),
                Claim(ClaimKind.USERNAME, values.username_key(username), user.id),
            ]
            try:
                return self._saved(user.id, self.save(user, *claims))
            except IntegrityError:
                if self._is_claimed(ClaimKind.EMAIL, email_key):
                    raise _taken(
                        "EMAIL_TAKEN", f"The access email {email} is already registered."
                    ) from None
                if given:
                    raise _taken(
                        "USERNAME_TAKEN", f"The username {given} is already taken."
                    ) from None
        raise _taken("USERNAME_TAKEN", "Every username derived from this email is taken.")

    def deactivate_user(self, user_id: UUID, *, actor: str, reason: str | None) -> Saved:
        user = self._get(User, user_id, "user")
        user.deactivate(actor=actor, reason=values.parse_reason(reason))
        return self._saved(user_id, self.save(user))

    def reactivate_user(self, user_id: UUID, *, actor: str, reason: str | None) -> Saved:
        user = self._get(User, user_id, "user")
        user.reactivate(
            actor=actor, reason=values.parse_reason(reason), invitation=self._new_invitation()
        )
        return self._saved(user_id, self.save(user))

    def set_user_access(
        self, user_id: UUID, *, group_ids: list[UUID], permissions: list[str], actor: str
    ) -> Saved:
        user = self._get(User, user_id, "user")
        user.set_access(
            group_ids=self._existing_groups(group_ids, field="access.groupIds"),
            permissions=values.parse_permissions(permissions, field="access.permissions"),
            actor=actor,
        )
        return self._saved(user_id, self.save(user))

    # ------------------------------------------------------------------ groups

    def create_group(self, name: str, permissions: list[str], *, actor: str) -> Saved:
        group_name = values.parse_group_name(name)
        group = Group(
            name=group_name, permissions=values.parse_permissions(permissions), actor=actor
        )
        claim = Claim(ClaimKind.GROUP_NAME, values.group_name_key(group_name), group.id)
        taken = _taken("GROUP_NAME_TAKEN", f"A group named {group_name} already exists.")
        if self._is_claimed(ClaimKind.GROUP_NAME, claim.key):
            raise taken
        try:
            return self._saved(group.id, self.save(group, claim))
        except IntegrityError:
            raise taken from None

    def set_group_permissions(
        self, group_id: UUID, permissions: list[str], *, actor: str
    ) -> Saved:
        group = self._get(Group, group_id, "group")
        group.set_permissions(values.parse_permissions(permissions), actor=actor)
        return self._saved(group_id, self.save(group))

    # ------------------------------------------------------------------ internals

    def _new_invitation(self) -> Any:
        return self.tokens.issue(datetime.now(UTC), self.invitation_ttl)

    def _get(self, kind: type[A], aggregate_id: UUID, noun: str) -> A:
        try:
            aggregate: Aggregate | None = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, kind):
            raise NotFoundError(f"No {noun} has the id {aggregate_id}; check the id.")
        return aggregate

    def _existing_groups(self, group_ids: Iterable[UUID], *, field: str) -> list[UUID]:
        given = list(group_ids)
        for index, group_id in enumerate(given):
            try:
                self._get(Group, group_id, "group")
            except NotFoundError:
                raise InvalidInputError(
                    f"No group has the id {group_id}; pick one of the existing groups.",
                    field=f"{field}[{index}]",
                    code="UNKNOWN_GROUP",
                ) from None
        return sorted(set(given), key=str)

    def _is_claimed(self, kind: ClaimKind, key: str) -> bool:
        return bool(self.recorder.select_events(claim_id(kind, key), limit=1))

    @staticmethod
    def _saved(aggregate_id: UUID, recordings: list[Any]) -> Saved:
        # A command that changed nothing saved nothing: there is nothing to wait for.
        return Saved(aggregate_id, max((r.notification.id for r in recordings), default=0))


def _taken(code: str, message: str) -> ConflictError:
    return ConflictError(message, code=code)
