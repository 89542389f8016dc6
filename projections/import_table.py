"""The review table as the import's commands read it (`domain.imports.table.ReviewTable`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

from domain.imports.existing import ExistingUserAction
from domain.imports.review import ExistingUser, RowError, RowInput, RowStatus
from domain.imports.table import StoredRow
from domain.statuses import UserStatus
from projections.database import Cursor, ReadDatabase, marks
from projections.encoding import from_json
from projections.follower import Follower

#: Values per IN (...) list.
CHUNK = 500
_COLUMNS = (
    "row_number, first_name, last_name, email, username, status, errors, email_key, username_key,"
    " existing_user_id, existing_user_status, action"
)


class ImportRowsTable:
    def __init__(self, database: ReadDatabase, follower: Follower) -> None:
        self.database = database
        self.follower = follower

    def catch_up(self) -> None:
        self.follower.catch_up()

    def take_in(self, recordings: Sequence[Recording[UUID]]) -> None:
        self.follower.take_in(recordings)

    def rows_numbered(self, batch_id: UUID, numbers: Collection[int]) -> list[StoredRow]:
        return self._select_in(batch_id, "row_number", list(numbers))

    def rows_holding(
        self, batch_id: UUID, email_keys: Collection[str], username_keys: Collection[str]
    ) -> list[StoredRow]:
        found = {
            row.number: row
            for column, keys in (("email_key", email_keys), ("username_key", username_keys))
            for row in self._select_in(batch_id, column, list(keys))
        }
        return [found[number] for number in sorted(found)]

    def rows_between(self, batch_id: UUID, first: int, last: int) -> Sequence[StoredRow]:
        with self.database.reading() as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM import_rows WHERE batch_id = %s"
                " AND row_number BETWEEN %s AND %s ORDER BY row_number",
                (str(batch_id), first, last),
            )
            return [_stored(row) for row in cursor.fetchall()]

    def rows_of_status(self, batch_id: UUID, status: RowStatus) -> list[StoredRow]:
        with self.database.reading() as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM import_rows WHERE batch_id = %s AND status = %s"
                " ORDER BY row_number",
                (str(batch_id), status.value),
            )
            return [_stored(row) for row in cursor.fetchall()]

    def _select_in(self, batch_id: UUID, column: str, values: list[Any]) -> list[StoredRow]:
        if not values:
            return []
        with self.database.reading() as cursor:
            return [
                row
                for start in range(0, len(values), CHUNK)
                for row in _select_chunk(cursor, batch_id, column, values[start : start + CHUNK])
            ]


def _select_chunk(
    cursor: Cursor, batch_id: UUID, column: str, values: list[Any]
) -> list[StoredRow]:
    cursor.execute(
        f"SELECT {_COLUMNS} FROM import_rows WHERE batch_id = %s AND {column} IN ({marks(values)})",
        (str(batch_id), *values),
    )
    return [_stored(row) for row in cursor.fetchall()]


def _stored(row: dict[str, Any]) -> StoredRow:
    return StoredRow(
        number=int(row["row_number"]),
        values=RowInput(row["first_name"], row["last_name"], row["email"], row["username"]),
        status=RowStatus(row["status"]),
        errors=tuple(RowError(*error) for error in from_json(row["errors"])),
        keys=(row["email_key"], row["username_key"]),
        existing=(
            ExistingUser(UUID(row["existing_user_id"]), UserStatus(row["existing_user_status"]))
            if row["existing_user_id"]
            else None
        ),
        action=ExistingUserAction(row["action"]) if row["action"] else None,
    )
