from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import user_outcome
from schema.permissions import CanManageUsers
from schema.types.results import UserResult


@strawberry.type
class ReactivateUser:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="DEACTIVATED, BLOCKED or DISABLED back to ACTIVE (accepted before) or "
        "PENDING (new invitation).",
    )
    async def reactivate_user(
        self, info: Info, user_id: strawberry.ID, reason: str | None = None
    ) -> UserResult:
        return await user_outcome(
            info,
            lambda roster, actor: roster.reactivate_user(
                parse_id(user_id, field="userId", noun="user"), actor=actor, reason=reason
            ),
        )
