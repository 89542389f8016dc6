from __future__ import annotations

import strawberry
from strawberry.types import Info

from projections import bulk_queries
from schema.errors import id_or_none
from schema.permissions import CanManageUsers
from schema.types.bulk import BulkActionProgress


@strawberry.type
class BulkQueries:
    @strawberry.field(
        permission_classes=[CanManageUsers],
        description="A bulk action that startBulkAction started; null for an unknown id.",
    )
    async def bulk_action_progress(
        self, info: Info, id: strawberry.ID
    ) -> BulkActionProgress | None:
        action_id = id_or_none(id)
        row = await info.context.read(bulk_queries.bulk_action, action_id) if action_id else None
        return BulkActionProgress.from_row(row) if row else None
