"""A subscription's memory does not grow with its events (schema/execution.py works around
graphql-core 3.3.2, which keeps a memo entry for every event of a subscription)."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncGenerator

import strawberry
from graphql import Executor, build_schema, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import SUBFIELDS_MEMO, EventScopedExecutor

EVENTS = 20_000
#: What 18,000 events may add to a subscription at most; graphql-core alone adds ~9 MB.
MAX_GROWTH = 1 << 20


@strawberry.type
class Change:
    user_id: str
    version: int


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def changes(self, count: int) -> AsyncGenerator[Change, None]:
        for version in range(count):
            yield Change(user_id="3f2b7c9e-0d41-4c55-9a57-2a1f0e6b8d10", version=version)


async def growth(executor: type[StrawberryGraphQLCoreExecutionContext]) -> int:
    """Bytes held more after the last event than after the 2,000th."""
    schema = strawberry.Schema(
        query=Query, subscription=Subscription, execution_context_class=executor
    )
    stream = await schema.subscribe(
        f"subscription {{ changes(count: {EVENTS}) {{ userId version }} }}"
    )
    tracemalloc.start()
    try:
        seen = 0
        async for result in stream:
            assert result.errors is None
            seen += 1
            if seen == 2_000:
                gc.collect()
                early = tracemalloc.get_traced_memory()[0]
            if seen == EVENTS - 1:
                gc.collect()
                late = tracemalloc.get_traced_memory()[0]
        return late - early
    finally:
        tracemalloc.stop()


def test_graphql_core_keeps_its_memo_of_subfields_where_the_workaround_resets_it() -> None:
    executor = Executor.build(build_schema("type Query { a: Int }"), parse("{ a }"))

    assert isinstance(getattr(executor, SUBFIELDS_MEMO), dict)


async def test_a_subscription_does_not_grow_with_its_events() -> None:
    assert await growth(EventScopedExecutor) < MAX_GROWTH


async def test_graphql_core_alone_still_grows_with_every_event() -> None:
    """When this fails, graphql-core no longer leaks: schema/execution.py can go."""
    assert await growth(StrawberryGraphQLCoreExecutionContext) > 4 * MAX_GROWTH
