"""Load benchmark: an N-row import over HTTP (bench/import.py's file and steps) while WebSocket
subscribers follow it, most with importProgress(batchId), --changes (10) with the whole
statusChanged feed, and readers search users. Figures are printed, never asserted; the
checks make the exit status. The feed sends each change to each of its subscribers: an
import of N rows costs N messages per feed subscriber (250 of them on 100,000 rows, 25
million), so a few follow it, as auditors' screens would; raise --changes to measure how
many messages a second a server pushes.

    .venv/bin/python bench/load.py --rows 100000 --subscribers 500 --readers 50
    .venv/bin/python bench/load.py --servers 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Push latency is measured on one clock (the bench and the servers share the host):
- statusChanged: from the change's `at` (when the server made the event) to the message's
  arrival. Two kinds are reported: the import's own changes (a user created PENDING per
  row; a range of rows is written at once, so `at` precedes the write by up to a range's
  registration) and probes (the bench toggles one user's status every --probe seconds
  during the import, each change written alone: the push path itself).
- importProgress: a message during the commit with created=M is the work of the import's
  M-th user: from that user's StatusChange `at` (as the first statusChanged subscriber
  got it) to the message's arrival. An upper bound: the batch records a range just after
  its users. Messages before the commit carry no time; they are counted only.
Readers each search (`users(search:)`, bench/search.py's query, a name or domain) and
think --think seconds, from the upload until COMPLETED; their figure is the request time.

Checks: each importProgress subscriber ends with COMPLETED and the batch's created count;
each statusChanged subscriber got every user the import created and the final probe
change made after COMPLETED; no subscription, connection or search failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/search.py, bench/import.py and bench/load_clients.py, next to this file.
from load_clients import FINAL, Load, follow_changes, follow_progress, probe, read  # noqa: E402
from search import running_server  # noqa: E402

from domain.profiles import Profile  # noqa: E402
from settings import Settings  # noqa: E402
from tokens import issue_token  # noqa: E402

importing = importlib.import_module("import")

CREATE = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  __typename ... on User { id } ... on Problem { code message } } }"""
SETTLE_SECONDS = 300.0
SHOW_SECONDS = 10.0


def run_import(client: httpx.Client, path: Path, uploaded: Callable[[str], None]) -> dict[str, Any]:
    """bench/import.py's steps; the batch id is passed on once uploaded."""
    group = importing.post(
        client, importing.CREATE_GROUP, "createGroup", name=f"load-{secrets.token_hex(4)}"
    )
    group_id = importing.member(group, "createGroup", "Group")["id"]
    batch_id = importing.upload(client, path)
    uploaded(batch_id)
    importing.wait_for(client, batch_id, "IN_REVIEW")
    answer = importing.post(
        client, importing.SET_ACCESS, "setImportAccess", id=batch_id, groups=[group_id]
    )
    importing.member(answer, "setImportAccess", "ImportBatch")
    importing.member(
        importing.post(client, importing.COMMIT, "commitImport", id=batch_id),
        "commitImport",
        "ImportBatch",
    )
    progress: dict[str, Any] = importing.wait_for(client, batch_id, "COMPLETED")
    return progress


def import_in_thread(
    client: httpx.Client, path: Path
) -> tuple[asyncio.Future[str], asyncio.Future[dict[str, Any]]]:
    """run_import in a daemon thread (a bench that gives up does not wait for it): futures
    of the batch id and of the progress at COMPLETED."""
    loop = asyncio.get_running_loop()
    batch: asyncio.Future[str] = loop.create_future()
    done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def later(action: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(action)

    def fail(error: Exception) -> None:
        for future in (batch, done):
            if not future.done():
                future.set_exception(error)

    def work() -> None:
        try:
            progress = run_import(client, path, lambda id_: later(lambda: batch.set_result(id_)))
        except BaseException as error:
            failure = error if isinstance(error, Exception) else RuntimeError(str(error))
            later(lambda: fail(failure))
        else:
            later(lambda: done.set_result(progress))

    threading.Thread(target=work, name="import", daemon=True).start()
    return batch, done


# ---------------------------------------------------------------- the run


@dataclass
class Run:
    args: argparse.Namespace
    bases: list[str]
    secret: str
    path: Path

    def token(self, profile: Profile) -> str:
        settings = Settings.from_env({"ROSTER_JWT_SECRET": self.secret})
        return issue_token(settings, subject="load", profiles=[profile], ttl=timedelta(hours=6))

    def ws(self, index: int) -> str:
        """Subscribers and readers go to the servers in turn."""
        return self.bases[index % len(self.bases)].replace("http://", "ws://") + "/graphql"

    def client(self, index: int, profile: Profile) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {self.token(profile)}"}
        limits = httpx.Limits(max_connections=self.args.readers + 10)
        base = self.bases[index % len(self.bases)]
        return httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits)


