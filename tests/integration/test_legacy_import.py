"""`roster legacy-import FILE.csv`, run as its own process the way operators run it, and
checked through the real server over HTTP: the status and creation date each row gives,
the status history they start, running a file again, the rows and the files at fault, dry
runs, what administrators can do with migrated users, thousands of users created at one
instant, and two runs of one file at the same time.

Most tests share one store and server (a module's): each registers users of an email
domain of its own, and counts events only around its own runs.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.imports.legacy import CHUNK_ROWS, legacy_user_id
from domain.imports.rows import FORMULA_PREFIXES
from domain.users import User
from settings import Settings
from tests.api.operations import (
    ACCEPT,
    RESEND,
    Administrator,
    event_count,
    store_for_module,
)
from tests.integration.legacy import (
    HEADER,
    Reader,
    Row,
    Summary,
    legacy_csv,
    legacy_import,
    start_legacy_import,
    write_legacy,
)
from tests.support import ThreadedServer

ACTOR = "hr-migration"
REASON = "Moved from the old HR system (ticket OPS-42)"
UTC_ZERO = timedelta(0)

DEFINITIONS = "{ statusDefinitions { status legacy assignable } }"
CREATE_BLOCKED = """
mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }"""


@dataclass
class Store:
    """The module's store, its server, and the environment a `roster` process gets."""

    env: dict[str, str]
    server: ThreadedServer
    admin: Administrator
    reader: Reader
    workdir: Path

    def events(self) -> int:
        return event_count(self.server.api)

    def file(self, name: str, rows: list[Row]) -> Path:
        return write_legacy(self.workdir / name, rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    workdir = tmp_path_factory.mktemp("legacy")
    with store_for_module(workdir) as env, ThreadedServer(Settings.from_env(env)) as server:
        admin = Administrator(server.api)
        yield Store(env, server, admin, Reader(admin), workdir)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def emitted_in_utc(text: str) -> bool:
    return moment(text).utcoffset() == UTC_ZERO


# ---------------------------------------------------------------- one row of each status

#: status -> (its row, the createdAt it must give, in UTC).
EVERY_STATUS: dict[str, tuple[Row, str]] = {
    "PENDING": (
        ("Pat", "Pending", "pat@status.acme.com", "", "pending", "2015-06-01"),
        "2015-06-01T00:00:00+00:00",
    ),
    "ACTIVE": (
        (
            "Ada",
            "Active",
            "Ada@Status.acme.com",
            "ada.active",
            "Active",
            "2016-02-29T23:30:00-02:00",
        ),
        "2016-03-01T01:30:00+00:00",
    ),
    "EXPIRED": (
        ("Eve", "Expired", "eve@status.acme.com", "", "EXPIRED", "2017-07-04T12:00:00"),
        "2017-07-04T12:00:00+00:00",
    ),
    "DEACTIVATED": (
        ("Dan", "Deactivated", "dan@status.acme.com", "", "deactivated", "2018-01-01T00:00+05:30"),
        "2017-12-31T18:30:00+00:00",
    ),
    "BLOCKED": (
        ("Zoë", "Blocked", "zoe@status.acme.com", "", "BLOCKED", "2012-12-12T12:12:12.123456Z"),
        "2012-12-12T12:12:12.123456+00:00",
    ),
    "DISABLED": (
        ("Dee", "Disabled", "dee@status.acme.com", "", "disabled", "1970-01-01"),
        "1970-01-01T00:00:00+00:00",
    ),
}
STATUSES = list(EVERY_STATUS)


@dataclass
class Migration:
    path: Path
    summary: Summary
    started: datetime
    finished: datetime
    #: status -> the user its row registered, as the API shows them.
    users: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def migrated(store: Store) -> Migration:
    """The file of one row of each status, migrated by ACTOR for REASON."""
    path = store.file("every-status.csv", [row for row, _ in EVERY_STATUS.values()])
    started = datetime.now(UTC)
    result = legacy_import(store.env, path, "--actor", ACTOR, "--reason", REASON)
    finished = datetime.now(UTC)
    assert result.returncode == 0, result
    users = {}
    for status, (row, _) in EVERY_STATUS.items():
        user = store.reader.user(row[2])
        assert user is not None, row
        users[status] = user
    return Migration(path, Summary.of(result.stdout), started, finished, users)


def test_the_run_registers_every_row_of_a_good_file(migrated: Migration) -> None:
    assert migrated.summary == Summary("every-status.csv", 6, 6, 0, 0)


@pytest.mark.parametrize("status", STATUSES)
def test_each_row_is_registered_in_the_status_its_file_gives(
    migrated: Migration, status: str
) -> None:
    user = migrated.users[status]
    first_name, last_name, email, _, _, _ = EVERY_STATUS[status][0]
    assert (user["status"], user["firstName"], user["lastName"], user["email"]) == (
        status,
        first_name,
        last_name,
        email,
    )


@pytest.mark.parametrize("status", STATUSES)
def test_a_migrated_users_id_derives_from_their_email(migrated: Migration, status: str) -> None:
    email = EVERY_STATUS[status][0][2]
    assert migrated.users[status]["id"] == str(legacy_user_id(email.upper()))


def test_a_given_username_is_kept_and_a_missing_one_is_derived(migrated: Migration) -> None:
    usernames = {status: user["username"] for status, user in migrated.users.items()}
    assert usernames == {
        "PENDING": "pat",
        "ACTIVE": "ada.active",
        "EXPIRED": "eve",
        "DEACTIVATED": "dan",
        "BLOCKED": "zoe",
        "DISABLED": "dee",
    }


@pytest.mark.parametrize("status", STATUSES)
def test_created_at_is_the_files_moment_in_utc(migrated: Migration, status: str) -> None:
    user, expected = migrated.users[status], EVERY_STATUS[status][1]
    assert moment(user["createdAt"]) == moment(expected)
    assert emitted_in_utc(user["createdAt"]), user["createdAt"]


@pytest.mark.parametrize("status", STATUSES)
def test_the_status_changed_at_the_creation_date(migrated: Migration, status: str) -> None:
    user, expected = migrated.users[status], EVERY_STATUS[status][1]
    assert moment(user["statusChangedAt"]) == moment(expected)


@pytest.mark.parametrize("status", STATUSES)
def test_the_history_is_one_change_into_the_status_at_the_creation_date(
    store: Store, migrated: Migration, status: str
) -> None:
    user_id, expected = migrated.users[status]["id"], EVERY_STATUS[status][1]
    [change] = store.reader.history(user_id)
    assert {k: v for k, v in change.items() if k != "at"} == {
        "userId": user_id,
        "from": None,
        "to": status,
        "actor": ACTOR,
        "source": "LEGACY_MIGRATION",
        "reason": REASON,
        "version": 1,
    }
    assert moment(change["at"]) == moment(expected)
    assert emitted_in_utc(change["at"]), change["at"]


@pytest.mark.parametrize("status", STATUSES)
def test_there_is_no_status_before_the_creation_date(
    store: Store, migrated: Migration, status: str
) -> None:
    user_id, created = migrated.users[status]["id"], moment(EVERY_STATUS[status][1])
    just_before = created - timedelta(microseconds=1)
    east = (created - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=5)))
    assert store.reader.status_at(user_id, just_before.isoformat()) is None
    assert store.reader.status_at(user_id, east.isoformat()) is None


