from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import Roster, Saved
from domain.erasure import Erasures
from schema.errors import parse_id
from schema.mutations.outcomes import user_outcome
from schema.permissions import CanManageUsers
from schema.types.results import UserResult


@strawberry.type
class EraseUser:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Erases the person at their request (GDPR article 17, LGPD): their "
        "names, email and username become unreadable everywhere Roster keeps them (the "
        "events, the user list, the status history's reasons, the rows of imported files "
        "about them), for good. The user stays, ERASED, with their status history (when, "
        "from, to, actor, source; this erasure's reason is kept); their email can be "
        "registered again, as a new person. The reason is required. An ERASED user is "
        "InvalidState, and nothing changes.",
    )
    async def erase_user(self, info: Info, user_id: strawberry.ID, reason: str) -> UserResult:
        erasures: Erasures = info.context.services.erasures

        def erase(_: Roster, actor: str) -> Saved:
            given = parse_id(user_id, field="userId", noun="user")
            return erasures.erase_user(given, actor=actor, reason=reason)

        return await user_outcome(info, erase)
