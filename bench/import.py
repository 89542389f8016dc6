"""Import benchmark: writes an N-row file in the template's format, a few per cent of its rows
faulty, and takes it through the whole import over HTTP against the real server (upload,
review, access, commit), then checks that search finds the users it created. The same valid
rows also go into the floor (bench/import_floor.py): one bare table, filled the fastest
honest way, on SQLite and, when the server runs on PostgreSQL, on PostgreSQL too. It prints
each phase, the ratio to the floor, the server's peak RSS and the store's bytes per user.
Timings are printed for comparison, never asserted.

With --curve, files are imported in turn into one growing store instead, to show whether the
time per user grows with the store.

    .venv/bin/python bench/import.py --rows 100000 [--database-url URL] [--csv PATH] [--keep]
        [--no-encryption]
    .venv/bin/python bench/import.py --curve 25000,50000,100000 [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice, pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/*.py, next to this file
from import_floor import floors  # noqa: E402
from import_report import CHECK, Figures, Poll, Step, show_curve, show_step  # noqa: E402
from search import ascii_of, people, running_server  # noqa: E402
from store_sizes import store_sizes  # noqa: E402

from domain.imports.columns import TEMPLATE_COLUMNS  # noqa: E402
from domain.imports.reading import InvalidFileError, read_rows  # noqa: E402
from domain.imports.rows import CheckedRow, CleanRow, RowInput, check_columns  # noqa: E402
from domain.profiles import Profile  # noqa: E402
from settings import Settings  # noqa: E402
from tokens import issue_token  # noqa: E402

# Shares of the rows written faulty (each row has at most one fault), and of given usernames.
BAD_EMAIL, DUPLICATE, FORMULA, GIVEN_USERNAME = 0.02, 0.01, 0.005, 0.05
POLL_SECONDS = 0.2
WAIT_LIMIT = 3600.0
VISIBLE_LIMIT = 60.0
PAGE = 500  # the server's largest page
CURVE = "25000,50000,75000,100000,125000,150000"  # rows imported so far, step by step

START = """mutation Start($file: Upload!) { startImport(file: $file) {
  __typename ... on ImportBatch { id status } ... on InvalidFile { reason message } } }"""
PROGRESS = """query Progress($id: ID!) { importBatch(id: $id) { status
  progress { total valid invalid excluded processed created failed } } }"""
CREATE_GROUP = """mutation Group($name: String!) { createGroup(name: $name) {
  __typename ... on Group { id } ... on Problem { code message } } }"""
SET_ACCESS = """mutation Access($id: ID!, $groups: [ID!]) {
  setImportAccess(batchId: $id, access: {mode: ASSIGN_GROUPS, groupIds: $groups}) {
  __typename ... on ImportBatch { status } ... on Problem { code message } } }"""
COMMIT = """mutation Commit($id: ID!) { commitImport(batchId: $id, excludeInvalidRows: true) {
  __typename ... on ImportBatch { status } ... on Problem { code message } } }"""
COUNT = "query Count { users(first: 0) { totalCount } }"
SEARCH = """query Find($term: String!, $first: Int, $after: String) {
  users(search: $term, first: $first, after: $after) {
  edges { node { email } } pageInfo { hasNextPage endCursor } } }"""


@dataclass
class Faults:
    """What the written file was given on purpose: a duplicate spoils two rows."""

    bad_emails: int = 0
    duplicates: int = 0
    formulas: int = 0

    def __str__(self) -> str:
        return (
            f"{self.bad_emails:,} bad emails, {self.duplicates:,} duplicated emails "
            f"({2 * self.duplicates:,} rows), {self.formulas:,} formulas"
        )


# ---------------------------------------------------------------- the file


def template_rows(n: int, seed: int, faults: Faults, skip: int = 0) -> Iterator[list[str]]:
    """first_name, last_name, email, username: realistic people, a few of them spoiled; the
    people after the first `skip`, so that files written in turn share no email."""
    rng, clean = random.Random(seed + 1 + skip), list[str]()
    for index, person in enumerate(islice(people(skip + n, seed), skip, None), skip + 1):
        row = [person.first_name, person.last_name, person.email, ""]
        if rng.random() < GIVEN_USERNAME:
            # The underscores keep them apart from the usernames derived from emails.
            row[3] = f"{ascii_of(person.first_name)}_{ascii_of(person.last_name)}_{index}"
        if not spoil(rng, row, clean, faults):
            clean.append(person.email)
        yield row


def spoil(rng: random.Random, row: list[str], clean: list[str], faults: Faults) -> bool:
    draw = rng.random()
    if draw < BAD_EMAIL:
        faults.bad_emails += 1
        local, domain = row[2].split("@")
        host = domain.split(".")[0]
        row[2] = rng.choice(
            [local + domain, f"{local}@@{domain}", f"{local} @{domain}", f"{local}@{host}"]
        )
    elif draw < BAD_EMAIL + DUPLICATE and clean:
        faults.duplicates += 1
        taken = clean.pop(rng.randrange(len(clean)))  # an earlier valid row, used once
        row[2] = rng.choice([taken, taken.upper(), taken.capitalize()])
    elif draw < BAD_EMAIL + DUPLICATE + FORMULA:
        faults.formulas += 1
        name = row[0]
        row[rng.randrange(2)] = rng.choice(
            ["=1+1", f'=HYPERLINK("https://example.invalid/?{name}","{name}")', f"=SUM(1;2){name}"]
        )
    else:
        return False
    return True


def write_csv(path: Path, n: int, seed: int, skip: int = 0) -> Faults:
    """The template's format: UTF-8 with a BOM, CRLF line ends."""
    faults = Faults()
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TEMPLATE_COLUMNS)
        writer.writerows(template_rows(n, seed, faults, skip))
    return faults


