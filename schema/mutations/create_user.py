from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import NewUser, Roster, Saved
from schema.errors import parse_id
from schema.mutations.outcomes import user_outcome
from schema.permissions import CanManageUsers
from schema.types.inputs import CreateUserInput
from schema.types.results import UserResult


@strawberry.type
class CreateUser:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Registers one user (PENDING) and issues the invitation.",
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> UserResult:
        def register(roster: Roster, actor: str) -> Saved:
            new = NewUser(
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                username=input.username,
                group_ids=[
                    parse_id(g, field=f"groupIds[{i}]", noun="group")
                    for i, g in enumerate(input.group_ids)
                ],
                permissions=input.permissions,
            )
            return roster.register_user(new, actor=actor)

        return await user_outcome(info, register)
