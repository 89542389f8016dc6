from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import group_outcome
from schema.permissions import CanManageUsers
from schema.types.results import GroupResult


@strawberry.type
class SetGroupPermissions:
    @strawberry.mutation(permission_classes=[CanManageUsers])
    async def set_group_permissions(
        self, info: Info, group_id: strawberry.ID, permissions: list[str]
    ) -> GroupResult:
        return await group_outcome(
            info,
            lambda roster, actor: roster.set_group_permissions(
                parse_id(group_id, field="groupId", noun="group"), permissions, actor=actor
            ),
        )
