"""Reads that many subscribers make at the same moment, made once.

When the read model moves on, every subscriber of one import's progress asks for the same
batch row, and every statusChanged subscriber at the same position asks for the same page
of changes. One process's subscribers share one read per question: the first asks the
database, the others wait for its answer, and recent answers are kept for those that come
a little later. The rows are immutable, so sharing them is safe. Questions are keyed by
what the answer depends on, the read model's position included, so an answer is never
older than the moment it was asked for.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
#: Answers kept for subscribers that ask a little later than the others.
KEPT_ANSWERS = 256


class SharedReads:
    """One event loop's shared reads (a server process has one loop)."""

    def __init__(self, kept: int = KEPT_ANSWERS) -> None:
        self._kept = kept
        self._answers: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()

    async def read(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The answer to `key`: read now by the first to ask, shared with the others."""
        answer = self._answers.get(key)
        if answer is None:
            answer = asyncio.ensure_future(read())
            self._answers[key] = answer
            answer.add_done_callback(lambda done: self._forget_if_failed(key, done))
            while len(self._answers) > self._kept:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        result: T = await asyncio.shield(answer)  # one waiter cancelled: the read goes on
        return result

    def _forget_if_failed(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        # A failed read is asked again by the next subscriber, not served from here.
        failed = done.cancelled() or done.exception() is not None
        if failed and self._answers.get(key) is done:
            del self._answers[key]
