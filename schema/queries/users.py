from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.errors import InvalidInputError
from projections import user_queries
from projections.user_queries import UserFilter
from schema.errors import id_or_none, page_size
from schema.permissions import CanReadUsers
from schema.types.common import PageInfo
from schema.types.enums import SortDirection, UserSortField, UserStatus
from schema.types.inputs import UserSort
from schema.types.users import User, UserConnection, UserEdge

MAX_SEARCH_LENGTH = 200
NEWEST_FIRST = UserSort(field=UserSortField.CREATED_AT, direction=SortDirection.DESC)


def user_list(
    search: str | None,
    status: list[UserStatus] | None,
    sort: UserSort | None,
    import_batch_id: str | None = None,
) -> tuple[UserFilter, tuple[str, str]]:
    """The filter and (field, direction) order of a list of users, as the `users` query
    and GET /users.csv (web/exports.py) both ask for it."""
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise InvalidInputError(
            f"Search for at most {MAX_SEARCH_LENGTH} characters.", field="search"
        )
    batch_id = None if import_batch_id is None else id_or_none(import_batch_id)
    if import_batch_id is not None and batch_id is None:
        raise InvalidInputError(
            f"'{import_batch_id[:40]}' is not an import batch id: ids are UUIDs.",
            field="importBatchId",
        )
    order = sort or NEWEST_FIRST
    where = UserFilter(
        search=search, statuses=tuple(s.name for s in status or ()), import_batch_id=batch_id
    )
    return where, (order.field.value, order.direction.value)


@strawberry.type
class UserQueries:
    @strawberry.field(
        permission_classes=[CanReadUsers],
        description="Search matches, case- and accent-insensitively, any part of the name, "
        "email or username. A search of 1 or 2 characters matches the start of a word "
        "instead: the words are the runs of letters and digits in the first name, last name, "
        "email (its local part and each piece of its domain) and username, so 'jo' finds "
        "José Pérez and ana@jobs.io but not Marjorie, and 'o' finds O'Brien but \"o'\" "
        "finds no one.",
    )
    async def users(
        self,
        info: Info,
        search: str | None = None,
        status: list[UserStatus] | None = None,
        first: int | None = 50,
        after: str | None = None,
        sort: UserSort | None = NEWEST_FIRST,
        import_batch_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the users this import batch registered."),
        ] = None,
    ) -> UserConnection:
        where, order = user_list(search, status, sort, import_batch_id)
        ctx = info.context
        page = await ctx.read(
            user_queries.list_users,
            ctx.services.database.dialect,
            where,
            order,
            page_size(first, default=50),
            after,
        )

        async def count() -> int:
            total: int = await ctx.read(
                user_queries.count_users, ctx.services.database.dialect, where
            )
            return total

        return UserConnection(
            edges=[UserEdge(cursor=c, node=User.from_row(row)) for c, row in page.items],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            count=count,
        )

    @strawberry.field(permission_classes=[CanReadUsers])
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        row = await info.context.users.load(str(id))
        return User.from_row(row) if row else None

    @strawberry.field(permission_classes=[CanReadUsers])
    async def user_by_email(self, info: Info, email: str) -> User | None:
        row = await info.context.read(user_queries.user_by_email, email)
        return User.from_row(row) if row else None
