"""The contract's import types: batches, their rows and progress, access, the template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from domain.imports import phases
from domain.imports.existing import ExistingUserAction as DomainExistingUserAction
from projections import bulk_queries
from projections.import_queries import BatchRow, ImportRowRow
from schema.types.common import PageInfo
from schema.types.enums import UserStatus
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
    REVERTING = strawberry.enum_value(
        "REVERTING",
        description="revertImport is deactivating the users of this COMPLETED batch who have "
        "not accepted their invitation.",
    )
    REVERTED = strawberry.enum_value(
        "REVERTED", description="Reverted: see the batch's revert for what it did."
    )


ImportPhase = strawberry.enum(
    phases.ImportPhase,
    name="ImportPhase",
    description="What an import is busy with. CHECKING: the file is read and every row "
    "checked (status VALIDATING, no row recorded yet). RECORDING: the checked rows are "
    "recorded for review (VALIDATING). REGISTERING: users are registered (COMMITTING). "
    "REVERTING: revertImport deactivates the batch's users (REVERTING; no etaSeconds). "
    "DONE: nothing is running (IN_REVIEW, COMPLETED, CANCELLED, REVERTED).",
)


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
        "registered meanwhile), or the action on an EXISTING row no longer fitted its "
        "user's status.",
    )
    EXISTING = strawberry.enum_value(
        "EXISTING",
        description="The email belongs to a registered user: the same person, not an "
        "error. Does not block the commit; setImportRowAction chooses what it does.",
    )
    UPDATED = strawberry.enum_value(
        "UPDATED", description="An EXISTING row whose action the commit carried out."
    )
    SKIPPED = strawberry.enum_value(
        "SKIPPED", description="An EXISTING row the commit left alone (action SKIP)."
    )


strawberry.enum(
    DomainExistingUserAction,
    name="ExistingUserAction",
    description="What the commit does with an EXISTING row: SKIP (the default) leaves the "
    "user alone; RESEND_INVITATION (PENDING or EXPIRED users) issues a new invitation; "
    "REACTIVATE (DEACTIVATED, BLOCKED or DISABLED users) makes the user PENDING with a new "
    "invitation; UPDATE_ACCESS gives the user the batch's access for the row.",
)
#: The domain's enum, exposed to GraphQL as it is.
ExistingUserAction = DomainExistingUserAction


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

    @classmethod
    def for_row(cls, row_number: int, access: ImportAccess | None) -> RowAccess | None:
        """The row's share of the batch's access choice. Mirrored access is resolved at
        commit time, so before then only the mirrored user's id is known (null here)."""
        if access is None:
            return None
        if access.mode is AccessMode.MIRROR_USER:
            if access.mirrored is None:
                return None
            return cls(
                group_ids=[strawberry.ID(g) for g in access.mirrored["group_ids"]],
                permissions=list(access.mirrored["permissions"]),
            )
        if access.mode is AccessMode.ASSIGN_GROUPS:
            return cls(group_ids=access.group_ids, permissions=[])
        chosen = access.rows.get(str(row_number), {})
        return cls(
            group_ids=[strawberry.ID(g) for g in chosen.get("group_ids", [])],
            permissions=list(chosen.get("permissions", [])),
        )


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
    existing_user_id: strawberry.ID | None = strawberry.field(
        default=None, description="The registered user the row's email belongs to, if any."
    )
    existing_user_status: UserStatus | None = strawberry.field(
        default=None, description="That user's status when the row was reviewed."
    )
    action: DomainExistingUserAction | None = strawberry.field(
        default=None,
        description="What the commit does (EXISTING) or did (UPDATED, SKIPPED, or FAILED "
        "when the action no longer fitted) with the registered user; null for other rows.",
    )
    erased: bool = strawberry.field(
        default=False,
        description="The person the row is about was erased (eraseUser): its names, email "
        "and username are blank, its errors gone, for good. Its status and user stay.",
    )

    @classmethod
    def from_row(cls, row: ImportRowRow, access: ImportAccess | None) -> ImportRow:
        return cls(
            row_number=row.row_number,
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            username=row.username,
            status=ImportRowStatus(row.status),
            errors=[
                ImportRowError(column=c, code=str(code), message=str(m))
                for c, code, m in row.errors
            ],
            user_id=strawberry.ID(row.user_id) if row.user_id else None,
            access=RowAccess.for_row(row.row_number, access),
            existing_user_id=strawberry.ID(row.existing_user_id) if row.existing_user_id else None,
            existing_user_status=(
                UserStatus(row.existing_user_status) if row.existing_user_status else None
            ),
            action=_action(row),
            erased=row.erased,
        )


