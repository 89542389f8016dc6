"""The gate in front of uploads: a multipart request is let in only with a bearer token
whose profiles may import, and only while fewer than `max_concurrent` uploads are in
hand in this process; otherwise it is refused before a byte of its body is read.

A multipart POST to /graphql is only ever an upload (`startImport` and `reviseImport` are
the operations that take a file, both for the profiles that may import), so the whole
request may be judged by its headers. Refusals carry the
same JSON body and codes as GraphQL's top-level errors, with an HTTP status:
401 UNAUTHENTICATED, 403 FORBIDDEN, 503 TRY_AGAIN with Retry-After. The body left unread
never reaches the app (uvicorn drops what the client still sends).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from schema.errors import BusyError, lacking_profile, refusal_for
from schema.permissions import CanImport
from tokens import TokenVerifier

#: What a refused upload is told to wait before it tries again (Retry-After).
RETRY_AFTER_SECONDS = 5


class UploadGate:
    def __init__(self, app: ASGIApp, tokens: TokenVerifier, max_concurrent: int) -> None:
        self.app = app
        self.tokens = tokens
        self.max_concurrent = max_concurrent
        #: Uploads being read or handled. One event loop per process: no lock needed,
        #: as nothing awaits between the check and the count.
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_upload(scope):
            await self.app(scope, receive, send)
            return
        try:
            await self._admit(_header(scope, b"authorization"))
        except Exception as error:
            refusal = refusal_for(error)
            if refusal is None:
                raise  # a fault: the app's handler logs and masks it
            await refusal.response()(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _admit(self, authorization: str | None) -> None:
        caller = await self.tokens.authenticate(authorization)
        if not caller.has_any(CanImport.profiles):
            raise lacking_profile(CanImport.profiles, CanImport.activity)
        if self.in_flight >= self.max_concurrent:
            raise BusyError(
                f"This server is receiving {self.in_flight} uploads already, as many as it "
                f"takes at once; upload the file again in {RETRY_AFTER_SECONDS} seconds.",
                retry_after=RETRY_AFTER_SECONDS,
            )


def _is_upload(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and scope["path"] == "/graphql"
        and (_header(scope, b"content-type") or "").lower().startswith("multipart/form-data")
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
