"""The application: the commands Roster's users can give, over the event store.

Each command loads what it needs, asks one aggregate to act, and saves the new
events (with any claims on unique values) in one atomic write. Commands return the
ids they created and the position of the last event they wrote, so callers can wait
for the read models to include it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain import values
from domain.claims import Claim, ClaimKind, claim_id
from domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from domain.groups import Group
from domain.invitations import InvitationTokens
from domain.statuses import StatusChangeSource, UserStatus
from domain.users import User

A = TypeVar("A", bound=Aggregate)

#: How often a registration retries when a derived username is claimed under its feet.
MAX_USERNAME_RACES = 5


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
        for _ in range(MAX_USERNAME_RACES):
            user, claims = self._prepare(new, actor, source, import_batch_id, reserved=set())
            try:
                return self._saved(user.id, self.save(user, *claims))
            except IntegrityError:
                # Someone claimed the email or username since we looked: say which, or
                # (for a derived username) try the next free one.
                self._prepare(new, actor, source, import_batch_id, reserved=set())
        raise _taken("USERNAME_TAKEN", "Every username derived from this email is taken.")

    def register_users(
        self,
        batch: Sequence[NewUser],
        *,
        actor: str,
        source: StatusChangeSource,
        import_batch_id: UUID | None = None,
    ) -> list[Saved | DomainError]:
        """Registers many users in one atomic write; each gets its own outcome. If the write
        clashes with another writer, falls back to registering them one by one."""
        reserved: set[tuple[ClaimKind, str]] = set()
        outcomes: list[Saved | DomainError | None] = [None] * len(batch)
        prepared: list[tuple[int, User, list[Claim]]] = []
        for index, new in enumerate(batch):
            try:
                user, claims = self._prepare(new, actor, source, import_batch_id, reserved)
            except DomainError as error:
                outcomes[index] = error
                continue
            reserved.update((claim.kind, claim.key) for claim in claims)
            prepared.append((index, user, claims))
        try:
            saved = self.save(*(a for _, user, claims in prepared for a in (user, *claims)))
        except IntegrityError:
            for index, _, _ in prepared:
                outcomes[index] = self._outcome(
                    functools.partial(
                        self.register_user,
                        batch[index],
                        actor=actor,
                        source=source,
                        import_batch_id=import_batch_id,
                    )
                )
        else:
            position = self._saved(prepared[0][1].id, saved).position if prepared else 0
            for index, user, _ in prepared:
                outcomes[index] = Saved(user.id, position)
        return [outcome for outcome in outcomes if outcome is not None]

    def _prepare(
        self,
        new: NewUser,
        actor: str,
        source: StatusChangeSource,
        import_batch_id: UUID | None,
        reserved: set[tuple[ClaimKind, str]],
    ) -> tuple[User, list[Claim]]:
        """Checks a registration and builds the user with claims on its email and username."""
        first_name = values.parse_name(new.first_name, field="firstName")
        last_name = values.parse_name(new.last_name, field="lastName")
        email = values.parse_email(new.email)
        given = values.parse_username(new.username) if new.username is not None else None
        permissions = values.parse_permissions(new.permissions)
        group_ids = self._existing_groups(new.group_ids, field="groupIds")
        email_key = values.email_key(email)
        if self._is_claimed(ClaimKind.EMAIL, email_key, reserved):
            raise _taken("EMAIL_TAKEN", f"The access email {email} is already registered.")
        username = self._free_username(email, given, reserved)
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
        return user, claims

    def _free_username(
        self, email: str, given: str | None, reserved: set[tuple[ClaimKind, str]]
    ) -> str:
        if given is not None:
            if self._is_claimed(ClaimKind.USERNAME, values.username_key(given), reserved):
                raise _taken("USERNAME_TAKEN", f"The username {given} is already taken.")
            return given
        for candidate in values.username_candidates(email):
            if not self._is_claimed(ClaimKind.USERNAME, values.username_key(candidate), reserved):
                return candidate
        raise _taken("USERNAME_TAKEN", "Every username derived from this email is taken.")

    @staticmethod
    def _outcome(command: Callable[[], Saved]) -> Saved | DomainError:
        try:
            return command()
        except DomainError as error:
            return error

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

    def set_group_permissions(self, group_id: UUID, permissions: list[str], *, actor: str) -> Saved:
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

    def _is_claimed(
        self, kind: ClaimKind, key: str, reserved: set[tuple[ClaimKind, str]] | None = None
    ) -> bool:
        if reserved and (kind, key) in reserved:
            return True
        return bool(self.recorder.select_events(claim_id(kind, key), limit=1))

    @staticmethod
    def _saved(aggregate_id: UUID, recordings: list[Any]) -> Saved:
        # A command that changed nothing saved nothing: there is nothing to wait for.
        return Saved(aggregate_id, max((r.notification.id for r in recordings), default=0))


def _taken(code: str, message: str) -> ConflictError:
    return ConflictError(message, code=code)
