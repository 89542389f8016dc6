"""`roster legacy-import FILE.csv`: the legacy migration (domain.imports.legacy) for an
operator at a terminal: progress, a summary, the rows not registered and why."""

from __future__ import annotations

import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from domain.errors import InvalidInputError
from domain.imports.invalid_file import InvalidFileError
from domain.imports.legacy import LEGACY, LegacyMigration, LegacyRow, MigrationReport
from domain.imports.rows import neutralised
from settings import Settings

#: Rows not registered that the terminal shows; the report file has them all.
SHOWN_ROWS = 50
PROGRESS_SECONDS = 2.0


def run_legacy_import(
    settings: Settings,
    file: str,
    *,
    actor: str,
    reason: str | None,
    dry_run: bool,
    report_path: str | None,
) -> int:
    """0 when every row is registered (now or before), 1 when some rows are not, 2 when
    the file cannot be read or the actor or reason cannot be kept."""
    from bootstrap import build_services

    path = Path(file)
    if not path.is_file():
        print(f"roster: {file} is not a file.", file=sys.stderr)
        return 2
    default = (
        f"Migrated from {''.join(c for c in path.name if c.isprintable())} on "
        f"{datetime.now(UTC).date().isoformat()}: status and creation date as the legacy "
        "system recorded them."
    )
    services = build_services(settings)
    try:
        migration = LegacyMigration(
            services.roster,
            actor=actor,
            reason=reason if reason and reason.strip() else default,
            max_bytes=settings.max_upload_bytes,
            max_rows=settings.max_rows,
        )
        progress = _Progress()

        def on_chunk(report: MigrationReport) -> None:
            if not dry_run:
                services.read_model.catch_up()  # the user list shows each chunk at once
            progress.show(report)

        report = migration.run(lambda: path.open("rb"), dry_run=dry_run, on_chunk=on_chunk)
    except InvalidInputError as error:  # an actor or reason the history cannot keep
        print(f"roster: --{error.field}: {error.message}", file=sys.stderr)
        return 2
    except InvalidFileError as error:
        print(f"roster: {path.name} was not imported: {error.message}", file=sys.stderr)
        return 2
    finally:
        services.close()
    _summary(path, report, dry_run)
    if report_path and report.refused:
        with open(report_path, "w", encoding="utf-8-sig", newline="") as out:
            _write_report(out, report.refused)
        print(f"The rows not registered, with their errors, are in {report_path}.")
    return 1 if report.refused else 0


class _Progress:
    def __init__(self) -> None:
        self.last = time.monotonic()

    def show(self, report: MigrationReport) -> None:
        if time.monotonic() - self.last >= PROGRESS_SECONDS:
            self.last = time.monotonic()
            print(f"  {report.rows:,} rows checked, {report.registered:,} registered", flush=True)


def _summary(path: Path, report: MigrationReport, dry_run: bool) -> None:
    registered = "would be registered" if dry_run else "registered"
    print(
        f"{path.name}: {report.rows:,} rows; {report.registered:,} {registered}, "
        f"{report.registered_before:,} registered by an earlier run, "
        f"{len(report.refused):,} not registered."
    )
    for row in report.refused[:SHOWN_ROWS]:
        for error in row.errors:
            print(f"  line {row.line} (row {row.number}), {error.column or 'row'}: {error.message}")
    if len(report.refused) > SHOWN_ROWS:
        print(f"  ... and {len(report.refused) - SHOWN_ROWS:,} more rows (see --report).")
    if report.refused:
        print(
            "Correct these rows in the file and run the command again: the rows registered "
            "already are skipped."
        )


def _write_report(out: IO[str], rows: list[LegacyRow]) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", *LEGACY.columns, "errors"])
    for row in rows:
        errors = "; ".join(f"{error.column or 'row'}: {error.message}" for error in row.errors)
        cells = [row.values[column] for column in LEGACY.columns]
        writer.writerow([str(row.line), *map(neutralised, cells), neutralised(errors)])
