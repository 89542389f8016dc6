from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import parse_id
from schema.mutations.outcomes import user_outcome
from schema.permissions import CanManageUsers
from schema.types.results import UserResult


@strawberry.type
class ResendInvitation:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Issues a new invitation to a PENDING or EXPIRED user; the user becomes "
        "PENDING.",
    )
    async def resend_invitation(self, info: Info, user_id: strawberry.ID) -> UserResult:
        return await user_outcome(
            info,
            lambda roster, actor: roster.resend_invitation(
                parse_id(user_id, field="userId", noun="user"), actor=actor
            ),
        )
