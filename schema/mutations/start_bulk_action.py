from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.application import Saved
from domain.bulk.action import BulkActionKind
from domain.bulk.commands import UserFilter as ChosenUsers
from domain.errors import InvalidInputError
from projections import bulk_queries
from schema.errors import command_problem, parse_id
from schema.permissions import CanManageUsers
from schema.queries.users import MAX_SEARCH_LENGTH
from schema.types.bulk import BulkAction, BulkActionProgress, BulkActionResult, UserFilter
from schema.types.problems import InvalidInput


@strawberry.type
class StartBulkAction:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Runs the action on the listed users or on every user the filter matches "
        "now (give exactly one of the two), in the background: follow it with "
        "bulkActionProgress. Users whose status does not allow the action are skipped and "
        "counted; each user is changed at most once, whatever crashes meanwhile.",
    )
    async def start_bulk_action(
        self,
        info: Info,
        action: BulkAction,
        user_ids: list[strawberry.ID] | None = None,
        filter: UserFilter | None = None,
        reason: str | None = None,
    ) -> BulkActionResult:
        ctx = info.context
        actor = ctx.caller().subject

        def start() -> Saved:
            ids = None if user_ids is None else [_user_id(v, i) for i, v in enumerate(user_ids)]
            saved: Saved = ctx.services.bulk.start(
                BulkActionKind(action.name),
                user_ids=ids,
                where=None if filter is None else _chosen(filter),
                actor=actor,
                reason=reason,
            )
            ctx.services.bulk_worker.wake()
            return saved

        try:
            saved: Saved = await ctx.command(start)
        except InvalidInputError as error:
            problem = command_problem(error)
            assert isinstance(problem, InvalidInput)
            return problem
        row = await ctx.read(bulk_queries.bulk_action, str(saved.id))
        assert row is not None, "the read model includes the action's events"
        return BulkActionProgress.from_row(row)


def _user_id(value: str, index: int) -> UUID:
    return parse_id(value, field=f"userIds[{index}]", noun="user")


def _chosen(given: UserFilter) -> ChosenUsers:
    if given.search is not None and len(given.search) > MAX_SEARCH_LENGTH:
        raise InvalidInputError(
            f"Search for at most {MAX_SEARCH_LENGTH} characters.",
            field="filter.search",
            code="TOO_LONG",
        )
    batch = given.import_batch_id
    return ChosenUsers(
        search=given.search,
        statuses=tuple(status.name for status in given.status or ()),
        import_batch_id=None
        if batch is None
        else parse_id(batch, field="filter.importBatchId", noun="import batch"),
    )