@pytest.mark.parametrize("status", STATUSES)
def test_the_status_from_the_creation_date_on_is_the_legacy_one(
    store: Store, migrated: Migration, status: str
) -> None:
    user_id, created = migrated.users[status]["id"], moment(EVERY_STATUS[status][1])
    west = (created + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5)))
    moments = [created, west, created + timedelta(days=400), datetime.now(UTC)]
    assert [store.reader.status_at(user_id, at.isoformat()) for at in moments] == [status] * 4


def test_the_feed_over_the_old_years_finds_every_migrated_user_oldest_first(
    store: Store, migrated: Migration
) -> None:
    ours = {user["id"]: status for status, user in migrated.users.items()}
    changes = store.reader.feed("1970-01-01T00:00:00Z", "2019-01-01T00:00:00Z")
    found = [(change["userId"], change["to"]) for change in changes if change["userId"] in ours]
    oldest_first = sorted(EVERY_STATUS, key=lambda status: moment(EVERY_STATUS[status][1]))
    assert found == [(migrated.users[status]["id"], status) for status in oldest_first]


@pytest.mark.parametrize("status", STATUSES)
def test_the_feed_around_a_users_creation_date_finds_their_migration(
    store: Store, migrated: Migration, status: str
) -> None:
    ours = {user["id"] for user in migrated.users.values()}
    created = moment(EVERY_STATUS[status][1])
    since, until = created - timedelta(seconds=1), created + timedelta(seconds=1)
    changes = store.reader.feed(since.isoformat(), until.isoformat())
    assert [
        (c["userId"], c["from"], c["to"], c["source"], c["actor"])
        for c in changes
        if c["userId"] in ours
    ] == [(migrated.users[status]["id"], None, status, "LEGACY_MIGRATION", ACTOR)]


