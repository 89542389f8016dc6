"""Migrating users from a legacy system (`roster legacy-import FILE.csv`).

A legacy file has the template's columns plus each user's `status` and `created_at` as
the old system recorded them. Its users are registered with that status (the only
way into BLOCKED and DISABLED) and that creation time, source LEGACY_MIGRATION.

Rows are checked like an import's (`rows.check_columns`, duplicates within the file,
emails and usernames registered already) plus the two history columns. The file is
read twice and never held: once to find the keys that rows share, once to register
the good rows CHUNK_ROWS at a time, each chunk in one atomic write.

A user's id is derived from their email, so a second run of the same file (after the
bad rows were corrected, or after a crash) finds the rows registered by the first and
registers nobody twice; two runs at the same time cannot either, as the event store
refuses a second user with the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, cast
from uuid import UUID

from domain import values
from domain.application import NewUser, Roster
from domain.errors import DomainError
from domain.imports.columns import TEMPLATE_COLUMNS, ColumnSet
from domain.imports.duplicates import SharedKeys, duplicate_error
from domain.imports.reading import MAX_BYTES, MAX_ROWS, CsvRow, open_csv
from domain.imports.rows import CheckedRow, RowError, RowInput, check_columns, row_error, shown
from domain.statuses import StatusChangeSource, UserStatus
from domain.uniqueness import KeyKind, KeyOwners

#: A legacy file's columns; a username left empty is derived from the email.
LEGACY = ColumnSet(
    (*TEMPLATE_COLUMNS, "status", "created_at"),
    ("first_name", "last_name", "email", "status", "created_at"),
)
#: Rows registered in one atomic write.
CHUNK_ROWS = 2_000
#: The ids of migrated users: uuid5 of this namespace and the email's key.
LEGACY_NAMESPACE = UUID("6f1c2b1e-5d3a-4c1e-9a0b-7e2f3d4c5b6a")
#: No account of a computer system was created before this.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

_STATUSES = ", ".join(UserStatus)


def legacy_user_id(email: str) -> UUID:
    """The id a migrated user gets: the same for the same email, whatever its case."""
    return uuid.uuid5(LEGACY_NAMESPACE, values.email_key(email))


@dataclass(frozen=True, slots=True)
class LegacyRow:
    """A row that was not registered: as found in the file, with every fault."""

    number: int
    line: int
    values: dict[str, str]
    errors: tuple[RowError, ...]


@dataclass
class MigrationReport:
    rows: int = 0
    registered: int = 0
    #: Rows whose user an earlier run registered.
    registered_before: int = 0
    refused: list[LegacyRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Checked:
    row: CsvRow
    columns: CheckedRow
    status: UserStatus | None
    created_at: datetime | None
    errors: tuple[RowError, ...]


class LegacyMigration:
    """Registers a legacy file's users; `run` returns what became of each row."""

    def __init__(
        self,
        roster: Roster,
        *,
        actor: str,
        reason: str,
        max_bytes: int = MAX_BYTES,
        max_rows: int = MAX_ROWS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.roster = roster
        # What the status history keeps: InvalidInputError (field actor or reason) else.
        self.actor = values.parse_name(actor, field="actor")
        self.reason = values.parse_reason(reason)
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self.now = now

    def run(
        self,
        open_file: Callable[[], IO[bytes]],
        *,
        dry_run: bool = False,
        on_chunk: Callable[[MigrationReport], None] = lambda report: None,
    ) -> MigrationReport:
        """Reads the file twice through `open_file`. InvalidFileError (before anything is
        registered) when the file itself is at fault. With `dry_run`, registers nobody
        but reports the same."""
        with open_file() as stream:
            emails, usernames = self._shared_keys(stream)
        report = MigrationReport()
        with open_file() as stream:
            for chunk in self._chunks(stream, emails, usernames, report):
                self._register(chunk, report, dry_run=dry_run)
                on_chunk(report)
        report.refused.sort(key=lambda row: row.number)  # taken keys are found last
        return report

    # ------------------------------------------------------------------ the two passes

    def _rows(self, stream: IO[bytes]) -> Iterator[CsvRow]:
        return iter(
            open_csv(stream, max_bytes=self.max_bytes, max_rows=self.max_rows, columns=LEGACY)
        )

    def _shared_keys(self, stream: IO[bytes]) -> tuple[SharedKeys, SharedKeys]:
        """The first pass: which rows hold each email and given username. Reading the file
        to its end also refuses a file at fault before anything is registered."""
        emails, usernames = SharedKeys(), SharedKeys()
        for row in self._rows(stream):
            checked = check_columns(_input(row))
            if (email := checked.email_key()) is not None:
                emails.add(email, row.number)
            if (username := checked.username_key()) is not None:
                usernames.add(username, row.number)
        return emails, usernames

    def _chunks(
        self,
        stream: IO[bytes],
        emails: SharedKeys,
        usernames: SharedKeys,
        report: MigrationReport,
    ) -> Iterator[list[_Checked]]:
        """The second pass: rows checked in full, the bad ones reported, the good ones in
        chunks."""
        chunk: list[_Checked] = []
        for row in self._rows(stream):
            report.rows += 1
            checked = self._check(row, emails, usernames)
            if checked.errors:
                report.refused.append(_refused(checked, checked.errors))
                continue
            chunk.append(checked)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _check(self, row: CsvRow, emails: SharedKeys, usernames: SharedKeys) -> _Checked:
        columns = check_columns(_input(row))
        errors = list(columns.errors)
        for column, key, holders in [
            ("email", columns.email_key(), emails),
            ("username", columns.username_key(), usernames),
        ]:
            if key is not None and holders.is_shared(key):
                others, count = holders.others(key, row.number)
                errors.append(duplicate_error(column, row.values[column].strip(), others, count))
        status = _status(row.values["status"], errors)
        created_at = self._created_at(row.values["created_at"], errors)
        return _Checked(row, columns, status, created_at, tuple(errors))

    def _created_at(self, typed: str, errors: list[RowError]) -> datetime | None:
        text = values.clean(typed)
        if not text:
            errors.append(
                RowError(
                    "created_at",
                    "REQUIRED",
                    "Enter the date the user was created in the old system, such as "
                    "2019-03-14 or 2019-03-14T09:30:00Z.",
                )
            )
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            errors.append(
                RowError(
                    "created_at",
                    "INVALID_DATE",
                    f"Write the creation date '{shown(text)}' in ISO 8601, such as 2019-03-14 "
                    "or 2019-03-14T09:30:00+01:00 (a time without an offset is taken as UTC).",
                )
            )
            return None
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        if not EARLIEST <= moment <= self.now():
            errors.append(
                RowError(
                    "created_at",
                    "INVALID_DATE",
                    f"The creation date {shown(text)} is "
                    f"{'in the future' if moment > EARLIEST else 'before 1970'}: "
                    "correct it to the date the user was created.",
                )
            )
            return None
        return moment.astimezone(UTC)

    # ------------------------------------------------------------------ registering

    def _register(self, chunk: list[_Checked], report: MigrationReport, *, dry_run: bool) -> None:
        """Registers a chunk's rows in one atomic write, but for those an earlier run
        registered and those whose email or username another user holds."""
        ids = [legacy_user_id(cast(str, checked.columns.email)) for checked in chunk]
        owners = cast(KeyOwners, self.roster.recorder)
        email_owners = owners.owners(KeyKind.EMAIL, [_key(c.columns.email_key()) for c in chunk])
        username_owners = owners.owners(
            KeyKind.USERNAME, [key for c in chunk if (key := c.columns.username_key())]
        )
        new: list[tuple[_Checked, UUID]] = []
        for checked, user_id in zip(chunk, ids, strict=True):
            email_owner = email_owners.get(_key(checked.columns.email_key()))
            username = checked.columns.username_key()
            username_owner = username_owners.get(username) if username else None
            if email_owner == user_id:
                report.registered_before += 1
            elif email_owner is not None:
                report.refused.append(_refused(checked, (_email_taken(checked),)))
            elif username_owner is not None:
                report.refused.append(_refused(checked, (_username_taken(checked),)))
            else:
                new.append((checked, user_id))
        if dry_run:
            report.registered += len(new)
            return
        outcomes = self.roster.register_users(
            [self._new_user(checked, user_id) for checked, user_id in new],
            actor=self.actor,
            source=StatusChangeSource.LEGACY_MIGRATION,
        ).outcomes
        self._count(new, outcomes, report)

    def _count(
        self,
        new: Sequence[tuple[_Checked, UUID]],
        outcomes: Sequence[object],
        report: MigrationReport,
    ) -> None:
        refused = [(c, i, o) for (c, i), o in zip(new, outcomes, strict=True) if _failed(o)]
        report.registered += len(new) - len(refused)
        # A run beside this one may have registered a row since we looked: not twice.
        owners = cast(KeyOwners, self.roster.recorder).owners(
            KeyKind.EMAIL, [_key(checked.columns.email_key()) for checked, _, _ in refused]
        )
        for checked, user_id, error in refused:
            if owners.get(_key(checked.columns.email_key())) == user_id:
                report.registered_before += 1
            else:
                assert isinstance(error, DomainError)
                report.refused.append(_refused(checked, (row_error(error),)))

    def _new_user(self, checked: _Checked, user_id: UUID) -> NewUser:
        row = checked.columns.clean()
        assert row is not None, "only rows without errors are registered"
        assert checked.status is not None
        return NewUser(
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            username=row.username,
            id=user_id,
            kept=True,  # checked above with createUser's rules
            status=checked.status,
            created_at=checked.created_at,
            reason=self.reason,
        )


def _input(row: CsvRow) -> RowInput:
    cells = row.values
    return RowInput(cells["first_name"], cells["last_name"], cells["email"], cells["username"])


def _status(typed: str, errors: list[RowError]) -> UserStatus | None:
    text = values.clean(typed).upper()
    if text in UserStatus.__members__:
        return UserStatus(text)
    errors.append(
        RowError(
            "status",
            "INVALID_STATUS" if text else "REQUIRED",
            f"Write the status '{shown(values.clean(typed))}' as one of {_STATUSES}."
            if text
            else f"Enter the user's status in the old system: one of {_STATUSES}.",
        )
    )
    return None


def _key(key: str | None) -> str:
    assert key is not None  # a row without errors has an email
    return key


def _failed(outcome: object) -> bool:
    return isinstance(outcome, DomainError)


def _refused(checked: _Checked, errors: tuple[RowError, ...]) -> LegacyRow:
    return LegacyRow(checked.row.number, checked.row.line, checked.row.values, errors)


def _email_taken(checked: _Checked) -> RowError:
    return RowError(
        "email",
        "EMAIL_TAKEN",
        f"The access email {shown(checked.columns.email or '')} is registered to another "
        "user already (not by a legacy import): remove this row, or use another email.",
    )


def _username_taken(checked: _Checked) -> RowError:
    return RowError(
        "username",
        "USERNAME_TAKEN",
        f"The username {shown(checked.columns.username or '')} is taken by another user: "
        "choose another, or leave it empty to have one derived from the email.",
    )
