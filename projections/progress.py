"""Tells async subscribers, from any thread, that a read model has moved on."""

from __future__ import annotations

import asyncio
import threading


class Progress:
    def __init__(self) -> None:
        self._position = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def position(self) -> int:
        return self._position

    def advance(self, position: int) -> None:
        """Safe to call from any thread."""
        with self._lock:
            if position <= self._position:
                return
            self._position = position
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def beyond(self, position: int) -> int:
        """Waits until the read model has passed `position`; returns where it is now."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while self._position <= position:
                await event.wait()
                event.clear()
            return self._position
        finally:
            with self._lock:
                self._waiters.discard(waiter)