def test_the_pending_user_gets_a_fresh_invitation(migrated: Migration) -> None:
    invitation = migrated.users["PENDING"]["invitation"]
    assert invitation is not None
    issued, expires = moment(invitation["issuedAt"]), moment(invitation["expiresAt"])
    assert migrated.started - timedelta(seconds=1) <= issued <= migrated.finished
    assert expires - issued == timedelta(days=7)
    assert invitation["acceptedAt"] is None


def test_users_of_other_statuses_get_no_invitation(migrated: Migration) -> None:
    invitations = {status: user["invitation"] for status, user in migrated.users.items()}
    del invitations["PENDING"]
    assert invitations == dict.fromkeys(invitations)


def test_only_the_pending_users_invitation_is_listed_for_delivery(
    store: Store, migrated: Migration
) -> None:
    ids = [user["id"] for user in migrated.users.values()]
    marks = ", ".join(["%s"] * len(ids))
    with store.server.app.state.services.database.reading() as cursor:
        cursor.execute(
            "SELECT user_id, email, inviter, status FROM mail_deliveries"
            f" WHERE user_id IN ({marks})",
            ids,
        )
        listed = [(r["user_id"], r["email"], r["inviter"], r["status"]) for r in cursor.fetchall()]
    pending = migrated.users["PENDING"]
    assert listed == [(pending["id"], pending["email"], ACTOR, "PENDING")]


def test_by_default_the_actor_is_system_and_the_reason_names_the_file_and_day(
    store: Store,
) -> None:
    path = store.file(
        "hr-export.csv", [("Sam", "Default", "sam@default.acme.com", "", "ACTIVE", "2014-01-01")]
    )
    days = {datetime.now(UTC).date()}
    result = legacy_import(store.env, path)
    days.add(datetime.now(UTC).date())
    assert result.returncode == 0, result
    user = store.reader.user("sam@default.acme.com")
    assert user is not None
    [change] = store.reader.history(user["id"])
    assert change["actor"] == "system"
    assert change["reason"].startswith(
        tuple(f"Migrated from hr-export.csv on {day.isoformat()}: " for day in days)
    ), change["reason"]


# ---------------------------------------------------------------- running a file again


def test_running_the_same_file_again_registers_nobody_twice(
    store: Store, migrated: Migration
) -> None:
    users, events = store.reader.count(), store.events()

    again = legacy_import(store.env, migrated.path, "--actor", ACTOR, "--reason", REASON)

    assert again.returncode == 0, again
    assert Summary.of(again.stdout) == Summary("every-status.csv", 6, 0, 6, 0)
    assert (store.reader.count(), store.events()) == (users, events)


# ---------------------------------------------------------------- rows at fault

GOOD_LINES = (2, 14)
#: The line of each bad row of `faulty_rows`, and the column at fault.
FAULTS = {
    3: "status",  # missing
    4: "status",  # unknown
    5: "created_at",  # not ISO 8601
    6: "created_at",  # in the future
    7: "created_at",  # before 1970
    8: "email",  # not an email
    9: "first_name",  # a formula
    10: "email",  # the same email as line 11
    11: "email",  # the same email as line 10
    12: "email",  # registered already, by createUser
    13: "username",  # taken
}


def faulty_rows(domain: str) -> list[Row]:
    """Two good rows (lines 2 and 14) around one row of each fault (see FAULTS)."""
    d = domain
    return [
        ("Gina", "Good", f"gina@{d}", "", "active", "2019-01-01"),
        ("Mia", "Missing", f"mia@{d}", "", "", "2019-01-02"),
        ("Uma", "Unknown", f"uma@{d}", "", "SUSPENDED", "2019-01-03"),
        ("Bo", "Baddate", f"bo@{d}", "", "ACTIVE", "14/03/2019"),
        ("Fay", "Future", f"fay@{d}", "", "ACTIVE", "2999-01-01"),
        ("Otto", "Old", f"otto@{d}", "", "ACTIVE", "1969-12-31T23:59:59Z"),
        ("Ed", "Bademail", f"ed.at.{d}", "", "ACTIVE", "2019-01-04"),
        ("=2+5", "Formula", f"fo@{d}", "", "ACTIVE", "2019-01-05"),
        ("Dup", "One", f"dup@{d}", "", "ACTIVE", "2019-01-06"),
        ("Dup", "Two", f"DUP@{d}", "", "PENDING", "2019-01-07"),
        ("Tia", "Again", f"taken@{d}", "", "ACTIVE", "2019-01-08"),
        ("Uli", "Username", f"uli@{d}", f"held.{_tag(d)}", "ACTIVE", "2019-01-09"),
        ("Gus", "Good", f"gus@{d}", "", "blocked", "2019-01-10T10:00:00+01:00"),
    ]