def valid_rows(path: Path) -> tuple[int, list[CleanRow]]:
    """The file's row count and the rows that the review's rules find valid: every column
    good, and no other row with the same email or the same given username."""
    try:
        with path.open("rb") as stream:
            checked = [check_columns(RowInput(**row.values)) for row in read_rows(stream)]
    except InvalidFileError as error:
        print(f"  the reader refuses the file ({error.reason}): {error.message}")
        return 0, []  # the server will say so too, and the bench stops there
    emails = Counter(row.email_key() for row in checked)
    usernames = Counter(row.username_key() for row in checked)

    def alone(row: CheckedRow) -> bool:
        given = row.username_key()
        return emails[row.email_key()] == 1 and (given is None or usernames[given] == 1)

    valid = [clean for row in checked if (clean := row.clean()) is not None and alone(row)]
    return len(checked), valid


# ---------------------------------------------------------------- the server


def data_of(response: httpx.Response, operation: str) -> dict[str, Any]:
    """The data of an answer without top-level errors; otherwise the bench stops."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and not body.get("errors") and body.get("data"):
        data: dict[str, Any] = body["data"]
        return data
    errors = body.get("errors") or [{"message": response.text[:500]}]
    said = "; ".join(f"{e.get('message')} [{e.get('extensions', {}).get('code')}]" for e in errors)
    raise SystemExit(f"{operation} failed (HTTP {response.status_code}): {said}")


def post(client: httpx.Client, query: str, operation: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    return data_of(response, operation)


def member(data: dict[str, Any], operation: str, expected: str) -> dict[str, Any]:
    """The member of a result union that the bench expects; a Problem stops it."""
    result: dict[str, Any] = data[operation]
    if result["__typename"] != expected:
        reason = result.get("reason") or result.get("code")
        raise SystemExit(f"{operation}: {result['__typename']} {reason}: {result.get('message')}")
    return result


def upload(client: httpx.Client, path: Path) -> str:
    """startImport as a GraphQL multipart request: operations, map, then the file."""
    operations = {"query": START, "variables": {"file": None}}
    form = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})}
    started = time.perf_counter()
    with path.open("rb") as file:
        response = client.post("/graphql", data=form, files={"0": (path.name, file, "text/csv")})
    batch = member(data_of(response, "startImport"), "startImport", "ImportBatch")
    print(f"  startImport answered {batch['status']} in {time.perf_counter() - started:.2f} s")
    return str(batch["id"])


def wait_for(
    client: httpx.Client, batch_id: str, status: str, polls: list[Poll] | None = None
) -> dict[str, Any]:
    """The batch's progress once it is in `status`, asking every POLL_SECONDS; each answer's
    time and users created go into `polls` if given."""
    deadline, shown = time.monotonic() + WAIT_LIMIT, time.monotonic()
    while time.monotonic() < deadline:
        batch = post(client, PROGRESS, "importBatch", id=batch_id)["importBatch"]
        if batch is None:
            raise SystemExit(f"importBatch({batch_id}) is null.")
        progress: dict[str, Any] = batch["progress"]
        if polls is not None:
            polls.append(Poll(time.perf_counter(), int(progress["created"])))
        if batch["status"] == status:
            return progress
        if batch["status"] == "CANCELLED":
            raise SystemExit(f"The batch was cancelled: {progress}")
        if time.monotonic() - shown >= 5:
            print(f"  {batch['status']:<11} {counts(progress)}")
            shown = time.monotonic()
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"The batch did not reach {status} within {WAIT_LIMIT:.0f} s.")


def counts(progress: dict[str, Any]) -> str:
    return "  ".join(f"{name} {value:,}" for name, value in progress.items())


def user_count(client: httpx.Client) -> int:
    return int(post(client, COUNT, "users")["users"]["totalCount"])


def import_over_http(client: httpx.Client, path: Path, figures: Figures) -> list[Poll]:
    """Upload, review, access, commit; the progress polls of the commit, from its start."""
    group = post(client, CREATE_GROUP, "createGroup", name=f"bench-import-{uuid.uuid4().hex[:8]}")
    group_id = member(group, "createGroup", "Group")["id"]
    with figures.timed("upload -> IN_REVIEW"):
        batch_id = upload(client, path)
        figures.progress = wait_for(client, batch_id, "IN_REVIEW")
        figures.peak_rss_reviewed = server_memory("VmHWM")
    print(f"  IN_REVIEW   {counts(figures.progress)}")
    with figures.timed("access"):
        answer = post(client, SET_ACCESS, "setImportAccess", id=batch_id, groups=[group_id])
        member(answer, "setImportAccess", "ImportBatch")
    polls = [Poll(time.perf_counter(), 0)]
    with figures.timed("commit -> COMPLETED"):
        member(post(client, COMMIT, "commitImport", id=batch_id), "commitImport", "ImportBatch")
        figures.progress = wait_for(client, batch_id, "COMPLETED", polls)
    print(f"  COMPLETED   {counts(figures.progress)}")
    return polls


def found_by_search(client: httpx.Client, email: str) -> bool:
    """Whether users(search: email) lists the user, page after page."""
    after: str | None = None
    while True:
        page = post(client, SEARCH, "users", term=email, first=PAGE, after=after)["users"]
        if any(edge["node"]["email"].lower() == email.lower() for edge in page["edges"]):
            return True
        if not page["pageInfo"]["hasNextPage"]:
            return False
        after = page["pageInfo"]["endCursor"]


def visible_growth(client: httpx.Client, before: int, created: int) -> tuple[int, float]:
    """How much users' totalCount grew, once it grew by `created` or VISIBLE_LIMIT passed,
    and how long that took: the user list is a read model, it may lag."""
    started = time.perf_counter()
    while (grown := user_count(client) - before) != created:
        if time.perf_counter() - started > VISIBLE_LIMIT:
            break
        time.sleep(POLL_SECONDS)
    return grown, time.perf_counter() - started


def check_search(client: httpx.Client, before: int, emails: list[str], figures: Figures) -> None:
    created = int(figures.progress["created"])
    grown, waited = visible_growth(client, before, created)
    figures.note(
        f"users totalCount grew by {grown:,} (after {waited:.1f} s); progress.created {created:,}",
        failure=grown != created,
    )
    missing = [email for email in emails if not found_by_search(client, email)]
    figures.note(
        f"Search found {len(emails) - len(missing):,} of {len(emails):,} created users "
        f"checked{'; missing: ' + ', '.join(missing[:5]) if missing else ''}",
        failure=bool(missing),
    )


def server_memory(field_name: str) -> int:
    """VmHWM or VmRSS in bytes of the uvicorn process this bench started."""
    return max(server_memories(field_name), default=0)


def server_memories(field_name: str) -> list[int]:
    """VmHWM or VmRSS in bytes of each uvicorn process this bench started."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = dict(line.split(":", 1) for line in status.read_text().splitlines())
            command = (status.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(lines["PPid"]) == os.getpid() and b"uvicorn" in command:
            found.append(int(lines[field_name].split()[0]) * 1024)
    return found


# ---------------------------------------------------------------- the run


@contextmanager
def fresh_store(args: argparse.Namespace, scratch: Path) -> Iterator[str]:
    """A SQLite file in the scratch directory, the SQLite file given, or a new database on
    the PostgreSQL server given (dropped afterwards unless --keep)."""
    given: str | None = args.database_url
    if given is None or given.startswith("sqlite:///"):
        # Absolute: the server runs in the repository's root.
        path = Path(given.removeprefix("sqlite:///")) if given else scratch / "roster.db"
        yield f"sqlite:///{path.resolve()}"
        return
    name = f"roster_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(given, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(given)._replace(path=f"/{name}"))
    finally:
        if args.keep:
            print(f"Kept the database {name}")
        else:
            with psycopg.connect(given, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_csv(args: argparse.Namespace, scratch: Path, figures: Figures) -> Path:
    if args.csv:
        figures.note(f"File: {args.csv} (reused)")
        return Path(args.csv)
    path = scratch / f"import-{args.rows}.csv"
    with figures.timed("make CSV"):
        faults = write_csv(path, args.rows, args.seed)
    figures.note(f"File: {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB ({path})")
    figures.note(f"  written faulty: {faults}")
    return path


@contextmanager
def serving(url: str, scratch: Path, encrypt: bool) -> Iterator[httpx.Client]:
    """The server on the store, and a client signed in as a user management admin; with
    `encrypt` off, a server that writes personal data in the clear (to measure the cost)."""
    secret = secrets.token_urlsafe(48)
    settings = Settings.from_env({"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret})
    admin = [Profile.USER_MANAGEMENT_ADMIN]
    token = issue_token(settings, subject="bench", profiles=admin, ttl=timedelta(hours=12))
    headers = {"authorization": f"Bearer {token}"}
    with (
        # Invitation mails go to a file outbox, as `make run` would send them.
        running_server(
            url,
            secret,
            {
                "ROSTER_OUTBOX_DIR": str(scratch / "outbox"),
                "ROSTER_ENCRYPT_PERSONAL_DATA": "on" if encrypt else "off",
            },
        ) as base,
        httpx.Client(base_url=base, headers=headers, timeout=600) as client,
    ):
        yield client


def run_server(
    url: str, scratch: Path, path: Path, emails: list[str], figures: Figures, *, encrypt: bool
) -> None:
    """The import over HTTP, then the search check of the emails given."""
    with serving(url, scratch, encrypt) as client:
        figures.rss_at_start = server_memory("VmHWM")
        before = user_count(client)
        figures.polls = import_over_http(client, path, figures)
        with figures.timed("search check"):
            check_search(client, before, emails, figures)
        figures.peak_rss = server_memory("VmHWM")


def checked(path: Path, figures: Figures) -> list[CleanRow]:
    """The file's valid rows by the review's rules, timed."""
    with figures.timed(CHECK):
        total, valid = valid_rows(path)
    print(f"  by the review's rules: {len(valid):,} valid, {total - len(valid):,} invalid")
    return valid


def run(args: argparse.Namespace, scratch: Path) -> int:
    figures = Figures()
    path = prepare_csv(args, scratch, figures)
    valid = checked(path, figures)
    emails = [row.email for row in valid]
    if not args.check_all:
        emails = random.Random(args.seed).sample(emails, min(args.sample, len(emails)))
    with fresh_store(args, scratch) as url:
        with floors(url, scratch) as bare:
            for floor in bare:
                figures.loads[floor.name] = floor.load(valid)
                print(f"  floor on {floor.name}: {figures.loads[floor.name]}")
        run_server(url, scratch, path, emails, figures, encrypt=not args.no_encryption)
        figures.sizes = store_sizes(url)
    figures.report(store_name(url))
    return 1 if figures.failed else 0


def run_curve(args: argparse.Namespace, scratch: Path) -> int:
    """Files of the rows between one step and the next imported in turn into one store."""
    steps, done = list[Step](), 0
    with (
        fresh_store(args, scratch) as url,
        floors(url, scratch) as bare,
        serving(url, scratch, not args.no_encryption) as client,
    ):
        print(f"One {store_name(url)} store, imports up to {', '.join(map(str, args.curve))} rows")
        for number, upto in enumerate(args.curve, 1):
            print(f"\nStep {number}: rows {done + 1:,} to {upto:,}")
            path = scratch / f"step-{number}.csv"
            write_csv(path, upto - done, args.seed, skip=done)
            figures, done = Figures(), upto
            valid = checked(path, figures)
            figures.loads = {floor.name: floor.load(valid) for floor in bare}
            figures.polls = import_over_http(client, path, figures)
            figures.peak_rss, figures.sizes = server_memory("VmHWM"), store_sizes(url)
            figures.note(
                f"  created {figures.created:,} of {len(valid):,} valid rows",
                failure=figures.created != len(valid),
            )
            steps.append(Step(figures, (steps[-1].users if steps else 0) + figures.created))
            show_step(steps[-1], bare[-1].name)
    show_curve(steps, bare[-1].name)
    return 1 if any(step.figures.failed for step in steps) else 0


def store_name(url: str) -> str:
    return "SQLite" if url.startswith("sqlite:///") else "PostgreSQL"


def curve_steps(text: str) -> list[int]:
    """--curve's rows imported so far after each step: whole numbers, rising."""
    try:
        steps = [int(part.replace("_", "")) for part in text.split(",")]
    except ValueError:
        steps = []
    if not steps or steps[0] < 1 or any(b <= a for a, b in pairwise(steps)):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give rising row counts separated by commas, e.g. {CURVE}"
        )
    return steps


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file (100000)")
    parser.add_argument(
        "--database-url",
        help="sqlite:///path, or postgresql://user@host:port/db to create a fresh database on "
        "that server (default: a fresh SQLite file in the temporary directory)",
    )
    parser.add_argument("--csv", help="import this file instead of writing one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--sample", type=int, default=500, help="created users searched (500)")
    parser.add_argument("--check-all", action="store_true", help="search every created user")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the file (1)")
    parser.add_argument(
        "--no-encryption",
        action="store_true",
        help="write personal data in the clear (ROSTER_ENCRYPT_PERSONAL_DATA=off), to measure "
        "what sealing it costs",
    )
    parser.add_argument(
        "--curve",
        nargs="?",
        const=curve_steps(CURVE),
        type=curve_steps,
        help="instead of one import, import files in turn into one store, up to each of these "
        f"row counts (given alone: {CURVE}); --rows, --csv and the search check are left out",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    scratch = Path(tempfile.mkdtemp(prefix="roster-import-bench-"))
    try:
        status = run_curve(args, scratch) if args.curve else run(args, scratch)
    finally:
        if args.keep:
            print(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
