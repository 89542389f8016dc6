"""Expected outcomes that are not successes: every one implements `Problem`."""

from __future__ import annotations

import strawberry


@strawberry.interface
class Problem:
    code: str = strawberry.field(description="Stable machine code.")
    message: str = strawberry.field(description="One sentence a person can act on.")


@strawberry.type
class NotFound(Problem):
    pass


@strawberry.type
class InvalidState(Problem):
    pass


@strawberry.type
class InvalidInput(Problem):
    field: str | None = strawberry.field(
        description="The input field at fault, e.g. 'email' or 'rows[3].groupIds'."
    )


@strawberry.type
class Conflict(Problem):
    pass


@strawberry.type
class InvalidInvitation(Problem):
    pass
