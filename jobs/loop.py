"""A thread that does a unit of work again and again: at once while there is more, else
after a pause (or as soon as it is woken). The import worker, the mail delivery and the
expiry sweeper are such loops."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("roster.jobs")


class BackgroundLoop:
    def __init__(self, name: str, poll_seconds: float) -> None:
        self.name = name
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """One unit of work; True when there may be more to do right away."""
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Works now rather than after the pause."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("%s failed; it tries again shortly.", self.name)
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
