"""The contract's result unions: a success, or one of the Problems the operation can meet."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.types.actor_erasure import ErasedActor
from schema.types.groups import Group
from schema.types.import_batches import ImportBatch
from schema.types.imports import ImportRow, InvalidFile
from schema.types.problems import Conflict, InvalidInput, InvalidInvitation, InvalidState, NotFound
from schema.types.users import User

StartImportResult = Annotated[ImportBatch | InvalidFile, strawberry.union("StartImportResult")]
ImportBatchResult = Annotated[
    ImportBatch | NotFound | InvalidState | InvalidInput, strawberry.union("ImportBatchResult")
]
ReviseImportResult = Annotated[
    ImportBatch | NotFound | InvalidState | InvalidInput | InvalidFile,
    strawberry.union("ReviseImportResult"),
]
ImportRowResult = Annotated[
    ImportRow | NotFound | InvalidState | InvalidInput, strawberry.union("ImportRowResult")
]
UserResult = Annotated[
    User | NotFound | InvalidState | InvalidInput | Conflict, strawberry.union("UserResult")
]
GroupResult = Annotated[Group | NotFound | InvalidInput | Conflict, strawberry.union("GroupResult")]
AcceptInvitationResult = Annotated[
    User | InvalidInvitation, strawberry.union("AcceptInvitationResult")
]
EraseActorResult = Annotated[
    ErasedActor | NotFound | InvalidInput, strawberry.union("EraseActorResult")
]
