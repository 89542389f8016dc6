"""The users read model as bulk actions choose their users (`domain.bulk.commands`)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.bulk.commands import UserFilter
from projections import user_queries
from projections.database import ReadDatabase, marks
from projections.follower import Follower

#: Ids looked up by one statement at most.
LOOKUP_CHUNK = 500


class UserSelectionTable:
    def __init__(self, database: ReadDatabase, read_model: Follower) -> None:
        self.database = database
        self.read_model = read_model

    def matching(self, where: UserFilter) -> list[UUID]:
        self.read_model.catch_up()  # as of now: every user registered so far
        query = user_queries.UserFilter(
            search=where.search,
            statuses=where.statuses,
            import_batch_id=None if where.import_batch_id is None else str(where.import_batch_id),
        )
        with self.database.reading() as cursor:
            ids = user_queries.matching_ids(cursor, self.database.dialect, query)
        return [UUID(user_id) for user_id in ids]

    def unknown(self, user_ids: Sequence[UUID]) -> list[int]:
        self.read_model.catch_up()
        given = [str(user_id) for user_id in user_ids]
        found: set[str] = set()
        with self.database.reading() as cursor:
            for start in range(0, len(given), LOOKUP_CHUNK):
                chunk = given[start : start + LOOKUP_CHUNK]
                cursor.execute(f"SELECT id FROM users WHERE id IN ({marks(chunk)})", chunk)
                found.update(row["id"] for row in cursor.fetchall())
        return [index for index, user_id in enumerate(given) if user_id not in found]
