from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.mutations.outcomes import group_outcome
from schema.permissions import CanManageUsers
from schema.types.results import GroupResult


@strawberry.type
class CreateGroup:
    @strawberry.mutation(permission_classes=[CanManageUsers])
    async def create_group(
        self,
        info: Info,
        name: str,
        permissions: list[str] = [],  # noqa: B006 (never mutated)
    ) -> GroupResult:
        return await group_outcome(
            info,
            lambda roster, actor: roster.create_group(name, permissions, actor=actor),
        )
