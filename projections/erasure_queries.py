"""The import review tables as erasure reads them (`domain.erasure.RowsAboutPeople`)."""

from __future__ import annotations

from uuid import UUID

from projections.database import Cursor, ReadDatabase
from projections.follower import Follower

#: Each question finds rows by one of import_rows' indexes on a person (sql/*.sql).
_ROWS_OF_USER = (
    "SELECT batch_id, row_number FROM import_rows WHERE user_id = %s",
    "SELECT batch_id, row_number FROM import_rows WHERE existing_user_id = %s",
)


class ImportRowsAboutPeople:
    def __init__(self, database: ReadDatabase, read_model: Follower) -> None:
        self.database = database
        self.read_model = read_model

    def rows_about(self, user_id: UUID) -> list[tuple[UUID, int]]:
        self.read_model.catch_up()  # as of now: every row read so far
        with self.database.reading() as cursor:
            found = {row for question in _ROWS_OF_USER for row in _rows(cursor, question, user_id)}
            found.update(_rows_holding_email_of(cursor, user_id))
        return sorted(found, key=lambda row: (str(row[0]), row[1]))


def _rows(cursor: Cursor, question: str, value: object) -> list[tuple[UUID, int]]:
    cursor.execute(question, (str(value),))
    return [(UUID(row["batch_id"]), int(row["row_number"])) for row in cursor.fetchall()]


def _rows_holding_email_of(cursor: Cursor, user_id: UUID) -> list[tuple[UUID, int]]:
    cursor.execute("SELECT email_key FROM users WHERE id = %s", (str(user_id),))
    user = cursor.fetchone()
    if user is None:
        return []
    question = "SELECT batch_id, row_number FROM import_rows WHERE email_key = %s"
    return _rows(cursor, question, user["email_key"])
