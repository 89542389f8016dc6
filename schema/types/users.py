from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.personal import full_name
from projections.user_queries import UserRow
from schema.types.common import PageInfo
from schema.types.enums import UserStatus
from schema.types.groups import Group


@strawberry.type
class Invitation:
    issued_at: datetime
    expires_at: datetime
    sent_at: datetime | None = strawberry.field(
        description="When the invitation email was handed to the mail server; null until then."
    )
    accepted_at: datetime | None
    delivery_failed_at: datetime | None = strawberry.field(
        default=None,
        description="When the invitation email was given up on for good (see deliveryError); "
        "null unless that happened.",
    )
    delivery_error: str | None = strawberry.field(
        default=None,
        description="Why the invitation email could not be delivered, and what to do about "
        "it; null unless delivery failed for good. A resent invitation is mailed afresh.",
    )


@strawberry.type
class Access:
    group_ids: strawberry.Private[list[str]]
    permissions: list[str] = strawberry.field(
        description="Permissions given to this user directly."
    )

    @strawberry.field
    async def groups(self, info: Info) -> list[Group]:
        rows = await info.context.groups.load_many(self.group_ids)
        return [Group.from_row(row) for row in rows if row is not None]

    @strawberry.field(
        description="Direct permissions and those of every group, sorted, without repeats."
    )
    async def effective_permissions(self, info: Info) -> list[str]:
        rows = await info.context.groups.load_many(self.group_ids)
        granted = set(self.permissions)
        for row in rows:
            if row is not None:
                granted.update(row.permissions)
        return sorted(granted)


@strawberry.type
class User:
    id: strawberry.ID
    first_name: str
    last_name: str
    name: str = strawberry.field(description="firstName and lastName joined by one space.")
    email: str = strawberry.field(
        description="The access email: where portal invitations are sent. Unique, compared "
        "case-insensitively."
    )
    username: str = strawberry.field(
        description="Unique, compared case-insensitively; derived from the email when the "
        "import gave none."
    )
    created_at: datetime
    status: UserStatus
    status_changed_at: datetime
    invitation: Invitation | None
    access: Access
    import_batch_id: strawberry.ID | None = strawberry.field(
        description="The import batch that registered this user, if any."
    )

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        invitation = None
        if row.invitation_issued_at is not None and row.invitation_expires_at is not None:
            invitation = Invitation(
                issued_at=row.invitation_issued_at,
                expires_at=row.invitation_expires_at,
                sent_at=row.invitation_sent_at,
                accepted_at=row.invitation_accepted_at,
                delivery_failed_at=row.invitation_delivery_failed_at,
                delivery_error=row.invitation_delivery_error,
            )
        return cls(
            id=strawberry.ID(row.id),
            first_name=row.first_name,
            last_name=row.last_name,
            name=full_name(row.first_name, row.last_name),
            email=row.email,
            username=row.username,
            created_at=row.created_at,
            status=UserStatus(row.status),
            status_changed_at=row.status_changed_at,
            invitation=invitation,
            access=Access(group_ids=row.group_ids, permissions=row.permissions),
            import_batch_id=strawberry.ID(row.import_batch_id) if row.import_batch_id else None,
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    count: strawberry.Private[object]

    @strawberry.field(description="All users that match the filters, not only this page.")
    async def total_count(self) -> int:
        return await self.count()  # type: ignore[operator, no-any-return]
