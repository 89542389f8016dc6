"""What an import is doing, in words a person waits on, and how long it may still take.

A batch's status says where it is in its life (VALIDATING, IN_REVIEW, COMMITTING...); its
phase says what the machine is busy with: checking the file (no row recorded yet),
recording its rows, registering its users, deactivating them again (REVERTING), or
nothing (DONE). The time left is estimated
from the rate of the phase so far, measured between the events that record its work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: The share of a phase's work, or the seconds of it, done before its rate is trusted.
ENOUGH_SHARE = 0.01
ENOUGH_SECONDS = 2.0


class ImportPhase(StrEnum):
    CHECKING = "CHECKING"
    RECORDING = "RECORDING"
    REGISTERING = "REGISTERING"
    REVERTING = "REVERTING"
    DONE = "DONE"


def phase_of(status: str, recorded: int) -> ImportPhase:
    """The phase of a batch in `status` that has recorded `recorded` rows: the one place
    that maps statuses to phases (a new status that works for a while gets its phase here)."""
    if status == "VALIDATING":
        return ImportPhase.RECORDING if recorded > 0 else ImportPhase.CHECKING
    if status == "COMMITTING":
        return ImportPhase.REGISTERING
    if status == "REVERTING":
        return ImportPhase.REVERTING  # its work is the revert's bulk action's (no clock here)
    return ImportPhase.DONE


#: Per working phase, the batch's counts of (units done, units in all): rows recorded of
#: the file's rows; rows the commit went through (registered, or an EXISTING row's
#: action carried out or skipped) of the VALID and EXISTING rows.
WORK: dict[ImportPhase, tuple[str, tuple[str, ...]]] = {
    ImportPhase.RECORDING: ("validated", ("total",)),
    ImportPhase.REGISTERING: ("processed", ("valid", "existing")),
}


def work_of(phase: ImportPhase, counts: Mapping[str, int]) -> tuple[int, int]:
    """(done, of) of the phase's work from the batch's counts; (0, 0) for the others."""
    done, of = WORK.get(phase, ("", ()))
    return counts.get(done, 0), sum(counts.get(name, 0) for name in of)


@dataclass(frozen=True)
class PhaseClock:
    """When the current phase started and how many of its units were done then (both from
    the event that started it), and when the latest event of its work was recorded."""

    started_at: datetime
    done_then: int
    latest_at: datetime


def eta_seconds(phase: ImportPhase, done: int, of: int, clock: PhaseClock | None) -> int | None:
    """Seconds left, as of the phase's latest event, at the rate of the phase so far:
    (of - done) / ((done - done_then) / (latest_at - started_at)), rounded up. None while
    it cannot be told: in CHECKING (which records nothing on the way) and REVERTING, before
    any work was recorded after the phase's first event, and until at least ENOUGH_SHARE
    of the phase's work or ENOUGH_SECONDS of it are done. 0 when DONE or nothing is left."""
    if phase is ImportPhase.DONE:
        return 0
    if phase in (ImportPhase.CHECKING, ImportPhase.REVERTING) or clock is None:
        return None  # REVERTING: the revert's own progress is its bulk action's
    worked = done - clock.done_then
    seconds = (clock.latest_at - clock.started_at).total_seconds()
    if worked <= 0 or seconds <= 0:
        return None
    if worked < ENOUGH_SHARE * (of - clock.done_then) and seconds < ENOUGH_SECONDS:
        return None
    left = max(0, of - done)
    return math.ceil(left * seconds / worked)
