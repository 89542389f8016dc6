"""The contract's import types. The import itself arrives with the next issue; until then
no operation returns these (they answer NOT_AVAILABLE)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.types.common import PageInfo
from schema.types.problems import Problem


@strawberry.enum
class ImportStatus(Enum):
    VALIDATING = strawberry.enum_value(
        "VALIDATING", description="The file was accepted and its rows are being validated."
    )
    IN_REVIEW = strawberry.enum_value(
        "IN_REVIEW",
        description="Every row has a result; rows may be corrected, excluded, and access chosen.",
    )
    COMMITTING = strawberry.enum_value(
        "COMMITTING", description="Users are being registered, row by row."
    )
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class ImportRowStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not validated yet.")
    VALID = "VALID"
    INVALID = strawberry.enum_value(
        "INVALID", description="Has at least one error (the X icon of the review table)."
    )
    EXCLUDED = strawberry.enum_value(
        "EXCLUDED", description="Left out by the reviewer; never registered."
    )
    CREATED = strawberry.enum_value("CREATED", description="The user was registered.")
    FAILED = strawberry.enum_value(
        "FAILED",
        description="Registration failed at commit time (for example the email was "
        "registered meanwhile).",
    )


@strawberry.enum
class AccessMode(Enum):
    ASSIGN_GROUPS = strawberry.enum_value(
        "ASSIGN_GROUPS", description="The same groups for every row."
    )
    MIRROR_USER = strawberry.enum_value(
        "MIRROR_USER",
        description="Every row gets the groups and direct permissions that one existing user "
        "has at commit time.",
    )
    CUSTOMIZE = strawberry.enum_value(
        "CUSTOMIZE", description="Groups and permissions chosen row by row."
    )


@strawberry.enum
class InvalidFileCode(Enum):
    NOT_CSV = "NOT_CSV"
    EMPTY = "EMPTY"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    UNREADABLE_ENCODING = "UNREADABLE_ENCODING"
    MALFORMED = "MALFORMED"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    UNEXPECTED_COLUMNS = "UNEXPECTED_COLUMNS"


@strawberry.type
class ImportRowError:
    column: str | None = strawberry.field(
        description="Template column name, or null for a problem of the whole row."
    )
    code: str = strawberry.field(
        description="Stable machine code, e.g. REQUIRED, INVALID_EMAIL, DUPLICATE_IN_FILE, "
        "EMAIL_TAKEN, USERNAME_TAKEN, TOO_LONG, UNSAFE_VALUE."
    )
    message: str


@strawberry.type
class RowAccess:
    group_ids: list[strawberry.ID]
    permissions: list[str]


@strawberry.type
class ImportRow:
    row_number: int = strawberry.field(
        description="1-based data row number (the header is not counted)."
    )
    first_name: str
    last_name: str
    email: str
    username: str | None
    status: ImportRowStatus
    errors: list[ImportRowError]
    user_id: strawberry.ID | None = strawberry.field(
        description="The user this row registered, once CREATED."
    )
    access: RowAccess | None = strawberry.field(
        description="The access that this row's user will get (or got), as chosen in step 4."
    )


@strawberry.type
class ImportRowEdge:
    cursor: str
    node: ImportRow


@strawberry.type
class ImportRowConnection:
    edges: list[ImportRowEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ImportAccess:
    mode: AccessMode
    group_ids: list[strawberry.ID]
    mirror_user_id: strawberry.ID | None


@strawberry.type
class ImportProgress:
    batch_id: strawberry.ID
    status: ImportStatus
    total: int = strawberry.field(description="Data rows in the file.")
    validated: int
    valid: int
    invalid: int
    excluded: int
    processed: int = strawberry.field(description="Rows whose registration was attempted.")
    created: int
    failed: int


@strawberry.type
class ImportBatch:
    id: strawberry.ID
    filename: str
    created_at: datetime
    created_by: str
    status: ImportStatus
    access: ImportAccess | None
    progress: ImportProgress
    error_report_url: str = strawberry.field(
        description="Relative URL of a CSV of every INVALID and FAILED row with its errors "
        "(GET, same bearer token)."
    )

    @strawberry.field
    def rows(
        self,
        status: list[ImportRowStatus] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> ImportRowConnection:
        return ImportRowConnection(
            edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), total_count=0
        )


@strawberry.type
class ImportBatchEdge:
    cursor: str
    node: ImportBatch


@strawberry.type
class ImportBatchConnection:
    edges: list[ImportBatchEdge]
    page_info: PageInfo


@strawberry.type
class CsvTemplate:
    filename: str
    content_type: str
    columns: list[str] = strawberry.field(
        description="Column names, in template order; the first three are mandatory."
    )
    content: str
    url: str = strawberry.field(description="Relative URL serving the same file (GET).")


@strawberry.type
class InvalidFile(Problem):
    reason: InvalidFileCode
    missing_columns: list[str]
    unexpected_columns: list[str]


@strawberry.input
class ImportRowInput:
    first_name: str
    last_name: str
    email: str
    username: str | None = None


@strawberry.input
class RowAccessInput:
    row_number: int
    group_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    permissions: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ImportAccessInput:
    mode: AccessMode
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="For ASSIGN_GROUPS."
    )
    mirror_user_id: strawberry.ID | None = strawberry.field(
        default=None, description="For MIRROR_USER."
    )
    rows: list[RowAccessInput] | None = strawberry.field(
        default=None,
        description="For CUSTOMIZE: rows not listed get no groups and no permissions.",
    )
