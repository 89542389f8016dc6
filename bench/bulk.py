"""Bulk actions benchmark: imports an N-row file over HTTP against the real server, makes
every new user's invitation run out (as the sweeper would, a week later; in this process,
not timed), then times over HTTP `startBulkAction(RESEND_INVITATION)` on every EXPIRED user
of the batch and `revertImport` of the batch, each from the mutation to COMPLETED /
REVERTED, with users per second. Mail delivery is off (bench/invitations.py measures it).
Timings are printed, never asserted.

    .venv/bin/python bench/bulk.py --users 100000 [--database-url URL] [--keep]
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/search.py, next to this file
from search import running_server  # noqa: E402

from bootstrap import build_services  # noqa: E402
from domain.imports.batch import ImportBatch  # noqa: E402
from domain.profiles import Profile  # noqa: E402
from settings import Settings  # noqa: E402
from tokens import issue_token  # noqa: E402

# bench/import.py: its store, its steps over HTTP ("import" is a keyword).
importing = importlib.import_module("import")

#: Users whose invitations are made to run out per write, while setting up.
EXPIRE_CHUNK = 1_000
POLL_SECONDS = 0.2
START_BULK = """
mutation($batch: ID!) { startBulkAction(action: RESEND_INVITATION,
  filter: {status: [EXPIRED], importBatchId: $batch}) {
  __typename ... on BulkActionProgress { id total } ... on Problem { code message } } }"""
EXPIRED = """query($batch: ID!) {
  users(importBatchId: $batch, status: [EXPIRED], first: 1) { totalCount } }"""
NEWEST_BATCH = "{ importBatches(first: 1) { edges { node { id } } } }"
BULK = "query($id: ID!) { bulkActionProgress(id: $id) { status total processed changed skipped } }"
REVERT = """
mutation($id: ID!) { revertImport(batchId: $id, reason: "bench") {
  __typename ... on ImportBatch { status } ... on Problem { code message } } }"""
REVERTED = """query($id: ID!) { importBatch(id: $id) { status
  revert { total processed reverted skipped kept } } }"""


def people_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write("first_name,last_name,email,username\n")
        for n in range(1, count + 1):
            file.write(f"Person,No{n},person.{n}@bench.example.com,\n")


def expire_all(settings: Settings, batch_id: str, count: int) -> None:
    """Every user of the batch EXPIRED, a thousand users a write (setup, not timed)."""
    services = build_services(settings)
    later = datetime.now(UTC) + timedelta(days=365)
    try:
        for start in range(1, count + 1, EXPIRE_CHUNK):
            ids = [
                ImportBatch.user_id_for(UUID(batch_id), n)
                for n in range(start, min(start + EXPIRE_CHUNK, count + 1))
            ]
            users = services.roster.users_of(ids)
            for user in users.values():
                user.expire_invitation(later)
            services.roster.save(*users.values())
    finally:
        services.close()


def timed_until(
    client: httpx.Client,
    query: str,
    name: str,
    variables: dict[str, Any],
    done: Callable[..., bool],
) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    while True:
        found: dict[str, Any] = importing.post(client, query, name, **variables)[name]
        if done(found):
            return found, time.perf_counter() - started
        time.sleep(POLL_SECONDS)


def run(args: argparse.Namespace, scratch: Path) -> None:
    print(f"bench/bulk.py: {args.users:,} users; load average at start {os.getloadavg()[0]:.2f}")
    csv_path = scratch / "people.csv"
    people_csv(csv_path, args.users)
    secret = secrets.token_urlsafe(48)
    with importing.fresh_store(args, scratch) as url:
        settings = Settings.from_env({"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret})
        token = issue_token(
            settings,
            subject="bench",
            profiles=[Profile.USER_MANAGEMENT_ADMIN],
            ttl=timedelta(hours=6),
        )
        env = {"ROSTER_MAIL_DELIVERY": "off"}
        with (
            running_server(url, secret, env) as base,
            httpx.Client(
                base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=600
            ) as client,
        ):
            figures = importing.Figures()
            importing.import_over_http(client, csv_path, figures)
            newest = importing.post(client, NEWEST_BATCH, "importBatches")["importBatches"]
            batch_id = newest["edges"][0]["node"]["id"]
            started = time.perf_counter()
            expire_all(settings, batch_id, args.users)
            # The server's read model takes in the setup's events before the clock starts.
            timed_until(
                client,
                EXPIRED,
                "users",
                {"batch": batch_id},
                lambda found: found["totalCount"] == args.users,
            )
            took = time.perf_counter() - started
            print(f"  setup: {args.users:,} invitations expired in {took:.1f} s")

            answered = time.perf_counter()
            action = importing.member(
                importing.post(client, START_BULK, "startBulkAction", batch=batch_id),
                "startBulkAction",
                "BulkActionProgress",
            )
            answer = time.perf_counter() - answered
            done, seconds = timed_until(
                client,
                BULK,
                "bulkActionProgress",
                {"id": action["id"]},
                lambda p: p["status"] == "COMPLETED" and p["total"] == args.users,
            )
            seconds += answer
            print(
                f"  RESEND_INVITATION on {done['total']:,} EXPIRED users: {seconds:.1f} s "
                f"({done['changed'] / seconds:,.0f} users/s; startBulkAction answered in "
                f"{answer:.2f} s), changed {done['changed']:,}, skipped {done['skipped']:,}"
            )

            answered = time.perf_counter()
            importing.member(
                importing.post(client, REVERT, "revertImport", id=batch_id),
                "revertImport",
                "ImportBatch",
            )
            answer = time.perf_counter() - answered
            batch, seconds = timed_until(
                client,
                REVERTED,
                "importBatch",
                {"id": batch_id},
                lambda b: b["status"] == "REVERTED",
            )
            seconds += answer
            revert = batch["revert"]
            print(
                f"  revertImport of {revert['total']:,} rows: {seconds:.1f} s "
                f"({revert['reverted'] / seconds:,.0f} users/s; revertImport answered in "
                f"{answer:.2f} s), reverted {revert['reverted']:,}, kept {revert['kept']:,}"
            )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000, help="rows of the file (100000)")
    parser.add_argument("--database-url", help="a SQLite file, or a PostgreSQL server")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="roster-bulk-"))
    try:
        run(args, scratch)
    finally:
        if args.keep:
            print(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
