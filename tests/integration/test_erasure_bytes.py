"""Issue 14's test, on server processes: a person imported from a file with errors (their
own row corrected in the review), mailed twice (the file outbox), deactivated,
reactivated and deactivated again, then erased with eraseUser. No byte of their names,
email or username is left in the database's files (SQLite: the file, its log and the
log's index) or a dump of it (PostgreSQL), nor in the outbox folder; their history
replays; their email registers again; a rebuild changes no read-model row. And an
erasure cut short by a crash (recorded, keys not destroyed, nothing else done) is
completed by the next server, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from bootstrap import Services
from domain.uniqueness import KeyKind, UniqueKey
from domain.users import User
from domain.values import email_key, username_key
from settings import Settings
from tests.api.operations import Administrator
from tests.integration.erasure import (
    Person,
    changed_tables,
    erase,
    history,
    leaks,
    lived,
    read_models,
)
from tests.integration.harness import Spawn, roster, settled
from tests.integration.test_import_crash import opened
from tests.support import ServerProcess

#: Mails go out (to the file outbox), and an uploaded file is kept for a worker to read.
SERVER = {"ROSTER_MAIL_DELIVERY": "on", "ROSTER_IMPORT_INLINE_ROWS": "1"}
REASON = "GDPR request 2026-117"
#: The mails of the file's two other people, left in the outbox.
OTHERS_MAILS = 2


def outbox_of(env: dict[str, str]) -> Path:
    return Path(env["ROSTER_OUTBOX_DIR"])


def settle(server: ServerProcess, env: dict[str, str]) -> None:
    """Once the erased person's mails are forgotten, every other mail is sent and
    recorded, and the read models hold every event."""
    outbox = outbox_of(env)
    files = settled(lambda: len(list(outbox.iterdir())), OTHERS_MAILS, within=30)
    assert files == OTHERS_MAILS, sorted(path.name for path in outbox.iterdir())

    def idle() -> bool:
        health = server.api.http.get("/health").json()
        with opened(env) as services, services.database.reading() as cursor:
            cursor.execute(
                "SELECT count(*) AS n FROM mail_deliveries WHERE status IN ('PENDING', 'ERASING')"
            )
            found = cursor.fetchone()
        waiting = int(found["n"]) if found else 0
        return waiting == 0 and health["events"] == health["readModelPosition"]

    assert settled(idle, True, within=30)


def test_an_erased_person_leaves_no_byte_in_the_store_or_the_outbox(
    spawn: Spawn, env: dict[str, str]
) -> None:
    server = spawn.start(SERVER)
    person = Person()
    user_id, admin = lived(server.api, person)
    settings = Settings.from_env(env)
    assert leaks(settings, outbox_of(env), person), "the search finds nothing even before"

    assert erase(admin, user_id)["status"] == "ERASED"
    settle(server, env)

    assert leaks(settings, outbox_of(env), person) == []


def test_after_the_erasure_the_history_replays_a_rebuild_changes_nothing_and_the_email_is_free(
    spawn: Spawn, env: dict[str, str]
) -> None:
    server = spawn.start(SERVER)
    person = Person()
    user_id, admin = lived(server.api, person)
    assert erase(admin, user_id)["status"] == "ERASED"
    settle(server, env)

    assert history(admin, user_id) == [
        (None, "PENDING", "IMPORT", None),
        ("PENDING", "DEACTIVATED", "ADMINISTRATOR", None),
        ("DEACTIVATED", "PENDING", "ADMINISTRATOR", None),
        ("PENDING", "DEACTIVATED", "ADMINISTRATOR", None),
        ("DEACTIVATED", "ERASED", "ERASURE", REASON),
    ]
    with opened(env) as services:
        before = read_models(services.database)
        rebuilt = roster("projections", "rebuild", env=env)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert changed_tables(before, read_models(services.database)) == []
    again = admin.create_user(person.first_name, person.last_name, person.email)
    assert (again["__typename"], again["status"]) == ("User", "PENDING")
    assert again["id"] != user_id


# ---------------------------------------------------------------- a crash


def erasure_recorded(services: Services, user_id: UUID) -> None:
    """What a process that crashed right after recording the erasure leaves: the
    erasure and the released email and username written, and nothing else (the keys
    not destroyed, no read model told). The person's own key is the key of the row
    that registered them too."""
    user = services.roster.get_aggregate(User, user_id, "user")
    released = [
        UniqueKey(KeyKind.EMAIL, email_key(user.email), user.id),
        UniqueKey(KeyKind.USERNAME, username_key(user.username), user.id),
    ]
    user.erase("hr.lead", REASON, rows=[], key_ids=[user.id])
    services.roster.save(user, released_keys=released)


def has_key(services: Services, user_id: UUID) -> bool:
    with services.database.reading() as cursor:
        cursor.execute(
            "SELECT count(*) AS n FROM personal_keys WHERE id = %s AND key IS NOT NULL",
            (user_id.bytes,),
        )
        found: dict[str, Any] | None = cursor.fetchone()
    return found is not None and int(found["n"]) == 1


def test_an_erasure_cut_short_by_a_crash_is_completed_by_the_next_server_once(
    spawn: Spawn, env: dict[str, str]
) -> None:
    first = spawn.start(SERVER)
    person = Person()
    user_id, _ = lived(first.api, person)
    first.stop()
    with opened(env) as services:
        erasure_recorded(services, UUID(user_id))
        assert has_key(services, UUID(user_id))
    settings = Settings.from_env(env)
    assert leaks(settings, outbox_of(env), person), "nothing was left to complete"

    second = spawn.start(SERVER)
    settle(second, env)

    with opened(env) as services:
        assert not has_key(services, UUID(user_id))
    assert leaks(settings, outbox_of(env), person) == []
    admin_again = Administrator(second.api, subject="hr.lead")
    erasures = [change for change in history(admin_again, user_id) if change[1] == "ERASED"]
    assert erasures == [("DEACTIVATED", "ERASED", "ERASURE", REASON)]
    assert erase(admin_again, user_id)["__typename"] == "InvalidState"
