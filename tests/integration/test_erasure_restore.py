"""A backup taken before an erasure, restored after it: `roster erasures reapply` erases
the person again from the erasure ledger, and nothing of them is left in the store.

The backup is the whole database, keys included: the worst case, a keys backup restored
with the data. On SQLite it is a copy of the file (SQLite's backup API); on PostgreSQL a
`pg_dump` restored with `pg_restore --clean`.
"""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from uuid import UUID

from bootstrap import Services, build_services
from domain.application import NewUser
from domain.statuses import UserStatus
from domain.users import User
from projections.database import marks
from settings import Settings
from tests.conftest import ON_POSTGRES
from tests.integration.harness import roster

ERASED_BEFORE = NewUser(first_name="Ottoline", last_name="Vantongeren", email="o.vant@example.org")
ERASED_AFTER = NewUser(first_name="Quintessa", last_name="Brightwater", email="qb@example.org")
KEPT = NewUser(first_name="Kept", last_name="Person", email="kept.person@example.org")
SECRETS = [b"Ottoline", b"Vantongeren", b"o.vant", b"Quintessa", b"Brightwater", b"qb@example"]


def register(services: Services, new: NewUser) -> UUID:
    return services.roster.register_user(new, actor="admin@example.org").id


def erase(services: Services, user_id: UUID) -> None:
    services.erasures.erase_user(user_id, actor="admin@example.org", reason="Request 14")


def back_up(settings: Settings, folder: Path) -> Path:
    if ON_POSTGRES:
        dump = folder / "backup.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), settings.store.url], check=True)
        return dump
    copy = folder / "backup.sqlite"
    with sqlite3.connect(settings.store.sqlite_path) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    return copy


def restore(settings: Settings, backup: Path) -> None:
    if ON_POSTGRES:
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "-d", settings.store.url, str(backup)],
            check=True,
        )
        return
    with sqlite3.connect(backup) as copy, sqlite3.connect(settings.store.sqlite_path) as live:
        copy.backup(live)


def store_bytes(settings: Settings) -> bytes:
    """What the store holds on disk (SQLite: the file and its log, after a checkpoint) or
    in a dump (PostgreSQL)."""
    if ON_POSTGRES:
        return subprocess.run(
            ["pg_dump", settings.store.url], check=True, capture_output=True
        ).stdout
    path = Path(settings.store.sqlite_path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log = Path(f"{path}-wal")
    return path.read_bytes() + (log.read_bytes() if log.exists() else b"")


def test_reapplying_the_ledger_erases_again_whom_a_restored_backup_brought_back(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    with closing(build_services(settings)) as services:
        before, after, kept = (
            register(services, new) for new in (ERASED_BEFORE, ERASED_AFTER, KEPT)
        )
        services.read_model.catch_up()
        old_keys = keys_of(services, [before])  # in a keys backup older than the erasure
        erase(services, before)
        backup = back_up(settings, tmp_path)
        erase(services, after)

    restore(settings, backup)
    with closing(build_services(settings)) as restored:
        brought_back = restored.roster.get_aggregate(User, after, "user")
        put_keys(restored, old_keys)  # that keys backup, restored with the data
    assert (brought_back.status, brought_back.email) == (UserStatus.PENDING, ERASED_AFTER.email)

    result = roster("erasures", "reapply", env=env)

    assert result.returncode == 0, result.stderr
    assert "1 users erased again" in result.stdout
    with closing(build_services(settings)) as checked:
        users = checked.roster.users_of([before, after, kept])
        left = keys_of(checked, [before, after])
        held = store_bytes(settings)
        again = checked.roster.register_user(ERASED_AFTER, actor="admin@example.org")
    assert {user_id: (u.status, u.email) for user_id, u in users.items()} == {
        before: (UserStatus.ERASED, ""),
        after: (UserStatus.ERASED, ""),
        kept: (UserStatus.PENDING, KEPT.email),
    }
    assert left == {}
    assert [secret for secret in SECRETS if secret in held] == [], "the restored store kept them"
    assert again.id not in (before, after)


def keys_of(services: Services, ids: list[UUID]) -> dict[UUID, bytes]:
    with services.database.reading() as cursor:
        cursor.execute(
            f"SELECT id, key FROM personal_keys WHERE key IS NOT NULL AND id IN ({marks(ids)})",
            [key_id.bytes for key_id in ids],
        )
        return {UUID(bytes=bytes(row["id"])): bytes(row["key"]) for row in cursor.fetchall()}


def put_keys(services: Services, keys: dict[UUID, bytes]) -> None:
    with services.database.writing() as cursor:
        cursor.executemany(
            "INSERT INTO personal_keys (id, key) VALUES (%s, %s)"
            " ON CONFLICT (id) DO UPDATE SET key = excluded.key",
            [(key_id.bytes, key) for key_id, key in keys.items()],
        )
