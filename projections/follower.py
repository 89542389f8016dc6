"""Keeps read models current: applies new events and records the position, atomically.

Each pass takes the read model's position under a write lock (a row lock on
PostgreSQL, the database write lock on SQLite), applies the events after it and
records the new position in the same transaction. So every event is applied exactly
once, however many threads and processes follow the same store, and a crash loses
nothing: the next pass starts where the last committed one ended.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Recording

from projections.database import Cursor, ReadDatabase

#: About how much stored event state one pass reads at most.
MAX_BATCH_BYTES = 16 * 1024 * 1024


@runtime_checkable
class NotificationSizes(Protocol):
    def notifications_within(self, start: int, limit: int, max_bytes: int) -> int | None:
        """The id of the last of the next `limit` notifications after `start` whose states
        stay within `max_bytes` together (the first in any case); None if there are none."""
        ...


@runtime_checkable
class NotificationCounts(Protocol):
    def count_notifications(self, start: int, stop: int) -> int:
        """How many notifications have ids after `start` up to `stop`."""
        ...


class View(Protocol):
    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        """Applies (event, position) pairs, in order, within the cursor's transaction."""
        ...

    def clear(self, cursor: Cursor) -> None: ...


class Follower:
    def __init__(
        self,
        name: str,
        application: Application[Any],
        database: ReadDatabase,
        views: Sequence[View],
        *,
        batch_size: int = 5000,
    ) -> None:
        self.name = name
        self.application = application
        self.database = database
        self.views = list(views)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._listeners: list[Callable[[int], None]] = []

    def on_advance(self, listener: Callable[[int], None]) -> None:
        """`listener(position)` is called whenever this read model has moved on."""
        self._listeners.append(listener)

    def position(self) -> int:
        with self.database.reading() as cursor:
            return read_position(cursor, self.name)

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns the position reached."""
        with self._lock:
            while True:
                position, applied = self._pass()
                if not applied:
                    break
        for listener in self._listeners:
            listener(position)
        return position

    def take_in(self, recordings: Sequence[Recording[Any]]) -> int:
        """`catch_up`, for a caller that has just saved `recordings`: when they are all
        the store holds after this read model's position, they are applied from the
        events in memory, neither read back nor decoded. Otherwise (another writer's
        events came before or between them, or an event says less as stored than in
        memory: about a person erased already) the read model catches up from the store
        as always; so the rows are the same either way, and the same as a rebuild's."""
        ids = [recording.notification.id for recording in recordings]
        recorder = self.application.recorder
        ascending = all(a < b for a, b in itertools.pairwise(ids))
        sealing = getattr(self.application.mapper, "sealing", None)
        as_stored = sealing is None or not any(
            sealing.erased_on_arrival(recording.domain_event) for recording in recordings
        )
        if ids and ascending and as_stored and isinstance(recorder, NotificationCounts):
            with self._lock:
                start = self.position()
                if start < ids[0] and recorder.count_notifications(start, ids[-1]) == len(ids):
                    with self.database.writing() as cursor:
                        if _locked_position(cursor, self.name, self.database.dialect) == start:
                            events = [(r.domain_event, r.notification.id) for r in recordings]
                            for view in self.views:
                                view.apply_all(cursor, events)
                            self._record(cursor, ids[-1])
        return self.catch_up()

    def wait_for(self, position: int) -> None:
        """Returns once the read model includes the event at `position` (read your writes)."""
        while self.catch_up() < position:
            threading.Event().wait(0.01)

    def rebuild(self) -> int:
        """Empties the read model and applies every event again, in one transaction:
        readers see the old read model until the new one is complete."""
        with self._lock, self.database.writing() as cursor:
            _locked_position(cursor, self.name, self.database.dialect)
            for view in self.views:
                view.clear(cursor)
            position = 0
            while batch := self._apply_after(cursor, position):
                position = batch
            self._record(cursor, position)
        for listener in self._listeners:
            listener(position)
        return position

    @contextmanager
    def holding(self, then: Callable[[], None] | None = None) -> Iterator[Cursor]:
        """A write transaction during which no pass of this read model runs, in this process
        or another (it holds the position's lock): what it rewrites in the read model
        cannot be overwritten by a pass that read the events before it committed. `then`
        runs after the commit, before this process's next pass."""
        with self._lock:
            with self.database.writing() as cursor:
                _locked_position(cursor, self.name, self.database.dialect)
                yield cursor
            if then is not None:
                then()

    def _pass(self) -> tuple[int, bool]:
        # Read the new events before taking the write lock: on SQLite, waiting for the
        # event store's connections while holding the file's write lock can deadlock
        # with a command that is writing events.
        start = self.position()
        notifications = self._select_after(start)
        if not notifications:
            return start, False
        with self.database.writing() as cursor:
            position = _locked_position(cursor, self.name, self.database.dialect)
            if position != start:
                return position, True  # another follower got there first: look again
            self._apply(cursor, notifications)
            self._record(cursor, notifications[-1].id)
            return notifications[-1].id, True

    def _apply_after(self, cursor: Cursor, position: int) -> int | None:
        notifications = self._select_after(position)
        self._apply(cursor, notifications)
        return notifications[-1].id if notifications else None

    def _select_after(self, position: int) -> Sequence[Notification]:
        """The next events: up to batch_size of them, and about MAX_BATCH_BYTES of stored
        state (an import's row events are large: a thousand would be half a gigabyte)."""
        recorder = self.application.recorder
        stop = None
        if isinstance(recorder, NotificationSizes):
            stop = recorder.notifications_within(position, self.batch_size, MAX_BATCH_BYTES)
            if stop is None:
                return []
        return recorder.select_notifications(
            start=position, limit=self.batch_size, stop=stop, inclusive_of_start=False
        )

    def _apply(self, cursor: Cursor, notifications: Sequence[Notification]) -> None:
        mapped = self.application.mapper.to_domain_events(notifications)  # type: ignore[attr-defined]
        events = list(zip(mapped, (n.id for n in notifications), strict=True))
        for view in self.views:
            view.apply_all(cursor, events)

    def _record(self, cursor: Cursor, position: int) -> None:
        cursor.execute(
            "UPDATE projection_positions SET position = %s WHERE name = %s",
            (position, self.name),
        )


def read_position(cursor: Cursor, name: str) -> int:
    cursor.execute("SELECT position FROM projection_positions WHERE name = %s", (name,))
    row = cursor.fetchone()
    return int(row["position"]) if row else 0


def _locked_position(cursor: Cursor, name: str, dialect: str) -> int:
    cursor.execute(
        "INSERT INTO projection_positions (name, position) VALUES (%s, 0)"
        " ON CONFLICT (name) DO NOTHING",
        (name,),
    )
    lock = " FOR UPDATE" if dialect == "postgres" else ""
    cursor.execute(f"SELECT position FROM projection_positions WHERE name = %s{lock}", (name,))
    row = cursor.fetchone()
    assert row is not None
    return int(row["position"])
