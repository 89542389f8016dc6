"""The Starlette app, `server:app`: GraphQL over HTTP and WebSocket, and /health.

Configured only by environment variables (see settings.py and README.md). Built
lazily: importing this module reads the settings; the stores open at start-up.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from bootstrap import Services, build_services
from logs import keep_secrets_out_of_logs
from schema.app import schema
from schema.context import Context
from schema.errors import (
    REFUSED,
    PayloadTooLargeError,
    internal_error_response,
    refusal_for,
    refusal_response,
)
from schema.queries.imports import TEMPLATE_URL
from schema.shared_reads import SharedReads
from settings import Settings
from tokens import TokenVerifier
from web.console import Console
from web.downloads import error_report, import_template
from web.exports import status_changes_csv, users_csv
from web.portal import accept_page, accept_script
from web.sockets import BoundedMessages, RosterTransportWS, admit
from web.upload_gate import UploadGate

log = logging.getLogger("roster")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEALTH_SECONDS = 3
#: What a multipart upload may carry besides its file (operations, map, part headers).
UPLOAD_MARGIN_BYTES = 1 << 20


class RosterGraphQL(GraphQL[Context, None]):
    # WebSocket: graphql-transport-ws only, with the limits and refusals of sockets.py.
    graphql_transport_ws_handler_class = RosterTransportWS

    def __init__(self, services_of: Any, settings: Settings, console: Console) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            multipart_uploads_enabled=True,
            allowed_origins=settings.cors_origins,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=settings.max_subscriptions,
        )
        self._services_of = services_of
        self._console = console
        # Created here, per process: subscribers share their reads (schema/shared_reads.py).
        self._shared_reads = SharedReads()
        self.websocket_adapter_class = BoundedMessages.limited_to(settings.max_body_bytes)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = self._services_of(request)
        # Resolvers check the token on the event loop, from keys in memory: an identity
        # provider's key not known yet is fetched here, in a thread.
        await services.tokens.learn_key(request.headers.get("authorization"))
        return Context(
            services=services,
            authorization=request.headers.get("authorization"),
            request_id=request.scope.get("state", {}).get("request_id", uuid.uuid4().hex),
            shared=self._shared_reads,
            long_lived=isinstance(request, WebSocket),
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                # Mounted as a plain ASGI app, nobody else closes the uploaded files.
                await request.close()

    async def render_graphql_ide(self, request: Request) -> Response:
        # GraphiQL from the server's own files (web/console.py), working offline.
        return self._console.graphiql_page()

    async def on_ws_connect(self, context: Context) -> None:
        await admit(context)


class RequestLimits:
    """Gives every request an id (echoed as X-Request-ID) and refuses bodies over the limit:
    `max_body_bytes` for a GraphQL request, `max_upload_bytes` and a little more for the
    other parts of a multipart upload. A file between its limit and that margin is read
    and refused by startImport as InvalidFile TOO_LARGE; anything larger is refused here
    before it is read (413), so an upload never fills the disk either."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            limit = self.max_upload_bytes + UPLOAD_MARGIN_BYTES
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        started = False
        tagged = self._tagging(send, request_id)

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await tagged(message)

        try:
            await self.app(scope, self._counting(receive, limit), sending)
        except BodyTooLargeError:
            if started:
                raise
            await self._too_large(scope, receive, tagged, limit)

    def _counting(self, receive: Receive, limit: int) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError
            return message

        return counted

    @staticmethod
    def _tagging(send: Send, request_id: str) -> Send:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        return tagged

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        if limit == self.max_body_bytes:
            message = f"The request body is over {limit} bytes."
        else:
            message = (
                f"The upload is over {self.max_upload_bytes} bytes, the largest file this "
                "server takes: split it into smaller files and upload each of them."
            )
        refusal = refusal_for(PayloadTooLargeError(message))
        assert refusal is not None
        await refusal.response()(scope, receive, send)


class BodyTooLargeError(Exception):
    pass


async def health(request: Request) -> Response:
    services: Services = request.app.state.services

    def check() -> dict[str, Any]:
        position = services.read_model.position()
        latest = services.roster.recorder.max_notification_id() or 0
        return {
            "status": "ok",
            "store": services.database.dialect,
            "events": latest,
            "readModelPosition": position,
        }

    try:
        with anyio.fail_after(HEALTH_SECONDS):
            # A store that does not answer must not hold the check: give up on the thread.
            report = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        return JSONResponse(report)
    except Exception as error:
        log.warning("Health check failed: %s", error)
        return JSONResponse({"status": "unavailable", "error": type(error).__name__}, 503)


def create_app(settings: Settings | None = None) -> Starlette:
    keep_secrets_out_of_logs()
    settings = settings or Settings.from_env()
    tokens = TokenVerifier(settings)  # the key is loaded and checked before anything starts

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
            )
        services = await run_in_threadpool(build_services, settings, tokens)
        await run_in_threadpool(tokens.start)
        await run_in_threadpool(services.read_model.catch_up)
        watcher = services.watcher()
        watcher.start()
        if settings.import_worker:
            services.worker.start()
            services.bulk_worker.start()
        services.sweeper.start()
        if settings.mail_delivery:
            services.delivery.start()
        app.state.services = services
        try:
            yield
        finally:
            await run_in_threadpool(services.delivery.stop)
            await run_in_threadpool(services.sweeper.stop)
            await run_in_threadpool(services.worker.stop)
            await run_in_threadpool(services.bulk_worker.stop)
            await run_in_threadpool(watcher.stop)
            await run_in_threadpool(services.close)
            await run_in_threadpool(tokens.stop)

    console = Console(settings)
    graphql = RosterGraphQL(lambda request: request.app.state.services, settings, console)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health, methods=["GET"]),
            Route(TEMPLATE_URL, import_template, methods=["GET"]),
            Route("/imports/{batch_id}/errors.csv", error_report, methods=["GET"]),
            Route("/users.csv", users_csv, methods=["GET"]),
            Route("/status-changes.csv", status_changes_csv, methods=["GET"]),
            Route("/accept", accept_page, methods=["GET"]),
            Route("/accept.js", accept_script, methods=["GET"]),
            *console.routes(),
        ],
        exception_handlers={
            **{kind: refusal_response for kind in REFUSED},
            Exception: internal_error_response,
        },
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id", "content-disposition"],
                allow_credentials=False,
            ),
            Middleware(
                RequestLimits,
                max_body_bytes=settings.max_body_bytes,
                max_upload_bytes=settings.max_upload_bytes,
            ),
            Middleware(UploadGate, tokens=tokens, max_concurrent=settings.max_concurrent_uploads),
        ],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Starlette:
    # `uvicorn server:app` reads the settings only when it asks for the app, so that
    # importing this module (tests, tools) needs no configuration.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
