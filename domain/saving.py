"""What a command returns, and how a command on an existing aggregate survives other
writers: `Saved` (the ids and the position to wait for), `retried_on_conflict`."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Recording

P = ParamSpec("P")

#: How often a command on an existing aggregate is tried when other writers keep
#: changing it first, and the longest pause between two tries (seconds, jittered).
MAX_CONFLICT_TRIES = 30
MAX_CONFLICT_PAUSE = 0.2


@dataclass(frozen=True)
class Saved:
    id: UUID
    position: int

    @classmethod
    def of(cls, aggregate_id: UUID, recordings: Sequence[Recording[UUID]]) -> Saved:
        return cls(aggregate_id, last_position(recordings))


def last_position(recordings: Sequence[Recording[UUID]]) -> int:
    """The position of the last event a save wrote: 0 when the command changed nothing."""
    return max((r.notification.id for r in recordings), default=0)


def retried_on_conflict(command: Callable[P, Saved]) -> Callable[P, Saved]:
    """Runs a command on an existing aggregate again (from a fresh load) when another
    writer changed the aggregate between our load and our save; the rules then apply to
    what the other writer left, e.g. a second deactivation is refused as InvalidState."""

    @functools.wraps(command)
    def retried(*args: P.args, **kwargs: P.kwargs) -> Saved:
        for attempt in range(MAX_CONFLICT_TRIES - 1):
            try:
                return command(*args, **kwargs)
            except IntegrityError:
                # Many writers on one aggregate (reviewers editing one batch): back off
                # at random, so that they do not collide again in lockstep.
                pause = min(MAX_CONFLICT_PAUSE, 0.002 * 2**attempt)
                time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not a secret
        return command(*args, **kwargs)

    return retried
