from __future__ import annotations

from datetime import datetime

import strawberry

from domain.statuses import StatusDefinition as DomainStatusDefinition
from projections.history_queries import StatusChangeRow
from schema.types.common import PageInfo
from schema.types.enums import StatusChangeSource, UserStatus


@strawberry.type(
    description="One row of the status table that the management screen explains to people."
)
class StatusDefinition:
    status: UserStatus
    meaning: str
    legacy: bool
    assignable: bool = strawberry.field(
        description="Whether any operation can move a user into this status today."
    )

    @classmethod
    def from_domain(cls, definition: DomainStatusDefinition) -> StatusDefinition:
        return cls(
            status=UserStatus(str(definition.status)),
            meaning=definition.meaning,
            legacy=definition.legacy,
            assignable=definition.assignable,
        )


@strawberry.type
class StatusChange:
    user_id: strawberry.ID
    from_: UserStatus | None = strawberry.field(
        name="from", description="Null for the change that created the user."
    )
    to: UserStatus
    at: datetime
    actor: str = strawberry.field(
        description="The token subject that caused the change, or 'system'."
    )
    source: StatusChangeSource
    reason: str | None
    version: int = strawberry.field(
        description="The aggregate version of the event that made the change."
    )

    @classmethod
    def from_row(cls, row: StatusChangeRow) -> StatusChange:
        return cls(
            user_id=strawberry.ID(row.user_id),
            from_=UserStatus(row.from_status) if row.from_status else None,
            to=UserStatus(row.to_status),
            at=row.at,
            actor=row.actor,
            source=StatusChangeSource(row.source),
            reason=row.reason,
            version=row.version,
        )


@strawberry.type
class StatusChangeEdge:
    cursor: str
    node: StatusChange


@strawberry.type
class StatusChangeConnection:
    edges: list[StatusChangeEdge]
    page_info: PageInfo