def _action(row: ImportRowRow) -> DomainExistingUserAction | None:
    """SKIP unless another was chosen, for the rows of registered users; a FAILED row's
    only when its action failed."""
    if row.status in ("EXISTING", "UPDATED", "SKIPPED"):
        return DomainExistingUserAction(row.action or "SKIP")
    if row.status == "FAILED" and row.action:
        return DomainExistingUserAction(row.action)
    return None


@strawberry.type
class ImportRowEdge:
    cursor: str
    node: ImportRow


@strawberry.type
class ImportRowConnection:
    edges: list[ImportRowEdge]
    page_info: PageInfo
    # Counting reads every row of the status: done only when totalCount is asked for.
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class ImportAccess:
    mode: AccessMode
    group_ids: list[strawberry.ID]
    mirror_user_id: strawberry.ID | None
    rows: strawberry.Private[dict[str, Any]]
    #: For MIRROR_USER once the commit started: the groups and permissions every row gets.
    mirrored: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ImportAccess:
        mirrored = data.get("mirror_user_id")
        return cls(
            mode=AccessMode(data["mode"]),
            group_ids=[strawberry.ID(g) for g in data.get("group_ids", [])],
            mirror_user_id=strawberry.ID(mirrored) if mirrored else None,
            rows=data.get("rows") or {},
            mirrored=data.get("mirrored"),
        )


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
    phase: ImportPhase = strawberry.field(  # type: ignore[valid-type]
        default=phases.ImportPhase.DONE,
        description="What the import is busy with now (see ImportPhase).",
    )
    eta_seconds: int | None = strawberry.field(
        default=None,
        description="Seconds the current phase may still take, estimated at its rate so "
        "far: the phase's clock starts at the event that began its work (the first rows "
        "recorded for RECORDING, commitImport for REGISTERING) with the units done then; "
        "at its latest event, rate = (units done now - units done then) / (seconds between "
        "the two events), and etaSeconds = units left / rate, rounded up. Units: rows "
        "recorded of `total` (RECORDING), rows the commit went through of the `valid` and "
        "`existing` rows (REGISTERING). "
        "Null during CHECKING (nothing is recorded on the way) and until 1 % of the "
        "phase's units or 2 seconds of it are done; 0 when DONE. It is the estimate as of "
        "the latest event: it changes with each message, not between them.",
    )
    existing: int = strawberry.field(
        default=0, description="Rows whose email belongs to a registered user (EXISTING)."
    )
    updated: int = 0
    skipped: int = 0
    #: (reverted, kept) of the batch's revert, when read with the batch's row.
    revert_counts: strawberry.Private[tuple[int, int] | None] = None

    @strawberry.field(
        description="Users revertImport deactivated so far; null unless REVERTING or REVERTED."
    )
    async def reverted(self, info: Info) -> int | None:
        counts = await self._revert(info)
        return None if counts is None else counts[0]

    @strawberry.field(
        description="Users revertImport left because they had accepted their invitation; null "
        "unless REVERTING or REVERTED."
    )
    async def kept(self, info: Info) -> int | None:
        counts = await self._revert(info)
        return None if counts is None else counts[1]

    async def _revert(self, info: Info) -> tuple[int, int] | None:
        if self.revert_counts is None and self.status in REVERT_STATUSES:
            self.revert_counts = await revert_counts(info, str(self.batch_id))
        return self.revert_counts

    @classmethod
    def from_row(cls, row: BatchRow) -> ImportProgress:
        counts = row.counts
        phase = phases.phase_of(row.status, counts["validated"])
        done, of = phases.work_of(phase, counts)
        return cls(
            batch_id=strawberry.ID(row.id),
            status=ImportStatus(row.status),
            total=counts["total"],
            validated=counts["validated"],
            valid=counts["valid"],
            invalid=counts["invalid"],
            excluded=counts["excluded"],
            processed=counts["processed"],
            created=counts["created"],
            failed=counts["failed"],
            phase=phase,
            eta_seconds=phases.eta_seconds(phase, done, of, row.clock),
            existing=counts["existing"],
            updated=counts["updated"],
            skipped=counts["skipped"],
        )


async def revert_counts(info: Info, batch_id: str) -> tuple[int, int] | None:
    """(reverted, kept) of the batch's revert, if it was reverted."""
    row = await info.context.read(bulk_queries.revert_of, batch_id)
    return None if row is None else (row.changed, row.kept)


REVERT_STATUSES = (ImportStatus.REVERTING, ImportStatus.REVERTED)


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
