from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.application import NOT_A_VALID_INVITATION
from domain.errors import InvalidInvitationError
from schema.errors import problem_for
from schema.types.problems import InvalidInvitation
from schema.types.results import AcceptInvitationResult
from schema.types.users import User

#: Longer than any token this server issues; anything longer is not read at all.
MAX_TOKEN_LENGTH = 200


@strawberry.type
class AcceptInvitation:
    @strawberry.mutation(
        description="Called by the portal with the token from the invitation email."
    )
    async def accept_invitation(self, info: Info, token: str) -> AcceptInvitationResult:
        ctx = info.context
        services = ctx.services
        try:
            if len(token) > MAX_TOKEN_LENGTH:
                raise InvalidInvitationError(NOT_A_VALID_INVITATION)
            saved = await ctx.command(
                lambda: services.roster.accept_invitation(token, owners=services.invitations)
            )
        except InvalidInvitationError as error:
            problem = problem_for(error)
            assert isinstance(problem, InvalidInvitation)
            return problem
        row = await ctx.users.load(str(saved.id))
        return User.from_row(row)
