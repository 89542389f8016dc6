"""Follows the event store in a background thread, so that events written by other
processes (other servers, workers, the CLI) reach the read models promptly.

PostgreSQL announces new events with NOTIFY, which the watcher LISTENs for; SQLite
cannot announce anything, so there the watcher polls (a cheap indexed look-up).
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg import sql

from projections.follower import Follower

log = logging.getLogger(__name__)
RECHECK_SECONDS = 2.0


class Watcher:
    def __init__(
        self,
        follower: Follower,
        *,
        listen_conninfo: str | None = None,
        channel: str | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.follower = follower
        self._conninfo = listen_conninfo
        self._channel = channel
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="roster-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._conninfo and self._channel:
                    self._listen(self._conninfo, self._channel)
                else:
                    self._poll()
            except Exception:
                log.exception("Following the event store failed; trying again in a second")
                self._stopping.wait(1.0)

    def _poll(self) -> None:
        while not self._stopping.wait(self._poll_seconds):
            self.follower.catch_up()

    def _listen(self, conninfo: str, channel: str) -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.follower.catch_up()  # whatever was written before we listened
            caught_up = time.monotonic()
            while not self._stopping.is_set():
                # Short waits keep stop() quick; the periodic catch-up covers a
                # notification missed while the connection was busy.
                notified = any(True for _ in connection.notifies(timeout=0.25, stop_after=1))
                if notified or time.monotonic() - caught_up > RECHECK_SECONDS:
                    self.follower.catch_up()
                    caught_up = time.monotonic()