async def load_run(run: Run) -> tuple[Load, dict[str, Any] | None, float]:
    """The import under load; its progress at COMPLETED (None if not within --limit)."""
    args, load = run.args, Load()
    deadline = time.monotonic() + args.limit
    admin = run.client(0, Profile.USER_MANAGEMENT_ADMIN)
    readers = [run.client(i, Profile.USER_MANAGEMENT_VIEWER) for i in range(len(run.bases))]
    user = {
        "firstName": "Probe",
        "lastName": "Load",
        "email": f"probe-{secrets.token_hex(4)}@x.org",
    }
    answer = await admin.post("/graphql", json={"query": CREATE, "variables": {"input": user}})
    load.probe_id = importing.member(importing.data_of(answer, "create"), "createUser", "User")[
        "id"
    ]
    tasks = await follow_all_changes(run, load, admin)
    give_up = asyncio.Event()
    watch = asyncio.create_task(watchdog(load, args.max_rss * 2**30, give_up))
    progress: dict[str, Any] | None = None
    with httpx.Client(base_url=run.bases[0], headers=admin.headers, timeout=600) as sync_admin:
        batch, importer = import_in_thread(sync_admin, run.path)
        batch_id = await batch
        viewer = run.token(Profile.USER_MANAGEMENT_VIEWER)
        tasks += [
            asyncio.create_task(follow_progress(run.ws(i), viewer, batch_id, load, i))
            for i in range(args.subscribers - args.changes)
        ]
        rng = random.Random(args.seed)
        busy: list[asyncio.Task[Any]] = [
            asyncio.create_task(read(readers[i % len(readers)], load, rng.random(), args.think))
            for i in range(args.readers)
        ]
        busy.append(asyncio.create_task(probe(admin, load, args.probe)))
        started = time.perf_counter()
        ends: list[asyncio.Future[Any]] = [importer, asyncio.create_task(give_up.wait())]
        await asyncio.wait(ends, timeout=deadline - time.monotonic(), return_when="FIRST_COMPLETED")
        if not importer.done():
            load.errors.append("the import was not COMPLETED within --limit or --max-rss")
        elif importer.exception() is not None:
            load.errors.append(f"the import failed: {importer.exception()!r}")
        else:
            progress = importer.result()
        seconds = time.perf_counter() - started
        load.importing = False
        await asyncio.gather(*busy)
        final = progress is not None and await probe(admin, load, 0, FINAL)
        left = min(SETTLE_SECONDS, deadline - time.monotonic()) if final else 0
        await settle(tasks, load, left)
    watch.cancel()
    for client in (admin, *readers):
        await client.aclose()
    return load, progress, seconds


async def follow_all_changes(run: Run, load: Load, admin: httpx.AsyncClient) -> list[Any]:
    """The statusChanged subscribers, each live (it got a warm-up change of the probe)."""
    count = run.args.changes
    live = [asyncio.Event() for _ in range(count)]
    auditor = run.token(Profile.AUDITOR)
    tasks = [
        asyncio.create_task(follow_changes(run.ws(i), auditor, load, i, live[i]))
        for i in range(count)
    ]
    started = time.perf_counter()
    while not all(event.is_set() for event in live):
        if time.perf_counter() - started > 120:
            raise SystemExit("The statusChanged subscribers did not all become live in 120 s.")
        if not await probe(admin, load, 0, "warm-up"):
            raise SystemExit(f"The warm-up change failed: {load.errors[-1]}")
        await asyncio.wait([asyncio.create_task(e.wait()) for e in live], timeout=2)
    print(f"  {count} statusChanged subscribers live after {time.perf_counter() - started:.1f} s")
    return tasks


async def settle(tasks: list[Any], load: Load, seconds: float) -> None:
    """Until every subscriber has its final state, for `seconds` at most."""
    _, pending = await asyncio.wait(tasks, timeout=max(seconds, 1))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        load.errors.append(f"{len(pending)} subscribers had no final state {seconds:.0f} s later")


async def watchdog(load: Load, max_rss: float, give_up: asyncio.Event) -> None:
    """A line every SHOW_SECONDS: what arrived so far, and the servers' memory; gives up
    when a server's memory passes `max_rss` bytes."""
    started = time.perf_counter()
    while True:
        await asyncio.sleep(SHOW_SECONDS)
        memories = importing.server_memories("VmRSS")
        if max(memories, default=0) > max_rss:
            give_up.set()
        rss = ", ".join(f"{m / 2**20:,.0f}" for m in memories)
        print(
            f"  {time.perf_counter() - started:5.0f} s  statusChanged {load.changes.count:,} "
            f"messages  importProgress {len(load.progress_seen) + load.uncounted_progress:,}  "
            f"searches {load.reads.count:,}  server RSS {rss} MiB"
        )


def progress_latencies(load: Load) -> None:
    """importProgress messages of the commit, timed from their M-th user's `at`."""
    for arrived, created in load.progress_seen:
        if created <= len(load.created_at):
            load.progress.add(arrived - load.created_at[created - 1])