def corrected_rows(domain: str) -> list[Row]:
    """`faulty_rows` with every fault corrected."""
    d = domain
    rows = faulty_rows(domain)
    rows[1] = ("Mia", "Missing", f"mia@{d}", "", "EXPIRED", "2019-01-02")
    rows[2] = ("Uma", "Unknown", f"uma@{d}", "", "DISABLED", "2019-01-03")
    rows[3] = ("Bo", "Baddate", f"bo@{d}", "", "ACTIVE", "2019-03-14")
    rows[4] = ("Fay", "Future", f"fay@{d}", "", "ACTIVE", "2019-01-01")
    rows[5] = ("Otto", "Old", f"otto@{d}", "", "ACTIVE", "1970-01-01T00:00:01Z")
    rows[6] = ("Ed", "Bademail", f"ed@{d}", "", "ACTIVE", "2019-01-04")
    rows[7] = ("Flo", "Formula", f"fo@{d}", "", "ACTIVE", "2019-01-05")
    rows[9] = ("Dup", "Two", f"dup.two@{d}", "", "PENDING", "2019-01-07")
    rows[10] = ("Tia", "Again", f"tia.again@{d}", "", "ACTIVE", "2019-01-08")
    rows[11] = ("Uli", "Username", f"uli@{d}", f"uli.{_tag(d)}", "ACTIVE", "2019-01-09")
    return rows


def _tag(domain: str) -> str:
    return domain.split(".")[0]


def holders(store: Store, domain: str) -> dict[str, dict[str, Any]]:
    """The users that hold the email of line 12 and the username of line 13 already."""
    return {
        "email": store.admin.register("Tia", "Taken", f"taken@{domain}"),
        "username": store.admin.register(
            "Hal", "Held", f"hal@{domain}", username=f"held.{_tag(domain)}"
        ),
    }


@dataclass
class FaultyRun:
    domain: str
    rows: list[Row]
    result: subprocess.CompletedProcess[str]
    report: Path
    holders: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def faulty(store: Store) -> FaultyRun:
    domain = "bad.acme.com"
    held = holders(store, domain)
    rows = faulty_rows(domain)
    path, report = store.file("faulty.csv", rows), store.workdir / "faulty-report.csv"
    result = legacy_import(store.env, path, "--report", str(report))
    return FaultyRun(domain, rows, result, report, held)


def test_a_file_with_bad_rows_exits_1_and_counts_them(faulty: FaultyRun) -> None:
    assert faulty.result.returncode == 1, faulty.result
    assert Summary.of(faulty.result.stdout) == Summary("faulty.csv", 13, 2, 0, 11)


def test_the_good_rows_of_a_file_with_bad_rows_are_registered(
    store: Store, faulty: FaultyRun
) -> None:
    found = [store.reader.user(faulty.rows[line - 2][2]) for line in GOOD_LINES]
    assert [(u or {}).get("status") for u in found] == ["ACTIVE", "BLOCKED"]


def test_no_bad_row_is_registered(store: Store, faulty: FaultyRun) -> None:
    registered = {
        line: store.reader.user(faulty.rows[line - 2][2])
        for line in FAULTS
        if line != 12  # its email is the createUser user's
    }
    assert registered == dict.fromkeys(registered)
    assert store.reader.count(faulty.domain) == len(GOOD_LINES) + len(faulty.holders)


def test_a_row_of_an_email_registered_already_leaves_its_holder_alone(
    store: Store, faulty: FaultyRun
) -> None:
    holder = store.reader.user(f"taken@{faulty.domain}")
    assert holder is not None
    assert (holder["id"], holder["lastName"], holder["status"]) == (
        faulty.holders["email"]["id"],
        "Taken",
        "PENDING",
    )
    assert [c["source"] for c in store.reader.history(holder["id"])] == ["REGISTRATION"]


