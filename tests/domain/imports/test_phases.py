"""An import's phase from its status, and the time left from the rate of the phase so far."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.imports.phases import ImportPhase, PhaseClock, eta_seconds, phase_of, work_of

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def clock(done_then: int, seconds: float) -> PhaseClock:
    return PhaseClock(T0, done_then, T0 + timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("status", "recorded", "phase"),
    [
        ("VALIDATING", 0, ImportPhase.CHECKING),
        ("VALIDATING", 1, ImportPhase.RECORDING),
        ("COMMITTING", 10, ImportPhase.REGISTERING),
        ("IN_REVIEW", 10, ImportPhase.DONE),
        ("COMPLETED", 10, ImportPhase.DONE),
        ("CANCELLED", 0, ImportPhase.DONE),
        ("REVERTING", 10, ImportPhase.REVERTING),
        ("REVERTED", 10, ImportPhase.DONE),
    ],
)
def test_each_status_has_its_phase(status: str, recorded: int, phase: ImportPhase) -> None:
    assert phase_of(status, recorded) is phase


def test_recording_counts_rows_recorded_and_registering_rows_processed() -> None:
    counts = {"total": 9, "validated": 4, "valid": 7, "processed": 3}

    assert work_of(ImportPhase.RECORDING, counts) == (4, 9)
    assert work_of(ImportPhase.REGISTERING, counts) == (3, 7)
    assert work_of(ImportPhase.DONE, counts) == (0, 0)


def test_registering_counts_the_existing_rows_whose_action_the_commit_carries_out() -> None:
    counts = {"total": 9, "validated": 9, "valid": 5, "existing": 2, "processed": 6}

    assert work_of(ImportPhase.REGISTERING, counts) == (6, 7)


def test_the_time_left_is_the_work_left_at_the_rate_so_far() -> None:
    # 2,000 rows done then, 6,000 now, 4 s later: 1,000 rows a second, 4,000 left.
    assert eta_seconds(ImportPhase.REGISTERING, 6_000, 10_000, clock(2_000, 4)) == 4


def test_the_time_left_is_rounded_up() -> None:
    assert eta_seconds(ImportPhase.RECORDING, 3, 10, clock(0, 2)) == 5  # 7 rows at 1.5/s


def test_there_is_no_estimate_while_checking() -> None:
    assert eta_seconds(ImportPhase.CHECKING, 0, 100, None) is None
    assert eta_seconds(ImportPhase.REVERTING, 0, 0, clock(0, 5)) is None


def test_there_is_no_estimate_before_any_work_after_the_phase_began() -> None:
    assert eta_seconds(ImportPhase.REGISTERING, 0, 100, clock(0, 0)) is None
    assert eta_seconds(ImportPhase.RECORDING, 2_000, 9_000, clock(2_000, 0)) is None
    assert eta_seconds(ImportPhase.REGISTERING, 0, 100, None) is None


def test_there_is_no_estimate_below_one_percent_and_two_seconds_of_work() -> None:
    assert eta_seconds(ImportPhase.REGISTERING, 99, 10_000, clock(0, 1.9)) is None
    assert eta_seconds(ImportPhase.REGISTERING, 100, 10_000, clock(0, 1.9)) == 189
    assert eta_seconds(ImportPhase.REGISTERING, 10, 10_000, clock(0, 2)) == 1_998


def test_done_leaves_nothing() -> None:
    assert eta_seconds(ImportPhase.DONE, 5, 5, clock(0, 3)) == 0
    assert eta_seconds(ImportPhase.REGISTERING, 5, 5, clock(0, 3)) == 0
