"""How documents are executed: Strawberry's executor, without a memory leak of graphql-core's.

graphql-core 3.3.2 executes each event of a subscription with a shallow copy of the
subscription's executor, so every event shares one memo of collected subfields. The memo
is keyed by the identity of lists that each event makes anew: it grows by every event
(about half a kilobyte) for as long as the subscription lasts. A statusChanged subscriber
following a 100,000-row import held ~50 MB of it; 500 of them, gigabytes. Each event gets
a memo of its own here, which keeps the memo's use within one event (lists of values).
The attribute is graphql-core's own, not documented: tests/api/test_subscription_memory.py
fails loudly if an upgrade renames it or the leak comes back another way.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: graphql-core's memo of collected subfields, per executor.
SUBFIELDS_MEMO = "_relevant_sub_fields"


class EventScopedExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        setattr(executor, SUBFIELDS_MEMO, {})
        return executor