def test_the_terminal_names_the_line_and_column_of_each_bad_row(faulty: FaultyRun) -> None:
    printed = faulty.result.stdout.splitlines()
    named = {
        line: column
        for line, column in FAULTS.items()
        if any(p.startswith(f"  line {line} (row {line - 1}), {column}: ") for p in printed)
    }
    assert named == FAULTS, faulty.result.stdout
    assert not [p for p in printed if p.startswith(tuple(f"  line {n} " for n in GOOD_LINES))]


def test_the_report_lists_each_bad_row_with_its_errors(faulty: FaultyRun) -> None:
    with faulty.report.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header == ["line", *HEADER, "errors"]
    assert {int(row[0]): row[-1].split(": ")[0] for row in rows} == FAULTS
    assert {int(row[0]): row[3] for row in rows} == {
        line: faulty.rows[line - 2][2] for line in FAULTS
    }


def test_the_report_neutralises_cells_a_spreadsheet_would_run(faulty: FaultyRun) -> None:
    with faulty.report.open(encoding="utf-8-sig", newline="") as file:
        rows = {int(row[0]): row for row in list(csv.reader(file))[1:]}
    assert rows[9][1] == "'=2+5"
    assert [
        cell for row in rows.values() for cell in row if cell.startswith(FORMULA_PREFIXES)
    ] == []


def test_the_report_neutralises_formulas_behind_what_the_review_trims(store: Store) -> None:
    hidden = [" =1+1", "\u200b=1+1", "\ufeff@x", "\u00a0-1"]
    rows: list[Row] = [
        ("Ann", cell, f"ann{n}@hidden.acme.com", "", "ACTIVE", "2019-01-01")
        for n, cell in enumerate(hidden)
    ]
    report = store.workdir / "hidden-report.csv"

    result = legacy_import(store.env, store.file("hidden.csv", rows), "--report", str(report))

    assert result.returncode == 1, result
    with report.open(encoding="utf-8-sig", newline="") as file:
        cells = [row[2] for row in list(csv.reader(file))[1:]]
    assert cells == ["'" + cell for cell in hidden]


def test_after_correcting_the_file_only_the_corrected_rows_are_registered(store: Store) -> None:
    domain = "fix.acme.com"
    holders(store, domain)
    path = store.file("to-correct.csv", faulty_rows(domain))
    assert legacy_import(store.env, path).returncode == 1
    events = store.events()
    corrected = corrected_rows(domain)
    store.file("to-correct.csv", corrected)

    result = legacy_import(store.env, path)

    assert result.returncode == 0, result
    assert Summary.of(result.stdout) == Summary("to-correct.csv", 13, 11, 2, 0)
    assert store.events() - events == len(FAULTS)
    registered = {row[2]: store.reader.user(row[2]) for row in corrected}
    assert {
        email: (user or {}).get("id") == str(legacy_user_id(email))
        for email, user in registered.items()
    } == dict.fromkeys(registered, True)


# ---------------------------------------------------------------- files at fault

GOOD_ROW = "Nora,Nofile,nora@file.acme.com,,ACTIVE,2019-01-01\n"
FILES_AT_FAULT = {
    "no status column": (
        "first_name,last_name,email,username,created_at\nNora,Nofile,nora@file.acme.com,,2019-01-01\n",
        "Add the status column to the first line of the file",
    ),
    "no history columns": (
        "first_name,last_name,email\nNora,Nofile,nora@file.acme.com\n",
        "Add the status and created_at columns",
    ),
    "an unknown column": (
        ",".join(HEADER) + ",phone\n" + GOOD_ROW.replace("\n", ",555\n"),
        "Remove the 'phone' column",
    ),
    "empty": ("", "The file is empty"),
    "header only": (legacy_csv([]), "The file has a header but no users"),
    "a value under no heading on its last line": (
        legacy_csv([]) + GOOD_ROW + "Ola,Late,ola@file.acme.com,,ACTIVE,2019-01-01,oops\n",
        "Line 3 has a value in column G, which has no heading",
    ),
}


@pytest.mark.parametrize("fault", list(FILES_AT_FAULT))
def test_a_file_at_fault_exits_2_says_why_and_registers_nobody(store: Store, fault: str) -> None:
    content, message = FILES_AT_FAULT[fault]
    path = store.workdir / "at-fault.csv"
    path.write_text(content, encoding="utf-8")
    events = store.events()

    result = legacy_import(store.env, path)

    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("roster: at-fault.csv was not imported: "), result.stderr
    assert message in result.stderr
    assert store.events() == events
    assert store.reader.user("nora@file.acme.com") is None


