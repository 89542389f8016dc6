"""The schema: the root types composed from one class per group of operations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from schema.execution import EventScopedExecutor
from schema.extensions import extensions
from schema.mutations.accept_invitation import AcceptInvitation
from schema.mutations.cancel_import import CancelImport
from schema.mutations.commit_import import CommitImport
from schema.mutations.create_group import CreateGroup
from schema.mutations.create_user import CreateUser
from schema.mutations.deactivate_user import DeactivateUser
from schema.mutations.erase_actor import EraseActor
from schema.mutations.erase_user import EraseUser
from schema.mutations.exclude_import_rows import ExcludeImportRows
from schema.mutations.include_import_rows import IncludeImportRows
from schema.mutations.reactivate_user import ReactivateUser
from schema.mutations.resend_invitation import ResendInvitation
from schema.mutations.revert_import import RevertImport
from schema.mutations.revise_import import ReviseImport
from schema.mutations.set_group_permissions import SetGroupPermissions
from schema.mutations.set_import_access import SetImportAccess
from schema.mutations.set_import_row_action import SetImportRowAction
from schema.mutations.set_user_access import SetUserAccess
from schema.mutations.start_bulk_action import StartBulkAction
from schema.mutations.start_import import StartImport
from schema.mutations.update_import_row import UpdateImportRow
from schema.queries.bulk import BulkQueries
from schema.queries.caller import CallerQueries
from schema.queries.groups import GroupQueries
from schema.queries.history import HistoryQueries
from schema.queries.imports import ImportQueries
from schema.queries.users import UserQueries
from schema.scalars import DateTime
from schema.subscriptions import Subscription

Query = merge_types(
    "Query",
    (CallerQueries, UserQueries, HistoryQueries, GroupQueries, ImportQueries, BulkQueries),
)
Mutation = merge_types(
    "Mutation",
    (
        StartImport,
        UpdateImportRow,
        ExcludeImportRows,
        IncludeImportRows,
        ReviseImport,
        SetImportAccess,
        SetImportRowAction,
        CommitImport,
        CancelImport,
        RevertImport,
        CreateUser,
        ResendInvitation,
        AcceptInvitation,
        DeactivateUser,
        ReactivateUser,
        EraseUser,
        SetUserAccess,
        CreateGroup,
        SetGroupPermissions,
        StartBulkAction,
        EraseActor,
    ),
)


class RosterSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Coded errors are outcomes, not faults; CodedErrors logs the faults."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Executes queries and mutations. Subscriptions are served over WebSocket only
        (graphql-transport-ws): over HTTP they are refused with 400, never run as queries."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )


schema = RosterSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=extensions(),
    config=StrawberryConfig(scalar_map={datetime: DateTime}),
    execution_context_class=EventScopedExecutor,
)
