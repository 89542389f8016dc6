from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import user_outcome
from schema.permissions import CanManageUsers
from schema.types.inputs import UserAccessInput
from schema.types.results import UserResult


@strawberry.type
class SetUserAccess:
    @strawberry.mutation(permission_classes=[CanManageUsers])
    async def set_user_access(
        self, info: Info, user_id: strawberry.ID, access: UserAccessInput
    ) -> UserResult:
        return await user_outcome(
            info,
            lambda roster, actor: roster.set_user_access(
                parse_id(user_id, field="userId", noun="user"),
                group_ids=[
                    parse_id(g, field=f"access.groupIds[{i}]", noun="group")
                    for i, g in enumerate(access.group_ids)
                ],
                permissions=access.permissions,
                actor=actor,
            ),
        )
