from __future__ import annotations

import strawberry

from schema.types.enums import SortDirection, UserSortField


@strawberry.input
class UserSort:
    field: UserSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.input
class CreateUserInput:
    first_name: str
    last_name: str
    email: str
    username: str | None = None
    group_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    permissions: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UserAccessInput:
    group_ids: list[strawberry.ID]
    permissions: list[str]
