"""What bench/import.py measures and how it prints it: the phases of an import, its speed
against the floor's, the commit's speed tenth by tenth, the server's peak RSS and the
store's bytes per user; and, for --curve, the same step after step of one growing store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

from import_floor import ROWS_PER_TRANSACTION, Load
from store_sizes import StoreSizes

REVIEW, ACCESS, COMMIT = "upload -> IN_REVIEW", "access", "commit -> COMPLETED"
CHECK = "check the file (in the bench)"  # by the review's rules, as the floor's input
#: Server/floor, each against the floor on the server's own store; peak RSS at 1M rows.
GOALS = {"SQLite": 10.0, "PostgreSQL": 12.0}
RSS_GOAL, RSS_GOAL_ROWS = 512 * 2**20, 1_000_000


class Poll(NamedTuple):
    """When a progress poll answered (perf_counter), and the users created by then."""

    at: float
    created: int


@dataclass
class Figures:
    phases: dict[str, float] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, Load] = field(default_factory=dict)  # by the floor's store
    polls: list[Poll] = field(default_factory=list)  # the commit's
    sizes: StoreSizes | None = None
    rss_at_start: int = 0
    #: The peak once the review is done (IN_REVIEW): the review's share of the peak.
    peak_rss_reviewed: int = 0
    peak_rss: int = 0
    failed: bool = False
    load_at_start: float = field(default_factory=lambda: os.getloadavg()[0])

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.phases[phase] = time.perf_counter() - started

    def note(self, line: str, *, failure: bool = False) -> None:
        print(line)
        self.failed = self.failed or failure

    @property
    def created(self) -> int:
        return int(self.progress.get("created", 0))

    @property
    def server(self) -> float:
        """Seconds from the upload to COMPLETED."""
        return sum(self.phases[phase] for phase in (REVIEW, ACCESS, COMMIT))

    def per_user(self, seconds: float) -> float:
        return seconds / max(self.created, 1) * 1e6

    def report(self, store: str) -> None:
        print(f"\n{'phase':<36} {'seconds':>9} {'µs/user':>9}")
        for phase, seconds in self.phases.items():
            mean = f"{self.per_user(seconds):9,.0f}" if phase in (REVIEW, COMMIT) else ""
            print(f"{phase:<36} {seconds:9.2f} {mean}")
        print(f"\nCommit, users/s by tenth of its users: {tenths(self.polls, self.created)}")
        print(
            f"\nServer, upload to COMPLETED: {self.server:.1f} s for {self.created:,} users = "
            f"{self.created / self.server:,.0f} users/s"
        )
        for name, load in self.loads.items():
            self.against(name, load, goal=GOALS[name] if name == store else None)
        print(
            f"Server peak RSS (VmHWM): {self.peak_rss / 2**20:,.0f} MiB (at start "
            f"{self.rss_at_start / 2**20:,.0f} MiB, by IN_REVIEW "
            f"{self.peak_rss_reviewed / 2**20:,.0f} MiB; goal <= {RSS_GOAL / 2**20:.0f} MiB at "
            f"{RSS_GOAL_ROWS:,} rows: {met(self.peak_rss <= RSS_GOAL)})"
        )
        if self.sizes:
            self.sizes.show(self.created)
        print(f"\n{load_average(self.load_at_start)}")

    def against(self, name: str, load: Load, goal: float | None) -> None:
        """The floor on one store, and the server's time over it: over its insert (the
        goal's ratio), and over the insert with what the floor needed before."""
        ratio = self.server / load.insert
        before = load.prepare + self.phases.get(CHECK, 0.0)
        verdict = f" (goal <= {goal:.0f}x: {met(ratio <= goal)})" if goal else ""
        print(f"Floor on {name}: {load}")
        print(
            f"  server/floor {ratio:,.1f}x{verdict}; {self.server / (load.insert + before):,.1f}x"
            " the floor with the file's check and the rows' making"
        )


def load_average(at_start: float) -> str:
    """The machine's, as a warning: other work on it slows the server and the floor alike."""
    return f"Load average (1 min): {at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"


def met(condition: bool) -> str:
    return "met" if condition else "NOT met"


def tenths(polls: list[Poll], created: int) -> str:
    """Users created per second over each tenth of them, from the first poll that saw k
    tenths created to the first that saw one more ("-" for a tenth no poll ended)."""
    if not created or not polls:
        return "-"
    marks = [polls[0]]
    for k in range(1, 11):
        marks.append(next(p for p in polls if p.created >= created * k / 10))
    return " ".join(
        f"{(b.created - a.created) / (b.at - a.at):,.0f}" if b.at > a.at else "-"
        for a, b in pairwise(marks)
    )


@dataclass
class Step:
    """One file of a --curve run, and the users in the store after it."""

    figures: Figures
    users: int

    def row(self, floor: str) -> str:
        f = self.figures
        load, sizes = f.loads[floor], f.sizes or StoreSizes({}, {}, {}, {})
        return (
            f"{self.users:>10,} {f.per_user(f.phases[REVIEW]):>8,.0f} "
            f"{f.per_user(f.phases[COMMIT]):>8,.0f} {f.per_user(load.insert):>8,.0f} "
            f"{f.server / load.insert:>7,.1f}x {sizes.total / 2**20:>9,.0f} "
            f"{sum(sizes.events.values()) / self.users:>8,.0f} "
            f"{sum(sizes.read_model.values()) / self.users:>8,.0f} "
            f"{f.peak_rss / 2**20:>8,.0f}"
        )


CURVE_HEAD = (
    f"{'users':>10} {'review':>8} {'commit':>8} {'floor':>8} {'ratio':>8} "
    f"{'store':>9} {'events':>8} {'reads':>8} {'RSS':>8}\n"
    f"{'in store':>10} {'µs/user':>8} {'µs/user':>8} {'µs/user':>8} {'':>8} "
    f"{'MiB':>9} {'B/user':>8} {'B/user':>8} {'MiB':>8}"
)


def show_step(step: Step, floor: str) -> None:
    print(CURVE_HEAD)
    print(step.row(floor))
    print(
        f"Commit, users/s by tenth of its users: {tenths(step.figures.polls, step.figures.created)}"
    )


def show_curve(steps: list[Step], floor: str) -> None:
    print(
        f"\nCost per user, step by step (the floor: {floor}, transactions of "
        f"{ROWS_PER_TRANSACTION:,} rows; ratio: upload to COMPLETED over the floor's insert; "
        "events and reads: bytes of the event store and of the read model per user so far)"
    )
    print(CURVE_HEAD)
    for step in steps:
        print(step.row(floor))
    print(load_average(steps[0].figures.load_at_start))
