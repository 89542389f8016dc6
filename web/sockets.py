"""GraphQL over WebSocket as Roster serves it: graphql-transport-ws, and nothing on a
connection without a valid token.

- `connection_init` must carry a valid bearer token that grants a profile: without one
  the socket is closed with 4401 (4403 for a token without any profile), and nothing
  is served, not even what HTTP serves without a token.
- The connection is closed with 4401 when its token expires, on a timer: the protocol
  has no way to present a new token, so the client connects again with one.
- A message over the body limit (ROSTER_MAX_BODY_BYTES) is refused unparsed: the socket
  is closed with 1009 (message too big).
- A connection runs at most ROSTER_MAX_SUBSCRIPTIONS operations at once; one more is
  refused with an `error` message (TOO_MANY_SUBSCRIPTIONS) and the connection stays open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import suppress
from datetime import UTC, datetime
from json import JSONDecodeError
from typing import ClassVar

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from domain.profiles import Caller
from schema.context import Context
from schema.errors import TooManySubscriptionsError, refused
from tokens import AuthenticationError

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
MESSAGE_TOO_BIG = 1009
#: The most a close frame's reason may hold (RFC 6455, 5.5).
REASON_BYTES = 123


class SocketRefusedError(Exception):
    """Closes the socket with `code` and `reason`, instead of acknowledging it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def admit(context: Context) -> Caller:
    """The caller that `connection_init`'s `authorization` proves, or a refusal."""
    params = context.connection_params or {}
    given = params.get("authorization") or params.get("Authorization")
    context.authorization = given if isinstance(given, str) else None
    if not context.authorization:
        raise SocketRefusedError(
            UNAUTHENTICATED, 'Send {"authorization": "Bearer <token>"} in connection_init.'
        )
    # An identity provider's key not known yet is fetched first, in a thread.
    await context.services.tokens.learn_key(context.authorization)
    try:
        caller = context.services.tokens.caller(context.authorization)
    except AuthenticationError as error:
        raise SocketRefusedError(UNAUTHENTICATED, str(error)) from None
    if not caller.profiles:
        raise SocketRefusedError(FORBIDDEN, "The token grants no profile; ask for one.")
    return caller


class RosterTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with the refusals above."""

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)  # calls view.on_ws_connect → admit
        except SocketRefusedError as refusal:
            await self.websocket.close(refusal.code, _reason(refusal.reason))
            return
        if self.connection_acknowledged and self.expiry is None:
            try:
                expires_at = self.context.caller().expires_at
            except GraphQLError:  # expired since it was admitted
                expires_at = datetime.now(UTC)
            if expires_at is not None:
                self.expiry = asyncio.create_task(self.close_at(expires_at))

    async def close_at(self, expires_at: datetime) -> None:
        await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds())
        # Stop every operation first, so that none sends on the closed socket.
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        reason = "The token has expired; connect again with a new one."
        with suppress(RuntimeError):  # the client closed the socket at the same time
            await self.websocket.close(UNAUTHENTICATED, reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        ):
            error = refused(
                TooManySubscriptionsError(
                    f"This connection runs {limit} operations already, the most it may; "
                    "complete one of them first."
                )
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry
        await super().shutdown()


class BoundedMessages(ASGIWebSocketAdapter):
    """Reads the client's messages as Strawberry's adapter does, but closes the socket
    with 1009 at the first one over `max_bytes`, before parsing it."""

    max_bytes: ClassVar[int] = 1 << 20

    @classmethod
    def limited_to(cls, max_bytes: int) -> type[BoundedMessages]:
        return type(cls.__name__, (cls,), {"max_bytes": max_bytes})

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                # Characters count at least one byte each: encode only when it may matter.
                if len(text) > self.max_bytes or len(text.encode()) > self.max_bytes:
                    reason = f"A message may hold {self.max_bytes} bytes at most."
                    await self.close(MESSAGE_TOO_BIG, reason)
                    return
                try:
                    yield self.view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass


def _reason(text: str) -> str:
    """`text` cut to what a close frame's reason may hold."""
    return text.encode()[:REASON_BYTES].decode(errors="ignore")