def check(load: Load, progress: dict[str, Any] | None, args: argparse.Namespace) -> list[str]:
    """What went wrong: errors seen, and subscribers without the final state."""
    faults = list(load.errors)
    created = int(progress["created"]) if progress else -1
    short = sorted({n for n in load.imported if n != created})
    if short:
        faults.append(f"statusChanged subscribers got {short[:5]} created users, not {created:,}")
    ended = [f for f in load.finals if f.get("status") == "COMPLETED" and f["created"] == created]
    if len(ended) != args.subscribers - args.changes:
        faults.append(
            f"{len(ended)} of {args.subscribers - args.changes} importProgress subscribers ended "
            f"COMPLETED with {created:,} created"
        )
    if load.final_probes != args.changes:
        faults.append(f"{load.final_probes} statusChanged subscribers got the final probe")
    return faults


def report(load: Load, progress: dict[str, Any] | None, seconds: float, args: Any) -> int:
    progress_latencies(load)
    created = f"{int(progress['created']):,} users created" if progress else "not COMPLETED"
    print(f"\nImport: {created}, upload to the end in {seconds:.1f} s")
    print(f"statusChanged push, import changes: {load.changes}")
    print(f"statusChanged push, probes:         {load.probes}")
    print(f"importProgress push, commit:        {load.progress}")
    print(f"  (and {load.uncounted_progress:,} importProgress messages before the commit)")
    print(f"Readers, users(search:):            {load.reads}, {load.reads.count / seconds:.1f}/s")
    if load.resent_searches:
        print(f"  ({load.resent_searches} sent again: their connection was closed as they left)")
    push = max(load.changes.pct(99), load.probes.pct(99), load.progress.pct(99))
    print(
        f"Goals: push p99 <= 250 ms {'met' if push <= 250 else 'NOT met'}; readers' p99 "
        f"<= 100 ms {'met' if load.reads.pct(99) <= 100 else 'NOT met'}"
    )
    memories = importing.server_memories("VmHWM")
    print("Server peak RSS (VmHWM): " + ", ".join(f"{m / 2**20:,.0f} MiB" for m in memories))
    faults = check(load, progress, args)
    kinds: dict[str, list[str]] = {}
    for fault in faults:  # "search 'Ann': ReadTimeout('')" is of kind "search"
        kinds.setdefault(fault.split(" ")[0].split(":")[0], []).append(fault)
    for kind, found in kinds.items():
        print(f"FAILED: {found[0]}" + (f" (and {len(found) - 1} more {kind})" if found[1:] else ""))
    print(
        "Checks: " + (f"{len(faults)} failed" if faults else "every subscriber got the final state")
    )
    return 1 if faults else 0


@contextlib.contextmanager
def servers(url: str, secret: str, count: int, scratch: Path) -> Iterator[list[str]]:
    env = {"ROSTER_OUTBOX_DIR": str(scratch / "outbox"), "ROSTER_MAIL_DELIVERY": "off"}
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(running_server(url, secret, env)) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    sqlite = args.database_url is None or args.database_url.startswith("sqlite:")
    if args.servers > 1 and sqlite:
        raise SystemExit("--servers above 1 needs PostgreSQL: give --database-url postgresql://...")
    scratch = Path(tempfile.mkdtemp(prefix="roster-load-bench-"))
    try:
        path = Path(args.csv) if args.csv else scratch / f"import-{args.rows}.csv"
        if not args.csv:
            print(f"File: {args.rows:,} rows ({importing.write_csv(path, args.rows, args.seed)})")
        secret = secrets.token_urlsafe(48)
        with (
            importing.fresh_store(args, scratch) as url,
            servers(url, secret, args.servers, scratch) as bases,
        ):
            print(f"{args.servers} server(s) on {url}")
            print(
                f"{args.subscribers} subscribers ({args.changes} statusChanged, the others "
                f"importProgress), {args.readers} readers"
            )
            load, progress, seconds = asyncio.run(load_run(Run(args, bases, secret, path)))
            status = report(load, progress, seconds, args)
    finally:
        if args.keep:
            print(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(status)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file (100000)")
    parser.add_argument("--subscribers", type=int, default=500, help="WebSocket subscribers (500)")
    parser.add_argument(
        "--changes",
        type=int,
        default=10,
        help="subscribers to statusChanged (10); the others importProgress",
    )
    parser.add_argument("--readers", type=int, default=50, help="concurrent search readers (50)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between a reader's searches (1)"
    )
    parser.add_argument(
        "--probe", type=float, default=0.25, help="seconds between probe changes (0.25)"
    )
    parser.add_argument(
        "--servers", type=int, default=1, help="server processes (1; more need PostgreSQL)"
    )
    parser.add_argument(
        "--database-url",
        help="sqlite:///path, or postgresql://user@host:port/db to create a fresh database on "
        "that server (default: a fresh SQLite file in the temporary directory)",
    )
    parser.add_argument("--csv", help="import this file instead of writing one")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory and database"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--limit", type=float, default=1800, help="seconds until the bench gives up (1800)"
    )
    parser.add_argument(
        "--max-rss", type=float, default=8, help="GiB of a server's memory that stop it (8)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.changes <= args.subscribers:
        parser.error("--changes must be from 1 (the clock of importProgress) to --subscribers")
    return args


if __name__ == "__main__":
    main()
