"""Erasure benchmark: registers N users straight into a fresh store (the fast path: a
thousand users a write, as `roster` registers them in bulk), brings the read model up to
date, then erases a few users spread over the store one after another, timing each
erasure: the eraseUser command (`Erasures.erase_user`: the rows of files about the
person looked up, the erasure recorded, the email and username freed, the keys
destroyed), then the read model's catch-up after it (the user blanked in the list, out
of the search indexes, the reasons of their history, their mails, the database's log
truncated on SQLite). Prints the median and the slowest in ms, and the store's sizes
with the table of keys. Timings are printed, never asserted.

    .venv/bin/python bench/erasure.py [--users 1000000] [--erase 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/store_sizes.py, next to this file
from store_sizes import store_sizes  # noqa: E402

from bootstrap import Services, build_services  # noqa: E402
from domain.application import NewUser, Saved  # noqa: E402
from domain.statuses import StatusChangeSource  # noqa: E402
from settings import Settings  # noqa: E402

# bench/import.py: its fresh store ("import" is a keyword).
importing = importlib.import_module("import")

#: Users registered per write while setting up.
WRITE = 1_000


def register(services: Services, users: int) -> list[UUID]:
    """`users` PENDING users, a thousand a write, with their progress every tenth."""
    ids: list[UUID] = []
    started, tenth = time.perf_counter(), max(users // 10, 1)
    for start in range(0, users, WRITE):
        batch = [
            NewUser(first_name="Person", last_name=f"No{n}", email=f"person.{n}@acme.com")
            for n in range(start, min(start + WRITE, users))
        ]
        outcomes = services.roster.register_users(
            batch, actor="bench", source=StatusChangeSource.REGISTRATION
        ).outcomes
        ids += [outcome.id for outcome in outcomes if isinstance(outcome, Saved)]
        if (start + WRITE) // tenth > start // tenth:
            rate = len(ids) / (time.perf_counter() - started)
            print(f"  {len(ids):>10,} registered ({rate:,.0f} users/s)", flush=True)
    return ids


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def erase(services: Services, user_id: UUID, number: int) -> tuple[float, float]:
    """Seconds of the erasure, and of the read model's catch-up after it."""
    erasures = services.erasures
    erasing = timed(lambda: erasures.erase_user(user_id, actor="bench", reason=f"request {number}"))
    return erasing, timed(services.read_model.catch_up)


def show(title: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(f"  {title:<44} median {statistics.median(ms):8.1f} ms   slowest {max(ms):8.1f} ms")


def run(args: argparse.Namespace, scratch: Path) -> None:
    with importing.fresh_store(args, scratch) as url:
        env = {
            "ROSTER_DATABASE_URL": url,
            "ROSTER_JWT_SECRET": secrets.token_urlsafe(48),
            "ROSTER_ERASURE_LEDGER": str(scratch / "erasures.jsonl"),
        }
        services = build_services(Settings.from_env(env))
        try:
            store = importing.store_name(url)
            print(f"{store}: registering {args.users:,} users, {WRITE:,} a write")
            ids: list[UUID] = []
            took = timed(lambda: ids.extend(register(services, args.users)))
            print(f"  registered in {took:.1f} s ({len(ids) / took:,.0f} users/s)")
            took = timed(services.read_model.catch_up)
            print(f"  read model caught up in {took:.1f} s")
            chosen = random.Random(args.seed).sample(ids, min(args.erase, len(ids)))
            print(f"Erasing {len(chosen)} users, one after another, among {len(ids):,}")
            times = [erase(services, user_id, n) for n, user_id in enumerate(chosen)]
            show("eraseUser (Erasures.erase_user)", [erasing for erasing, _ in times])
            show("read model catch-up after it", [catch_up for _, catch_up in times])
            show("both", [erasing + catch_up for erasing, catch_up in times])
        finally:
            services.close()
        store_sizes(url).show(len(ids))
    print(f"Load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000, help="users (1000000)")
    parser.add_argument("--erase", type=int, default=20, help="users erased, timed (20)")
    parser.add_argument(
        "--database-url",
        help="sqlite:///path, or postgresql://user@host:port/db to create a fresh database on "
        "that server (default: a fresh SQLite file in the temporary directory)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the choice (1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="roster-erasure-"))
    try:
        run(args, scratch)
    finally:
        if args.keep:
            print(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