def test_a_path_that_is_not_a_file_exits_2(store: Store) -> None:
    result = legacy_import(store.env, store.workdir / "nowhere.csv")
    assert result.returncode == 2, result
    assert "nowhere.csv is not a file" in result.stderr


def test_a_reason_the_history_cannot_keep_is_refused_with_exit_2(store: Store) -> None:
    path = store.file(
        "long-reason.csv", [("Lea", "Long", "lea@reason.acme.com", "", "ACTIVE", "2019-01-01")]
    )
    events = store.events()

    result = legacy_import(store.env, path, "--reason", "x" * 501)

    assert (result.returncode, result.stdout) == (2, ""), result
    assert "Traceback" not in result.stderr, result.stderr
    assert "reason" in result.stderr
    assert store.events() == events


# ---------------------------------------------------------------- dry runs


def test_a_dry_run_registers_nobody_but_reports_what_a_run_would(store: Store) -> None:
    d = "dry.acme.com"
    store.admin.register("Tom", "Taken", f"taken@{d}")
    rows: list[Row] = [
        ("Ida", "Before", f"ida@{d}", "", "ACTIVE", "2010-01-01"),
        ("Ivo", "New", f"ivo@{d}", "", "PENDING", "2010-01-02"),
        ("Ina", "New", f"ina@{d}", "", "DISABLED", "2010-01-03"),
        ("Ian", "Bad", f"ian@{d}", "", "GONE", "2010-01-04"),
        ("Tom", "Again", f"taken@{d}", "", "ACTIVE", "2010-01-05"),
    ]
    assert legacy_import(store.env, store.file("dry.csv", rows[:1])).returncode == 0
    path = store.file("dry.csv", rows)
    users, events = store.reader.count(), store.events()

    dry = legacy_import(store.env, path, "--dry-run", "--report", str(store.workdir / "dry.txt"))

    assert dry.returncode == 1, dry
    assert "2 would be registered" in dry.stdout
    assert (store.reader.count(), store.events()) == (users, events)
    real = legacy_import(store.env, path, "--report", str(store.workdir / "real.txt"))
    assert real.returncode == 1, real
    assert Summary.of(dry.stdout) == Summary.of(real.stdout) == Summary("dry.csv", 5, 2, 1, 2)
    assert (store.workdir / "dry.txt").read_text() == (store.workdir / "real.txt").read_text()
    assert store.reader.count() == users + 2


# ---------------------------------------------------------------- after the migration

LIFECYCLE: dict[str, Row] = {
    "blocked": ("Bea", "Blocked", "bea@life.acme.com", "", "BLOCKED", "2011-01-01"),
    "disabled": ("Dora", "Disabled", "dora@life.acme.com", "", "DISABLED", "2011-01-02"),
    "deactivated": ("Dave", "Gone", "dave@life.acme.com", "", "DEACTIVATED", "2011-01-03"),
    "active": ("Alma", "Active", "alma@life.acme.com", "", "ACTIVE", "2011-01-04"),
    "expired": ("Ezra", "Expired", "ezra@life.acme.com", "", "EXPIRED", "2011-01-05"),
    "pending": ("Pia", "Pending", "pia@life.acme.com", "", "PENDING", "2011-01-06"),
    "still blocked": ("Bert", "Blocked", "bert@life.acme.com", "", "BLOCKED", "2011-01-07"),
    "back and accepting": ("Bill", "Back", "bill@life.acme.com", "", "BLOCKED", "2011-01-08"),
}


@pytest.fixture(scope="module")
def legacy_people(store: Store) -> dict[str, str]:
    """Who's who -> user id, of a migration of one user for each test below."""
    result = legacy_import(store.env, store.file("people.csv", list(LIFECYCLE.values())))
    assert result.returncode == 0, result
    return {who: str(legacy_user_id(row[2])) for who, row in LIFECYCLE.items()}


def token_of(store: Store, user_id: str) -> str:
    """The token of the user's current invitation, as the mailer derives it."""
    roster = store.server.app.state.services.roster
    invitation = roster.get_aggregate(User, UUID(user_id), "user").invitation
    assert invitation is not None
    return str(roster.tokens.token_for(invitation.id))


def accept(store: Store, user_id: str) -> dict[str, Any]:
    data = store.server.api.data(ACCEPT, {"token": token_of(store, user_id)})
    result: dict[str, Any] = data["acceptInvitation"]
    return result


def moves(store: Store, user_id: str) -> list[tuple[str | None, str, str]]:
    return [(c["from"], c["to"], c["source"]) for c in store.reader.history(user_id)]


