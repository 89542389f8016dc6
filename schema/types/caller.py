from __future__ import annotations

import strawberry

from schema.types.enums import Profile


@strawberry.type
class Caller:
    subject: str
    profiles: list[Profile]
