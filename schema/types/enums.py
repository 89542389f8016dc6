"""The contract's enums; values are the same strings as the domain's."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class Profile(Enum):
    USER_MANAGEMENT_ADMIN = "USER_MANAGEMENT_ADMIN"
    USER_MANAGEMENT_VIEWER = "USER_MANAGEMENT_VIEWER"
    AUDITOR = "AUDITOR"


@strawberry.enum
class UserStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING",
        description="Invited: the invitation was issued to the access email and is neither "
        "accepted nor expired.",
    )
    ACTIVE = strawberry.enum_value("ACTIVE", description="The invitation was accepted.")
    EXPIRED = strawberry.enum_value(
        "EXPIRED",
        description="The invitation expired before it was accepted. Resending it makes the "
        "user PENDING again.",
    )
    DEACTIVATED = strawberry.enum_value(
        "DEACTIVATED", description="An administrator removed the user's access."
    )
    BLOCKED = strawberry.enum_value(
        "BLOCKED",
        description="Legacy: historical reference only. Never assigned to a new registration "
        "or by any transition.",
    )
    DISABLED = strawberry.enum_value(
        "DISABLED",
        description="Legacy: historical reference only. Never assigned to a new registration "
        "or by any transition.",
    )
    ERASED = strawberry.enum_value(
        "ERASED",
        description="Erased at the person's request (eraseUser): their name, email and "
        "username are gone for good, their status history remains. Only eraseUser leads "
        "here, and nothing leads out.",
    )


@strawberry.enum
class StatusChangeSource(Enum):
    REGISTRATION = "REGISTRATION"
    IMPORT = "IMPORT"
    INVITATION = "INVITATION"
    ADMINISTRATOR = "ADMINISTRATOR"
    EXPIRY = "EXPIRY"
    LEGACY_MIGRATION = "LEGACY_MIGRATION"
    IMPORT_REVERT = strawberry.enum_value(
        "IMPORT_REVERT",
        description="Deactivated because the import that created the user was reverted.",
    )
    ERASURE = strawberry.enum_value(
        "ERASURE", description="The person was erased at their request (eraseUser)."
    )


@strawberry.enum
class UserSortField(Enum):
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    EMAIL = "EMAIL"
    USERNAME = "USERNAME"
    STATUS = "STATUS"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"
