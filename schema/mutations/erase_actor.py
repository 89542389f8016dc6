from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.actor_erasure import ActorErased
from domain.errors import DomainError
from schema.errors import command_problem
from schema.permissions import CanManageUsers
from schema.types.actor_erasure import ErasedActor
from schema.types.problems import Conflict, InvalidState
from schema.types.results import EraseActorResult


@strawberry.type
class EraseActor:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Erases a token subject as an actor (GDPR article 17): wherever Roster "
        "recorded them as the actor or uploader of something, they read as their pseudonym "
        "from now on, in the events (their key is destroyed), the read models and the "
        "outbox. The erasure is recorded with its reason, never the subject. A subject "
        "with no actions recorded (or erased already) is NOT_FOUND. Should they act "
        "again, those new actions are theirs in the clear, under a new pseudonym once "
        "erased.",
    )
    async def erase_actor(self, info: Info, subject: str, reason: str) -> EraseActorResult:
        ctx = info.context
        actor = ctx.caller().subject
        try:
            erased: ActorErased = await ctx.command(
                lambda: ctx.services.actors.erase(subject, actor=actor, reason=reason)
            )
        except DomainError as error:
            problem = command_problem(error)
            assert not isinstance(problem, Conflict | InvalidState), "erasures hold neither"
            return problem
        return ErasedActor(pseudonym=erased.pseudonym)
