"""The subscriptions, served over WebSocket only. A subscription's token is checked when the
connection is made and the connection is closed when it expires (web/sockets.py), so messages
go out without checking it again. Subscribers of one process share their reads (the batch
row, a page of changes: schema/shared_reads.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from domain.errors import NotFoundError
from projections import bulk_queries, history_queries, import_queries
from projections.follower import read_position
from schema.errors import parse_id
from schema.permissions import CanAudit, CanImport, CanManageUsers
from schema.types.bulk import BulkActionProgress, BulkActionStatus
from schema.types.history import StatusChange
from schema.types.imports import REVERT_STATUSES, ImportProgress, ImportStatus

P = TypeVar("P")

#: Seconds between two progress messages to one subscriber at least (10 a second).
PROGRESS_INTERVAL = 0.1
#: Changes read at once for a statusChanged subscriber: one behind by many more gets them
#: page by page, each read only when the previous page has been sent.
CHANGES_PAGE = 500
#: A COMPLETED batch is final unless revertImport made it REVERTING: then until REVERTED.
FINAL = (ImportStatus.COMPLETED, ImportStatus.CANCELLED, ImportStatus.REVERTED)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[CanImport],
        description="The batch's progress now, then after every change, until it is COMPLETED "
        "or CANCELLED (or, once revertImport made it REVERTING, REVERTED).",
    )
    async def import_progress(
        self, info: Info, batch_id: strawberry.ID
    ) -> AsyncGenerator[ImportProgress, None]:
        ctx = info.context
        wanted = str(parse_id(batch_id, field="batchId", noun="import batch"))

        async def read(position: int) -> ImportProgress | None:
            row = await ctx.read_shared(("batch", wanted, position), import_queries.batch, wanted)
            if row is None:
                return None
            progress = ImportProgress.from_row(row)
            if progress.status in REVERT_STATUSES:
                revert = await ctx.read_shared(
                    ("revert", wanted, position), bulk_queries.revert_of, wanted
                )
                if revert is not None:
                    progress.revert_counts = (revert.changed, revert.kept)
            return progress

        async for progress in _followed(
            ctx,
            read,
            lambda progress: progress.status in FINAL,
            f"No import batch has the id {wanted}; check the id.",
        ):
            yield progress

    @strawberry.subscription(
        permission_classes=[CanManageUsers],
        description="The bulk action's progress now, then after every change, until it is "
        "COMPLETED.",
    )
    async def bulk_action_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[BulkActionProgress, None]:
        ctx = info.context
        wanted = str(parse_id(id, field="id", noun="bulk action"))

        async def read(position: int) -> BulkActionProgress | None:
            key = ("bulk", wanted, position)
            row = await ctx.read_shared(key, bulk_queries.bulk_action, wanted)
            return None if row is None else BulkActionProgress.from_row(row)

        async for progress in _followed(
            ctx,
            read,
            lambda progress: progress.status is BulkActionStatus.COMPLETED,
            f"No bulk action has the id {wanted}; check the id.",
        ):
            yield progress

    @strawberry.subscription(
        permission_classes=[CanAudit],
        description="Status changes as they happen; of one user, or of all.",
    )
    async def status_changed(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> AsyncGenerator[StatusChange, None]:
        ctx = info.context
        user = str(user_id) if user_id else None
        position = await ctx.read(read_position, ctx.services.read_model.name)
        while True:
            reached = await ctx.services.progress.beyond(position)
            while True:
                # The answer holds every change the read model had at `now` at least.
                now = ctx.services.progress.position
                rows = await ctx.read_shared(
                    ("changes", position, user, now),
                    history_queries.changes_after,
                    position,
                    user,
                    CHANGES_PAGE,
                )
                for row in rows:
                    yield StatusChange.from_row(row)
                    position = row.position
                    # Each message gives the other connections their turn: a subscriber
                    # with a page to send must not hold the event loop for all of it.
                    await asyncio.sleep(0)
                if len(rows) < CHANGES_PAGE:
                    break
            # Every change up to `reached` is in the table now: none is left behind it.
            position = max(position, reached)


async def _followed(
    ctx: Any,
    read: Callable[[int], Awaitable[P | None]],
    final: Callable[[P], bool],
    missing: str,
) -> AsyncGenerator[P, None]:
    """A progress now, then after every change of the read model, until it is final: at
    most one message per PROGRESS_INTERVAL, the latest state winning; NotFound (`missing`)
    when there is no such thing."""
    sent: P | None = None
    sent_at = 0.0
    while True:
        position = ctx.services.progress.position
        progress = await read(position)
        if progress is None:
            raise NotFoundError(missing)
        if progress != sent:
            yield progress
            sent, sent_at = progress, time.monotonic()
        if final(progress):
            return
        await ctx.services.progress.beyond(position)
        await asyncio.sleep(max(0.0, sent_at + PROGRESS_INTERVAL - time.monotonic()))
