"""Commands on import batches: load the batch, one aggregate call, save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from domain import values
from domain.application import Roster, Saved, retried_on_conflict
from domain.errors import InvalidInputError, NotFoundError
from domain.imports.batch import AccessMode, ImportBatch, RowAccess
from domain.users import User


class ImportCommands:
    """The import steps that change a batch, given the application that stores it."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster

    @retried_on_conflict
    def choose_access(
        self,
        batch_id: UUID,
        mode: AccessMode,
        *,
        actor: str,
        group_ids: Sequence[UUID] = (),
        mirror_user_id: UUID | None = None,
        rows: Mapping[int, RowAccess] | None = None,
    ) -> Saved:
        """Step 4: how the new users receive permissions; groups and users must exist."""
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.choose_access(
            mode,
            actor=actor,
            group_ids=self.roster.existing_groups(group_ids, field="access.groupIds"),
            mirror_user_id=self._existing_user(mirror_user_id),
            rows=self._checked_rows(rows),
        )
        return Saved.of(batch.id, self.roster.save(batch))

    @retried_on_conflict
    def cancel(self, batch_id: UUID, *, actor: str) -> Saved:
        batch = self.roster.get_aggregate(ImportBatch, batch_id, "import batch")
        batch.cancel(actor)
        return Saved.of(batch.id, self.roster.save(batch))

    def _existing_user(self, user_id: UUID | None) -> UUID | None:
        if user_id is not None:
            try:
                self.roster.get_aggregate(User, user_id, "user")
            except NotFoundError:
                raise InvalidInputError(
                    f"No user has the id {user_id}; pick an existing user to mirror.",
                    field="access.mirrorUserId",
                    code="UNKNOWN_USER",
                ) from None
        return user_id

    def _checked_rows(self, rows: Mapping[int, RowAccess] | None) -> dict[int, RowAccess] | None:
        if rows is None:
            return None
        return {
            number: RowAccess(
                group_ids=self.roster.existing_groups(
                    row.group_ids, field=f"access.rows[{index}].groupIds"
                ),
                permissions=values.parse_permissions(
                    row.permissions, field=f"access.rows[{index}].permissions"
                ),
            )
            for index, (number, row) in enumerate(rows.items())
        }
