"""Runs a command for the caller and turns its outcome into the operation's result:
the changed user, group or import batch as the read model now shows it, or a Problem."""

from __future__ import annotations

from collections.abc import Callable

from strawberry.types import Info

from domain.application import Roster, Saved
from domain.errors import DomainError
from domain.imports.commands import ImportCommands
from projections import group_queries, import_queries
from schema.errors import command_problem
from schema.types.groups import Group
from schema.types.import_batches import ImportBatch
from schema.types.problems import Conflict, InvalidInput, InvalidState, NotFound
from schema.types.users import User

Command = Callable[[Roster, str], Saved]  # (application, actor) -> what was saved


async def _run(info: Info, command: Command) -> Saved | DomainError:
    ctx = info.context
    actor = ctx.caller().subject
    try:
        saved: Saved = await ctx.command(lambda: command(ctx.services.roster, actor))
    except DomainError as error:
        return error
    return saved


async def user_outcome(
    info: Info, command: Command
) -> User | NotFound | InvalidState | InvalidInput | Conflict:
    outcome = await _run(info, command)
    if isinstance(outcome, DomainError):
        return command_problem(outcome)
    row = await info.context.users.load(str(outcome.id))
    return User.from_row(row)


async def group_outcome(info: Info, command: Command) -> Group | NotFound | InvalidInput | Conflict:
    outcome = await _run(info, command)
    if isinstance(outcome, DomainError):
        problem = command_problem(outcome)
        assert not isinstance(problem, InvalidState), "groups have no states to be in"
        return problem
    rows = await info.context.read(group_queries.groups_by_ids, [str(outcome.id)])
    return Group.from_row(rows[str(outcome.id)])


ImportCommand = Callable[[ImportCommands, str], Saved]  # (import commands, actor) -> saved


async def batch_outcome(
    info: Info, command: ImportCommand
) -> ImportBatch | NotFound | InvalidState | InvalidInput:
    imports = info.context.services.imports
    outcome = await _run(info, lambda _, actor: command(imports, actor))
    if isinstance(outcome, DomainError):
        problem = command_problem(outcome)
        assert not isinstance(problem, Conflict), "batches hold no unique values"
        return problem
    row = await info.context.read(import_queries.batch, str(outcome.id))
    return ImportBatch.from_row(row)
