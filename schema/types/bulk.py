"""Bulk actions on users as the API shows them, and the revert of an import batch."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from projections import bulk_queries
from projections.bulk_queries import BulkActionRow
from schema.errors import page_size
from schema.types.common import PageInfo
from schema.types.enums import UserStatus
from schema.types.problems import InvalidInput
from schema.types.users import User, UserConnection, UserEdge


@strawberry.enum
class BulkAction(Enum):
    RESEND_INVITATION = strawberry.enum_value(
        "RESEND_INVITATION",
        description="A new invitation for each PENDING or EXPIRED user (then PENDING), "
        "mailed afresh; the old links stop working.",
    )
    DEACTIVATE = strawberry.enum_value(
        "DEACTIVATE", description="Each PENDING, ACTIVE or EXPIRED user becomes DEACTIVATED."
    )
    REACTIVATE = strawberry.enum_value(
        "REACTIVATE",
        description="Each DEACTIVATED, BLOCKED or DISABLED user becomes ACTIVE if they had "
        "accepted an invitation, else PENDING with a new invitation.",
    )


@strawberry.enum
class BulkActionStatus(Enum):
    RUNNING = strawberry.enum_value(
        "RUNNING", description="Users are being changed, a range at a time."
    )
    COMPLETED = strawberry.enum_value(
        "COMPLETED", description="Every user of the action went through it."
    )


@strawberry.input(description="Which users, as the users query chooses them.")
class UserFilter:
    search: str | None = None
    status: list[UserStatus] | None = None
    import_batch_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the users this import batch registered."
    )


@strawberry.type
class BulkActionProgress:
    id: strawberry.ID
    action: BulkAction
    status: BulkActionStatus
    actor: str = strawberry.field(description="Who started it (the token's subject).")
    reason: str | None
    created_at: datetime
    completed_at: datetime | None
    total: int = strawberry.field(description="Users chosen when the action started.")
    processed: int = strawberry.field(description="Users the action went through so far.")
    changed: int = strawberry.field(description="Users it changed.")
    skipped: int = strawberry.field(
        description="Users whose status does not allow the action (or who are gone): left "
        "as they are."
    )

    @classmethod
    def from_row(cls, row: BulkActionRow) -> BulkActionProgress:
        return cls(
            id=strawberry.ID(row.id),
            action=BulkAction(row.action),
            status=BulkActionStatus(row.status),
            actor=row.actor,
            reason=row.reason,
            created_at=row.created_at,
            completed_at=row.completed_at,
            total=row.total,
            processed=row.processed,
            changed=row.changed,
            skipped=row.skipped,
        )


BulkActionResult = Annotated[
    BulkActionProgress | InvalidInput, strawberry.union("BulkActionResult")
]


@strawberry.type(description="How an import batch was reverted (revertImport).")
class ImportRevert:
    status: BulkActionStatus
    actor: str
    reason: str | None
    started_at: datetime
    completed_at: datetime | None
    total: int = strawberry.field(description="Users the batch registered.")
    processed: int
    reverted: int = strawberry.field(description="Users deactivated by the revert.")
    skipped: int = strawberry.field(
        description="Users left as they were: DEACTIVATED already (or gone)."
    )
    kept: int = strawberry.field(
        description="Users who had accepted their invitation: they stay (see keptUsers)."
    )
    action_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: BulkActionRow) -> ImportRevert:
        return cls(
            status=BulkActionStatus(row.status),
            actor=row.actor,
            reason=row.reason,
            started_at=row.created_at,
            completed_at=row.completed_at,
            total=row.total,
            processed=row.processed,
            reverted=row.changed,
            skipped=row.skipped,
            kept=row.kept,
            action_id=row.id,
        )

    @strawberry.field(description="The users who had accepted and stay, in file order.")
    async def kept_users(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> UserConnection:
        ctx = info.context
        size = page_size(first, default=50)
        page = await ctx.read(bulk_queries.kept_users, self.action_id, size, after)
        rows = await ctx.users.load_many([user_id for _, user_id in page.items])
        total = self.kept

        async def count() -> int:
            return total

        return UserConnection(
            edges=[
                UserEdge(cursor=cursor, node=User.from_row(row))
                for (cursor, _), row in zip(page.items, rows, strict=True)
                if row is not None
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            count=count,
        )
