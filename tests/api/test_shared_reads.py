"""Subscribers that ask the same question at the same moment share one read."""

from __future__ import annotations

import asyncio

import pytest

from schema.shared_reads import SharedReads


class Reads:
    """A read that counts how often it ran, held until released."""

    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()

    async def __call__(self) -> list[int]:
        self.count += 1
        await self.release.wait()
        return [self.count]


async def test_askers_of_one_question_at_once_share_one_read() -> None:
    shared, reads = SharedReads(), Reads()
    askers = [asyncio.create_task(shared.read(("page", 7), reads)) for _ in range(50)]
    await asyncio.sleep(0)
    reads.release.set()

    answers = await asyncio.gather(*askers)

    assert reads.count == 1
    assert answers == [[1]] * 50


async def test_an_asker_a_little_later_gets_the_kept_answer() -> None:
    shared, reads = SharedReads(), Reads()
    reads.release.set()
    first = await shared.read(("page", 7), reads)

    assert await shared.read(("page", 7), reads) is first
    assert reads.count == 1


async def test_another_question_is_read_on_its_own() -> None:
    shared, reads = SharedReads(), Reads()
    reads.release.set()
    await shared.read(("page", 7), reads)

    assert await shared.read(("page", 8), reads) == [2]


async def test_a_failed_read_is_read_again_by_the_next_asker() -> None:
    shared, calls = SharedReads(), []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return "rows"

    with pytest.raises(ConnectionError):
        await shared.read("page", flaky)

    assert await shared.read("page", flaky) == "rows"


async def test_an_asker_cancelled_leaves_the_read_to_the_others() -> None:
    shared, reads = SharedReads(), Reads()
    leaving = asyncio.create_task(shared.read("page", reads))
    staying = asyncio.create_task(shared.read("page", reads))
    await asyncio.sleep(0)
    leaving.cancel()
    reads.release.set()

    assert await staying == [1]


async def test_only_the_newest_answers_are_kept() -> None:
    shared, reads = SharedReads(kept=2), Reads()
    reads.release.set()
    for page in (1, 2, 3):
        await shared.read(page, reads)

    await shared.read(1, reads)

    assert reads.count == 4
