"""The import review tables: one row per batch (status and counts) and one per file row
(values, status, errors, the user it registered), kept from ImportBatch events."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from domain.imports.batch import ImportBatch
from domain.users import User
from projections.database import Cursor, marks
from projections.encoding import from_json, iso, to_json
from projections.erasure import erase_rows

COUNTS = ("valid", "invalid", "excluded", "existing")
#: Rows of a batch changed by one statement at most.
UPDATE_ROWS = 1000


class ImportView:
    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM import_rows")
        cursor.execute("DELETE FROM import_batches")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        for event, position in events:
            if isinstance(event, ImportBatch.Event):
                self._apply(cursor, event, position)
            elif isinstance(event, User.Erased):
                erase_rows(cursor, event)

    def _apply(self, cursor: Cursor, event: Any, position: int) -> None:
        batch_id = str(event.originator_id)
        if isinstance(event, ImportBatch.Started):
            self._started(cursor, event, position)
        elif isinstance(event, ImportBatch.RowsRead):
            self._rows_read(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.RowsRevised):
            self._rows_revised(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.RowsChanged | ImportBatch.Reviewed):
            self._counted(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.RowActionsChosen):
            self._actions_chosen(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.AccessChosen):
            access = {
                "mode": event.mode,
                "group_ids": [str(g) for g in event.group_ids],
                "mirror_user_id": _text(event.mirror_user_id),
                "rows": _rows_access(event.rows),
            }
            self._set(cursor, batch_id, access=to_json(access))
        elif isinstance(event, ImportBatch.CommitStarted):
            self._commit_started(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.RowsRegistered):
            self._rows_registered(cursor, batch_id, event)
        elif isinstance(event, ImportBatch.Completed | ImportBatch.Cancelled):
            self._set(cursor, batch_id, status=_status(event))
        elif isinstance(event, ImportBatch.RevertStarted):
            self._set(cursor, batch_id, status="REVERTING")
        elif isinstance(event, ImportBatch.Reverted):
            self._set(cursor, batch_id, status="REVERTED")

    def _started(self, cursor: Cursor, event: Any, position: int) -> None:
        cursor.execute(
            "INSERT INTO import_batches (id, seq, filename, created_by, created_at, status,"
            " total, validated, valid, invalid, excluded, processed, created, failed)"
            " VALUES (%s, %s, %s, %s, %s, 'VALIDATING', %s, 0, 0, 0, 0, 0, 0, 0)",
            (
                str(event.originator_id),
                position,
                event.filename,
                event.created_by,
                iso(event.timestamp),
                event.rows or 0,
            ),
        )

    def _rows_read(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        keys = event.keys or [[None, None]] * len(event.rows)
        cursor.executemany(
            "INSERT INTO import_rows (batch_id, row_number, first_name, last_name, email,"
            " username, status, errors, email_key, username_key, existing_user_id,"
            " existing_user_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    batch_id,
                    event.first_row + offset,
                    *row,
                    result["status"],
                    to_json(result["errors"]),
                    *row_keys,
                    *result.get("existing", (None, None)),
                )
                for offset, (row, result, row_keys) in enumerate(
                    zip(event.rows, event.results, keys, strict=True)
                )
            ],
        )
        valid = sum(result["status"] == "VALID" for result in event.results)
        existing = sum(result["status"] == "EXISTING" for result in event.results)
        n = len(event.rows)
        cursor.execute(
            "UPDATE import_batches SET validated = validated + %s,"
            " total = CASE WHEN total < validated + %s THEN validated + %s ELSE total END,"
            " valid = valid + %s, invalid = invalid + %s, existing = existing + %s"
            " WHERE id = %s",
            (n, n, n, valid, n - valid - existing, existing, batch_id),
        )
        # RECORDING starts with the first rows recorded (the file was checked before).
        at = iso(event.timestamp)
        cursor.execute(
            "UPDATE import_batches SET phase_started_at = COALESCE(phase_started_at, %s),"
            " phase_done = COALESCE(phase_done, validated), progressed_at = %s WHERE id = %s",
            (at, at, batch_id),
        )

    def _rows_revised(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        """A corrected file's rows: in bulk, as a revision may hold thousands."""
        changes = [(int(number), change) for number, change in event.changes.items()]
        cursor.executemany(
            "UPDATE import_rows SET first_name = %s, last_name = %s, email = %s,"
            " username = %s, email_key = %s, username_key = %s"
            " WHERE batch_id = %s AND row_number = %s",
            [(*c["values"], *c["keys"], batch_id, n) for n, c in changes if "values" in c],
        )
        # A row whose result changed is reviewed anew: its action is SKIP again.
        cursor.executemany(
            "UPDATE import_rows SET status = %s, errors = %s, existing_user_id = %s,"
            " existing_user_status = %s, action = NULL WHERE batch_id = %s AND row_number = %s",
            [
                (c["status"], to_json(c["errors"]), *c.get("existing", (None, None)), batch_id, n)
                for n, c in changes
                if "status" in c
            ],
        )
        self._rows_added(cursor, batch_id, event.first_added, event.added)
        self._set(cursor, batch_id, **{name: getattr(event, name) for name in COUNTS})

    def _rows_added(self, cursor: Cursor, batch_id: str, first: int, added: list[Any]) -> None:
        """Rows a revision added after the last: the batch has that many more."""
        if not added:
            return
        cursor.executemany(
            "INSERT INTO import_rows (batch_id, row_number, first_name, last_name, email,"
            " username, status, errors, email_key, username_key, existing_user_id,"
            " existing_user_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    batch_id,
                    first + offset,
                    *row["values"],
                    row["status"],
                    to_json(row["errors"]),
                    *row["keys"],
                    *row.get("existing", (None, None)),
                )
                for offset, row in enumerate(added)
            ],
        )
        cursor.execute(
            "UPDATE import_batches SET total = total + %s, validated = validated + %s"
            " WHERE id = %s",
            (len(added), len(added), batch_id),
        )

    def _counted(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        for number, change in getattr(event, "changes", {}).items():
            values = change.get("values")
            if values is not None:
                cursor.execute(
                    "UPDATE import_rows SET first_name = %s, last_name = %s, email = %s,"
                    " username = %s, email_key = %s, username_key = %s"
                    " WHERE batch_id = %s AND row_number = %s",
                    (*values, *change.get("keys", (None, None)), batch_id, int(number)),
                )
            if "status" in change:
                # A row whose result changed is reviewed anew: its action is SKIP again.
                cursor.execute(
                    "UPDATE import_rows SET status = %s, errors = %s, existing_user_id = %s,"
                    " existing_user_status = %s, action = NULL"
                    " WHERE batch_id = %s AND row_number = %s",
                    (
                        change["status"],
                        to_json(change["errors"]),
                        *change.get("existing", (None, None)),
                        batch_id,
                        int(number),
                    ),
                )
        counts = {name: getattr(event, name) for name in COUNTS}
        if isinstance(event, ImportBatch.Reviewed):
            self._set(cursor, batch_id, status="IN_REVIEW", **counts)
        else:
            self._set(cursor, batch_id, **counts)

    def _actions_chosen(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        if event.row_numbers is None:
            cursor.execute(
                "UPDATE import_rows SET action = %s WHERE batch_id = %s AND status = 'EXISTING'",
                (event.action, batch_id),
            )
            return
        for start in range(0, len(event.row_numbers), UPDATE_ROWS):
            chunk = event.row_numbers[start : start + UPDATE_ROWS]
            cursor.execute(
                "UPDATE import_rows SET action = %s"
                f" WHERE batch_id = %s AND row_number IN ({marks(chunk)})",
                (event.action, batch_id, *chunk),
            )

    def _commit_started(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        if event.excluded_invalid:
            cursor.execute(
                "UPDATE import_rows SET status = 'EXCLUDED'"
                " WHERE batch_id = %s AND status = 'INVALID'",
                (batch_id,),
            )
            cursor.execute(
                "UPDATE import_batches SET excluded = excluded + invalid, invalid = 0"
                " WHERE id = %s",
                (batch_id,),
            )
        if event.mirrored_group_ids is not None:
            cursor.execute("SELECT access FROM import_batches WHERE id = %s", (batch_id,))
            found = cursor.fetchone()
            access = from_json(found["access"]) if found and found["access"] else {}
            access["mirrored"] = {
                "group_ids": [str(g) for g in event.mirrored_group_ids],
                "permissions": list(event.mirrored_permissions or []),
            }
            self._set(cursor, batch_id, access=to_json(access))
        # REGISTERING starts with the commit.
        at = iso(event.timestamp)
        cursor.execute(
            "UPDATE import_batches SET status = 'COMMITTING', phase_started_at = %s,"
            " phase_done = processed, progressed_at = %s WHERE id = %s",
            (at, at, batch_id),
        )

    def _rows_registered(self, cursor: Cursor, batch_id: str, event: Any) -> None:
        # One statement per thousand rows, not one a row: on PostgreSQL each statement is
        # a round trip. (A VALUES list names its columns column1, column2 on both stores.)
        users = [(int(number), str(user)) for number, user in event.created.items()]
        for start in range(0, len(users), UPDATE_ROWS):
            chunk = users[start : start + UPDATE_ROWS]
            cursor.execute(
                "UPDATE import_rows SET status = 'CREATED', user_id = v.column2"
                f" FROM (VALUES {', '.join(['(%s, %s)'] * len(chunk))}) AS v"
                " WHERE import_rows.batch_id = %s AND import_rows.row_number = v.column1",
                [*itertools.chain.from_iterable(chunk), batch_id],
            )
        cursor.executemany(
            "UPDATE import_rows SET status = 'FAILED', errors = %s"
            " WHERE batch_id = %s AND row_number = %s",
            [(to_json(errors), batch_id, int(number)) for number, errors in event.failed.items()],
        )
        for status, numbers in (("UPDATED", event.updated), ("SKIPPED", event.skipped)):
            for start in range(0, len(numbers or ()), UPDATE_ROWS):
                chunk = (numbers or [])[start : start + UPDATE_ROWS]
                cursor.execute(
                    f"UPDATE import_rows SET status = '{status}', action = COALESCE(action, 'SKIP')"
                    f" WHERE batch_id = %s AND row_number IN ({marks(chunk)})",
                    (batch_id, *chunk),
                )
        created, failed = len(event.created), len(event.failed)
        updated, skipped = len(event.updated or ()), len(event.skipped or ())
        cursor.execute(
            "UPDATE import_batches SET created = created + %s, failed = failed + %s,"
            " updated = updated + %s, skipped = skipped + %s, processed = processed + %s,"
            " progressed_at = %s WHERE id = %s",
            (
                created,
                failed,
                updated,
                skipped,
                created + failed + updated + skipped,
                iso(event.timestamp),
                batch_id,
            ),
        )

    @staticmethod
    def _set(cursor: Cursor, batch_id: str, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        cursor.execute(
            f"UPDATE import_batches SET {assignments} WHERE id = %s",
            (*columns.values(), batch_id),
        )


def _status(event: Any) -> str:
    return "COMPLETED" if isinstance(event, ImportBatch.Completed) else "CANCELLED"


def _rows_access(rows: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, list[str]]]:
    return {
        number: {
            "group_ids": [str(g) for g in row["group_ids"]],
            "permissions": list(row["permissions"]),
        }
        for number, row in rows.items()
    }


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None
