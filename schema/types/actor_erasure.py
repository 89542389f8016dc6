"""An erased actor as the API shows it: what they read as now."""

from __future__ import annotations

import strawberry


@strawberry.type(
    description="A token subject erased as an actor: every action they took now shows "
    "`pseudonym` instead, in the history, the import batches, the bulk actions and the "
    "exports."
)
class ErasedActor:
    pseudonym: str = strawberry.field(
        description="What the subject reads as from now on, everywhere: 'erased-actor-' and "
        "12 hexadecimal digits, the same for all their past actions."
    )