@pytest.mark.parametrize(
    ("who", "status"),
    [("blocked", "BLOCKED"), ("disabled", "DISABLED"), ("deactivated", "DEACTIVATED")],
)
def test_a_legacy_user_who_never_accepted_is_reactivated_pending_with_an_invitation(
    store: Store, legacy_people: dict[str, str], who: str, status: str
) -> None:
    user_id = legacy_people[who]

    user = store.admin.reactivate(user_id, reason="back again")

    assert (user["__typename"], user["status"]) == ("User", "PENDING"), user
    assert user["invitation"] is not None
    assert moves(store, user_id) == [
        (None, status, "LEGACY_MIGRATION"),
        (status, "PENDING", "ADMINISTRATOR"),
    ]
    assert store.reader.history(user_id)[1]["reason"] == "back again"


def test_a_reactivated_blocked_user_can_accept_the_new_invitation(
    store: Store, legacy_people: dict[str, str]
) -> None:
    user_id = legacy_people["back and accepting"]
    assert store.admin.reactivate(user_id)["status"] == "PENDING"

    assert accept(store, user_id)["status"] == "ACTIVE"
    assert moves(store, user_id)[1:] == [
        ("BLOCKED", "PENDING", "ADMINISTRATOR"),
        ("PENDING", "ACTIVE", "INVITATION"),
    ]


def test_an_active_legacy_user_deactivated_and_reactivated_is_active_again(
    store: Store, legacy_people: dict[str, str]
) -> None:
    user_id = legacy_people["active"]

    assert store.admin.deactivate(user_id)["status"] == "DEACTIVATED"
    user = store.admin.reactivate(user_id)

    assert (user["status"], user["invitation"]) == ("ACTIVE", None)
    assert moves(store, user_id) == [
        (None, "ACTIVE", "LEGACY_MIGRATION"),
        ("ACTIVE", "DEACTIVATED", "ADMINISTRATOR"),
        ("DEACTIVATED", "ACTIVE", "ADMINISTRATOR"),
    ]


def test_an_expired_legacy_user_sent_a_new_invitation_is_pending_and_can_accept_it(
    store: Store, legacy_people: dict[str, str]
) -> None:
    user_id = legacy_people["expired"]

    resent = store.server.api.data(RESEND, {"id": user_id}, as_=store.admin.token)
    user = resent["resendInvitation"]

    assert (user["__typename"], user["status"]) == ("User", "PENDING"), user
    assert user["invitation"] is not None
    assert accept(store, user_id)["status"] == "ACTIVE"
    assert moves(store, user_id) == [
        (None, "EXPIRED", "LEGACY_MIGRATION"),
        ("EXPIRED", "PENDING", "ADMINISTRATOR"),
        ("PENDING", "ACTIVE", "INVITATION"),
    ]


def test_a_pending_legacy_user_accepts_the_invitation_of_the_migration(
    store: Store, legacy_people: dict[str, str]
) -> None:
    user_id = legacy_people["pending"]

    user = accept(store, user_id)

    assert (user["__typename"], user["status"]) == ("User", "ACTIVE"), user
    assert moves(store, user_id) == [
        (None, "PENDING", "LEGACY_MIGRATION"),
        ("PENDING", "ACTIVE", "INVITATION"),
    ]


def test_a_blocked_user_cannot_be_deactivated(store: Store, legacy_people: dict[str, str]) -> None:
    user_id = legacy_people["still blocked"]
    events = store.events()

    outcome = store.admin.deactivate(user_id)

    assert outcome["__typename"] == "InvalidState", outcome
    assert store.events() == events
    assert store.admin.user(user_id)["status"] == "BLOCKED"


def test_blocked_and_disabled_are_still_legacy_and_not_assignable(
    store: Store, legacy_people: dict[str, str]
) -> None:
    rows = store.server.api.data(DEFINITIONS)["statusDefinitions"]
    table = {row["status"]: (row["legacy"], row["assignable"]) for row in rows}
    assert (table["BLOCKED"], table["DISABLED"]) == ((True, False), (True, False))
    assert {table[s] for s in ("PENDING", "ACTIVE", "EXPIRED", "DEACTIVATED")} == {(False, True)}


def test_create_user_registers_pending_users_only(store: Store) -> None:
    assert store.admin.register("Cy", "Created", "cy@create.acme.com")["status"] == "PENDING"
    events = store.events()

    given = {"firstName": "Bo", "lastName": "Blocked", "email": "bo@create.acme.com"}
    result = store.server.api.post(
        CREATE_BLOCKED, {"input": {**given, "status": "BLOCKED"}}, as_=store.admin.token
    )

    assert result.get("errors"), result
    assert store.events() == events
    assert store.reader.user("bo@create.acme.com") is None


