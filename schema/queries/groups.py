from __future__ import annotations

import strawberry
from strawberry.types import Info

from projections import group_queries
from schema.permissions import CanReadUsers
from schema.types.groups import Group


@strawberry.type
class GroupQueries:
    @strawberry.field(permission_classes=[CanReadUsers])
    async def groups(self, info: Info) -> list[Group]:
        rows = await info.context.read(group_queries.all_groups)
        return [Group.from_row(row) for row in rows]
