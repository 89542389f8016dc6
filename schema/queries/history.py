from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from projections import history_queries
from schema.errors import page_size
from schema.permissions import CanAudit
from schema.types.common import PageInfo
from schema.types.enums import UserStatus
from schema.types.history import StatusChange, StatusChangeConnection, StatusChangeEdge


@strawberry.type
class HistoryQueries:
    @strawberry.field(
        permission_classes=[CanAudit],
        description="Every status change of one user, oldest first, replayed from its events.",
    )
    async def user_status_history(self, info: Info, user_id: strawberry.ID) -> list[StatusChange]:
        rows = await info.context.read(history_queries.history_of, str(user_id))
        return [StatusChange.from_row(row) for row in rows]

    @strawberry.field(
        permission_classes=[CanAudit],
        description="The status the user had at that moment; null if the user did not exist yet.",
    )
    async def user_status_at(
        self, info: Info, user_id: strawberry.ID, at: datetime
    ) -> UserStatus | None:
        status = await info.context.read(history_queries.status_at, str(user_id), at)
        return UserStatus(status) if status else None

    @strawberry.field(
        permission_classes=[CanAudit],
        description="Status changes of all users, oldest first: the auditors' feed.",
    )
    async def status_changes(
        self,
        info: Info,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> StatusChangeConnection:
        size = page_size(first, default=100)
        page = await info.context.read(
            lambda cursor: history_queries.changes(
                cursor, since=since, until=until, first=size, after=after
            )
        )
        return StatusChangeConnection(
            edges=[
                StatusChangeEdge(cursor=c, node=StatusChange.from_row(r)) for c, r in page.items
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )
