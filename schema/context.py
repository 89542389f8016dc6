"""What every resolver gets: the caller, the services, and per-request loaders."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from bootstrap import Services
from domain.profiles import Caller, Profile
from projections import group_queries, user_queries
from projections.group_queries import GroupRow
from projections.user_queries import UserRow
from schema.errors import lacking_profile, refused, unauthenticated
from schema.shared_reads import SharedReads
from tokens import AuthenticationError

T = TypeVar("T")


class Context:
    def __init__(
        self,
        services: Services,
        authorization: str | None,
        request_id: str,
        *,
        shared: SharedReads | None = None,
        long_lived: bool = False,
    ) -> None:
        self.services = services
        self.shared = shared or SharedReads()
        self.authorization = authorization
        self.request_id = request_id
        self.connection_params: dict[str, Any] | None = None
        # A WebSocket's context lasts as long as the connection: batch there, never cache.
        cache = not long_lived
        self.users: DataLoader[str, UserRow | None] = DataLoader(self._load_users, cache=cache)
        self.groups: DataLoader[str, GroupRow | None] = DataLoader(self._load_groups, cache=cache)

    # ------------------------------------------------------------------ who calls

    def caller(self) -> Caller:
        try:
            return self.services.tokens.caller(self.authorization)
        except AuthenticationError as error:
            raise unauthenticated(str(error)) from None

    def caller_with_any(self, profiles: frozenset[Profile], activity: str) -> Caller:
        caller = self.caller()
        if not caller.has_any(profiles):
            raise refused(lacking_profile(profiles, activity))
        return caller

    # ------------------------------------------------------------------ reads and commands

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Runs a projection query in a worker thread, in one read transaction."""
        database = self.services.database

        def run() -> T:
            with database.reading() as cursor:
                return query(cursor, *args)

        return await run_in_threadpool(run)

    async def read_shared(self, key: Hashable, query: Callable[..., T], *args: Any) -> T:
        """`read`, made once for all the subscribers of this process that ask it at the same
        moment (see schema/shared_reads.py): `key` names what the answer depends on."""
        return await self.shared.read(key, lambda: self.read(query, *args))

    async def command(self, action: Callable[[], Any]) -> Any:
        """Runs a domain command in a worker thread and waits until the read models include
        its events, so the response and every later query see its effect."""

        def run() -> Any:
            saved = action()
            self.services.read_model.wait_for(saved.position)
            return saved

        return await run_in_threadpool(run)

    # ------------------------------------------------------------------ loaders

    async def _load_users(self, ids: list[str]) -> list[UserRow | None]:
        found = await self.read(user_queries.users_by_ids, ids)
        return [found.get(i) for i in ids]

    async def _load_groups(self, ids: list[str]) -> list[GroupRow | None]:
        found = await self.read(group_queries.groups_by_ids, ids)
        return [found.get(i) for i in ids]
