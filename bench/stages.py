"""Where an import's time goes, per user: the import of bench/import.py's file run in this
process (no HTTP, no mail delivery), with the steps of the review and the commit timed
by wrapping the methods that do them. Prints CPU and wall µs per user created, by stage.
Runs on older versions of the code too (stages whose method is missing are left out), so
that a change can be measured before and after.

    .venv/bin/python bench/stages.py --rows 100000 [--database-url URL] [--imports 1] [--rebuild]
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bootstrap import Services, build_services  # noqa: E402
from domain.imports.batch import AccessMode  # noqa: E402
from settings import Settings  # noqa: E402

importing = importlib.import_module("import")  # bench/import.py: its file

#: (stage, "module:Class.method"): the methods timed. A call inside another timed call
#: counts for both; the table says which stages hold others.
STAGES = [
    ("review: read and check the file", "domain.imports.process:Importer.read"),
    ("commit: whole", "domain.imports.process:Importer.commit"),
    (
        "  rows read back from the review table",
        "projections.import_table:ImportRowsTable.rows_between",
    ),
    ("  users prepared (checks, ids, invitation)", "domain.application:Roster._prepare"),
    ("  unique keys looked up", "domain.lookup:KeyLookup.prefetch_for"),
    ("  events encoded", "eventsourcing.persistence:Mapper.to_stored_event"),
    ("  events encoded", "store.mapper:EventMapper.to_stored_event"),
    ("  events and keys written", "eventsourcing.sqlite:SQLiteApplicationRecorder.insert_events"),
    (
        "  events and keys written",
        "eventsourcing.postgres:PostgresApplicationRecorder.insert_events",
    ),
    ("  events read back", "eventsourcing.sqlite:SQLiteApplicationRecorder.select_notifications"),
    (
        "  events read back",
        "eventsourcing.postgres:PostgresApplicationRecorder.select_notifications",
    ),
    ("  events decoded", "eventsourcing.persistence:Mapper.to_domain_event"),
    ("  events decoded", "store.mapper:EventMapper.to_domain_event"),
    ("  user list projected", "projections.users:UserListView.apply_all"),
    ("  status history projected", "projections.history:StatusHistoryView.apply_all"),
    ("  mail outbox projected", "projections.deliveries:DeliveryView.apply_all"),
    ("  review table projected", "projections.imports:ImportView.apply_all"),
]


class Clock:
    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, stage: str, target: str) -> bool:
        module_name, qualified = target.split(":")
        class_name, method_name = qualified.split(".")
        try:
            owner = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            return False
        original = getattr(owner, method_name, None)
        if original is None:
            return False
        setattr(owner, method_name, self._timed(stage, original))
        return True

    def _timed(self, stage: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth[stage] += 1
            if self._depth[stage] > 1:  # a subclass calling its base: counted once
                try:
                    return method(*args, **kwargs)
                finally:
                    self._depth[stage] -= 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.wall[stage] += time.perf_counter() - wall
                self.cpu[stage] += time.process_time() - cpu
                self._depth[stage] -= 1

        return timed


def import_file(services: Services, path: Path, seed: int) -> int:
    """Uploads, reviews, and commits the file with one group for everyone; users created."""
    with path.open("rb") as stream:
        batch_id = services.intake.accept(stream, path.name, actor="bench").id
    stored = services.intake.uploads.open(batch_id)
    if stored is not None:  # kept for a worker: read it here, as a worker buffers it
        with io.BufferedReader(stored, 1 << 20) as buffered:
            services.worker.importer.read(batch_id, buffered, services.intake.limits)
    services.read_model.catch_up()
    group = services.roster.create_group(f"Bench {seed}", [], actor="bench").id
    services.imports.choose_access(
        batch_id, AccessMode.ASSIGN_GROUPS, actor="bench", group_ids=[group]
    )
    services.imports.commit(batch_id, exclude_invalid=True, actor="bench")
    services.worker.importer.commit(batch_id)
    services.read_model.catch_up()
    with services.database.reading() as cursor:
        cursor.execute("SELECT created FROM import_batches WHERE id = %s", (str(batch_id),))
        row = cursor.fetchone()
    return int(row["created"]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--imports", type=int, default=1, help="files imported in turn (1)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--rebuild", action="store_true", help="then rebuild the read models")
    args = parser.parse_args()
    clock = Clock()
    wrapped = [stage for stage, target in STAGES if clock.wrap(stage, target)]
    scratch = Path(tempfile.mkdtemp(prefix="roster-stages-"))
    argv = argparse.Namespace(database_url=args.database_url, keep=False)
    with importing.fresh_store(argv, scratch) as url:
        settings = Settings.from_env(
            {
                "ROSTER_DATABASE_URL": url,
                "ROSTER_JWT_SECRET": secrets.token_urlsafe(48),
                "ROSTER_OUTBOX_DIR": str(scratch / "outbox"),
            }
        )
        services = build_services(settings)
        try:
            services.read_model.catch_up()
            for seed in range(1, args.imports + 1):
                path = scratch / f"import-{seed}.csv"
                importing.write_csv(path, args.rows, seed)
                before = dict(clock.wall), dict(clock.cpu)
                created = import_file(services, path, seed)
                report(clock, before, created, seed, dict.fromkeys(wrapped))
            if args.rebuild:
                rebuild(services)
        finally:
            services.close()


def rebuild(services: Services) -> None:
    """`roster projections rebuild`'s work: every read model anew from every event."""
    events = services.roster.recorder.max_notification_id() or 0
    wall, cpu = time.perf_counter(), time.process_time()
    services.read_model.rebuild()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"\nRebuild: {events:,} events in {wall:.1f} s ({cpu:.1f} s CPU) = "
        f"{events / wall:,.0f} events/s (goal >= 50,000)"
    )


def report(
    clock: Clock,
    before: tuple[dict[str, float], dict[str, float]],
    created: int,
    seed: int,
    stages: dict[str, None],
) -> None:
    print(f"\nImport {seed}: {created:,} users created; µs per user created")
    print(f"{'stage':<46} {'wall':>8} {'cpu':>8}")
    for stage in stages:
        wall = clock.wall.get(stage, 0.0) - before[0].get(stage, 0.0)
        cpu = clock.cpu.get(stage, 0.0) - before[1].get(stage, 0.0)
        print(f"{stage:<46} {wall / created * 1e6:8.1f} {cpu / created * 1e6:8.1f}")


if __name__ == "__main__":
    main()
