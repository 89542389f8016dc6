from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from projections import history_queries
from projections.follower import read_position
from schema.errors import not_available
from schema.permissions import CanAudit, CanImport
from schema.queries.imports import IMPORT_ISSUE
from schema.types.history import StatusChange
from schema.types.imports import ImportProgress


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[CanImport],
        description="The batch's progress now, then after every change, until it is COMPLETED "
        "or CANCELLED.",
    )
    async def import_progress(
        self, batch_id: strawberry.ID
    ) -> AsyncGenerator[ImportProgress, None]:
        raise not_available("importProgress", IMPORT_ISSUE)
        yield  # pragma: no cover - makes this an async generator

    @strawberry.subscription(
        permission_classes=[CanAudit],
        description="Status changes as they happen; of one user, or of all.",
    )
    async def status_changed(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> AsyncGenerator[StatusChange, None]:
        ctx = info.context
        position = await ctx.read(read_position, ctx.services.read_model.name)
        while True:
            reached = await ctx.services.progress.beyond(position)
            rows = await ctx.read(
                history_queries.changes_after, position, str(user_id) if user_id else None
            )
            for row in rows:
                ctx.caller()  # the token may have expired since the subscription began
                yield StatusChange.from_row(row)
            position = max([reached, *(row.position for row in rows)])