# ---------------------------------------------------------------- one creation instant

ONE_DATE = "2021-05-05"
MANY = 5_000
LEGACY_STATUSES = ("ACTIVE", "EXPIRED", "DEACTIVATED", "BLOCKED", "DISABLED")


def same_date_rows(prefix: str, count: int) -> list[Row]:
    return [
        (
            f"P{i}",
            prefix,
            f"{prefix}{i:05d}@{prefix}.acme.com",
            "",
            LEGACY_STATUSES[i % 5],
            ONE_DATE,
        )
        for i in range(count)
    ]


@dataclass
class OneDate:
    before: int
    summary: Summary
    emails: list[str]


@pytest.fixture(scope="module")
def one_date(store: Store) -> OneDate:
    """MANY users created at the same instant, in one file."""
    rows = same_date_rows("many", MANY)
    before = store.reader.count()
    result = legacy_import(store.env, store.file("one-date.csv", rows))
    assert result.returncode == 0, result
    return OneDate(before, Summary.of(result.stdout), [row[2] for row in rows])


def test_a_file_of_users_of_one_instant_is_registered_in_several_chunks(
    store: Store, one_date: OneDate
) -> None:
    assert MANY > 2 * CHUNK_ROWS
    assert one_date.summary == Summary("one-date.csv", MANY, MANY, 0, 0)
    assert store.reader.count() == one_date.before + MANY
    assert store.reader.count("many.acme.com") == MANY


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_paging_by_creation_date_lists_every_user_once(
    store: Store, one_date: OneDate, direction: str
) -> None:
    total, users = store.reader.by_creation(direction)

    assert len(users) == total >= one_date.before + MANY
    assert len({user["id"] for user in users}) == total
    created = [moment(user["createdAt"]) for user in users]
    assert created == sorted(created, reverse=direction == "DESC")
    ours = {
        user["email"]: user["createdAt"] for user in users if user["email"] in set(one_date.emails)
    }
    assert len(ours) == MANY
    assert {moment(at) for at in ours.values()} == {moment(f"{ONE_DATE}T00:00:00+00:00")}


def test_users_of_one_instant_are_listed_in_the_order_of_their_registration(
    store: Store, one_date: OneDate
) -> None:
    _, users = store.reader.by_creation("ASC")
    row_of = {email: index for index, email in enumerate(one_date.emails)}
    listed = [row_of[user["email"]] for user in users if user["email"] in row_of]
    assert listed == sorted(listed), f"file rows listed first: {listed[:3]}"


def test_a_second_file_of_the_same_instant_is_listed_after_the_first(
    store: Store, one_date: OneDate
) -> None:
    second = same_date_rows("more", 1_500)
    before = store.reader.count()

    result = legacy_import(store.env, store.file("one-date-again.csv", second))

    assert result.returncode == 0, result
    assert Summary.of(result.stdout) == Summary("one-date-again.csv", 1_500, 1_500, 0, 0)
    total, users = store.reader.by_creation("ASC")
    assert len(users) == total == before + 1_500
    assert len({user["id"] for user in users}) == total
    first = set(one_date.emails)
    again = {row[2] for row in second}
    at = {user["email"]: index for index, user in enumerate(users)}
    assert max(at[email] for email in first) < min(at[email] for email in again)


# ---------------------------------------------------------------- two runs at once


def test_two_runs_of_one_file_at_once_register_each_row_once(
    env: dict[str, str], server: ThreadedServer, tmp_path: Path
) -> None:
    rows = same_date_rows("race", 3_000)
    path = write_legacy(tmp_path / "race.csv", rows)

    runs = [start_legacy_import(env, path) for _ in range(2)]
    outcomes = [(run.communicate(timeout=120), run.returncode) for run in runs]

    assert [code for _, code in outcomes] == [0, 0], outcomes
    summaries = [Summary.of(stdout) for (stdout, _), _ in outcomes]
    assert {(s.rows, s.refused) for s in summaries} == {(len(rows), 0)}, summaries
    assert sum(s.registered for s in summaries) == len(rows), summaries
    assert sum(s.before for s in summaries) == len(rows), summaries
    reader = Reader(Administrator(server.api))
    assert reader.count() == len(rows)
    assert event_count(server.api) == len(rows)
