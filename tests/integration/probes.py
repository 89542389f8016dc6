"""What the restart drill watches Roster with besides its mailbox (tests/mail.py): a probe
that keeps asking /health."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

HEALTH_EVERY = 0.5
#: What a probe waits at most for an answer; /health itself gives up after 3 s.
PROBE_TIMEOUT = 5.0


class HealthProbe:
    """Asks /health every HEALTH_EVERY seconds, each time in a thread of its own (as a
    load balancer does, whether or not its last question was answered), keeping (asked
    at, answered at, status); status 0 when no answer came within PROBE_TIMEOUT."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: list[tuple[float, float, int]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)

    def _run(self) -> None:
        asking: list[threading.Thread] = []
        while not self._stopping.wait(HEALTH_EVERY):
            asking = [thread for thread in asking if thread.is_alive()]
            asking.append(threading.Thread(target=self._ask, daemon=True))
            asking[-1].start()
        for thread in asking:
            thread.join(PROBE_TIMEOUT + 1)

    def _ask(self) -> None:
        asked = time.time()
        try:
            status = httpx.get(f"{self.base_url}/health", timeout=PROBE_TIMEOUT).status_code
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.answers.append((asked, time.time(), status))

    def first(self, status: int, after: float) -> float | None:
        """When the first probe asked after `after` that got `status` was answered."""
        with self._lock:
            found = [end for at, end, got in self.answers if at >= after and got == status]
        return min(found, default=None)

    def between(self, start: float, end: float) -> Counter[int]:
        """The statuses of the probes asked and answered from `start` to `end` (one asked
        before `end` may rightly be answered 200 after it: it waited for the database)."""
        with self._lock:
            return Counter(got for at, done, got in self.answers if start <= at <= done < end)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=PROBE_TIMEOUT + 1)
