from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.statuses import status_definitions
from schema.permissions import IsAuthenticated
from schema.types.caller import Caller
from schema.types.enums import Profile
from schema.types.history import StatusDefinition


@strawberry.type
class CallerQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def me(self, info: Info) -> Caller:
        caller = info.context.caller()
        return Caller(
            subject=caller.subject, profiles=[Profile(str(p)) for p in sorted(caller.profiles)]
        )

    @strawberry.field
    def status_definitions(self) -> list[StatusDefinition]:
        return [StatusDefinition.from_domain(d) for d in status_definitions()]
