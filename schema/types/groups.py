from __future__ import annotations

import strawberry

from projections.group_queries import GroupRow


@strawberry.type
class Group:
    id: strawberry.ID
    name: str
    permissions: list[str]
    member_count: int

    @classmethod
    def from_row(cls, row: GroupRow) -> Group:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            permissions=row.permissions,
            member_count=row.member_count,
        )
