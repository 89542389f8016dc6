"""The values an ImportBatch's events carry: statuses, access choices, and the JSON forms
of rows, row results and counts (events hold JSON values only; maps keyed by row number
use the number as a string)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict
from uuid import UUID

from domain.errors import InvalidInputError
from domain.imports.review import ReviewCounts, RowError, RowInput, RowResult

#: A row as read or as corrected: [first_name, last_name, email, username or None].
RowData = list[str | None]
#: A row's faults, each [column or None, code, message].
ErrorsData = list[list[str | None]]


class ResultData(TypedDict, total=False):
    """A row's line in the review table: its status and errors. A correction gives the
    row's new values and [email key, username key], and the new status and errors when
    the correction changed them."""

    status: str
    errors: ErrorsData
    values: RowData
    keys: list[str | None]
    #: [user id, status at review time] of the registered user the row's email belongs to.
    existing: list[str]


#: The results of the rows an edit changed, by row number, as the Review gives them.
Changes = Mapping[int, RowResult]


class ImportStatus(StrEnum):
    VALIDATING = "VALIDATING"
    IN_REVIEW = "IN_REVIEW"
    COMMITTING = "COMMITTING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    #: A COMPLETED batch whose users are being deactivated (revertImport), then done.
    REVERTING = "REVERTING"
    REVERTED = "REVERTED"


class AccessMode(StrEnum):
    ASSIGN_GROUPS = "ASSIGN_GROUPS"
    MIRROR_USER = "MIRROR_USER"
    CUSTOMIZE = "CUSTOMIZE"


@dataclass(frozen=True)
class RowAccess:
    """What one row's user receives when access is CUSTOMIZE."""

    group_ids: list[UUID] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)

    def as_event_data(self) -> dict[str, list[Any]]:
        return {"group_ids": list(self.group_ids), "permissions": list(self.permissions)}


def check_access(
    mode: AccessMode,
    group_ids: Sequence[UUID],
    mirror_user_id: UUID | None,
    rows: Mapping[int, RowAccess] | None,
) -> None:
    """Each mode takes its own part of the input and no other."""
    parts = {
        AccessMode.ASSIGN_GROUPS: ("groupIds", bool(group_ids)),
        AccessMode.MIRROR_USER: ("mirrorUserId", mirror_user_id is not None),
        AccessMode.CUSTOMIZE: ("rows", rows is not None),
    }
    if mode is AccessMode.MIRROR_USER and mirror_user_id is None:
        raise InvalidInputError(
            "Say whose access to mirror.", field="access.mirrorUserId", code="REQUIRED"
        )
    for other, (name, present) in parts.items():
        if other is not mode and present:
            raise InvalidInputError(
                f"{name} is only for {other}; leave it out for {mode}.",
                field=f"access.{name}",
                code="NOT_FOR_MODE",
            )


def row_data(row: RowInput) -> RowData:
    return [row.first_name, row.last_name, row.email, row.username]


def errors_data(errors: Sequence[RowError]) -> ErrorsData:
    return [[error.column, error.code, error.message] for error in errors]


def result_data(result: RowResult) -> ResultData:
    data: ResultData = {"status": result.status.value, "errors": errors_data(result.errors)}
    if result.existing is not None:
        data["existing"] = [str(result.existing.user_id), result.existing.status.value]
    return data


def changes_data(changes: Mapping[int, RowResult]) -> dict[str, ResultData]:
    return {str(number): result_data(result) for number, result in changes.items()}


def counts_data(counts: ReviewCounts) -> dict[str, int]:
    return {
        "valid": counts.valid,
        "invalid": counts.invalid,
        "excluded": counts.excluded,
        "existing": counts.existing,
    }
