"""The web console (ui/, built into ui/dist by `make`) and GraphiQL, served from the
server's own files: no CDN, no inline script (`script-src 'self'`).

The console is a client of the GraphQL API like any other: these routes only hand out
its files. Every console path (`/users`, `/imports/<id>`, ...) answers with the same
index.html, so a screen's address can be bookmarked and reopened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from settings import Settings

#: The console's screens; each answers with index.html.
SCREENS = (
    "/",
    "/users",
    "/users/{user_id}",
    "/imports",
    "/imports/new",
    "/imports/{batch_id}",
    "/audit",
    "/sign-in",
    "/oidc/callback",
)

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Roster: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The console has not been built</h1>
<p>The API at <a href="/graphql">/graphql</a> works; the console's files are missing from
<code>{where}</code>. Run <code>make run</code> (it builds the console when its sources
change), or <code>make console</code> to build it alone.</p>
</body></html>
"""

GRAPHIQL_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Roster GraphiQL</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <link rel="stylesheet" href="/graphiql/plugin-explorer.css">
  <link rel="stylesheet" href="/graphiql/roster-graphiql.css">
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/js.cookie.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/plugin-explorer.umd.js"></script>
  <script src="/graphiql/roster-graphiql.js"></script>
</body>
</html>
"""


def content_security_policy(settings: Settings, *, styles_inline: bool = False) -> str:
    """Scripts from this server only; the console talks to this server (HTTP and its
    WebSocket) and, when OpenID Connect is configured, to the identity provider."""
    connect = ["'self'"]
    issuer = settings.oidc_issuer
    if issuer:
        parts = urlsplit(issuer)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    style = "'self' 'unsafe-inline'" if styles_inline else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


class Console:
    """The routes of the console and of GraphiQL, for one server's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.console_dir)
        self.headers = {
            "content-security-policy": content_security_policy(settings),
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-cache",
        }

    def routes(self) -> list[BaseRoute]:
        return [
            *(Route(path, self.index, methods=["GET"]) for path in SCREENS),
            Route("/console/config.json", self.config, methods=["GET"]),
            Route("/favicon.svg", self.favicon, methods=["GET"]),
            # Hashed names: kept by browsers for a year.
            Mount("/assets", app=_Files(self.root / "assets", immutable=True)),
            Mount("/graphiql", app=_Files(self.root / "graphiql", immutable=False)),
            # Last: any other page a browser asks for is the console's "Page not found".
            Route("/{path:path}", self.not_found, methods=["GET"]),
        ]

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    async def index(self, request: Request) -> Response:
        if not self.built:
            return HTMLResponse(NOT_BUILT.format(where=self.root), 503, headers=self.headers)
        return FileResponse(self.root / "index.html", headers=self.headers)

    async def not_found(self, request: Request) -> Response:
        if "text/html" not in request.headers.get("accept", "") or not self.built:
            return PlainTextResponse("Not Found", 404)
        return FileResponse(self.root / "index.html", 404, headers=self.headers)

    async def favicon(self, request: Request) -> Response:
        icon = self.root / "favicon.svg"
        if not icon.is_file():
            return Response(status_code=404)
        return FileResponse(icon, media_type="image/svg+xml")

    async def config(self, request: Request) -> Response:
        """What the console needs to know before anyone signs in: how to sign in."""
        issuer, client_id = self.settings.oidc_issuer, self.settings.oidc_client_id
        oidc: dict[str, Any] | None = None
        if issuer and client_id:
            oidc = {
                "issuer": issuer,
                "clientId": client_id,
                "scope": "openid profile email",
                # Which of the provider's tokens the API takes (ui/src/oidc.ts): the access
                # token when it is a JWT for this audience with this claim, else the ID token.
                "audience": self.settings.token_audience,
                "profilesClaim": self.settings.jwt_profiles_claim,
            }
        return JSONResponse({"oidc": oidc}, headers={"cache-control": "no-cache"})

    def graphiql_page(self) -> HTMLResponse:
        headers = {
            **self.headers,
            # GraphiQL's editor sets <style> elements of its own.
            "content-security-policy": content_security_policy(self.settings, styles_inline=True),
        }
        if not (self.root / "graphiql" / "graphiql.min.js").is_file():
            return HTMLResponse(NOT_BUILT.format(where=self.root), 503, headers=headers)
        return HTMLResponse(GRAPHIQL_PAGE, headers=headers)


class _Files:
    """StaticFiles that may be missing at start-up (the console is built later, or not)."""

    def __init__(self, directory: Path, *, immutable: bool) -> None:
        self.directory = directory
        self.immutable = immutable
        self._files: StaticFiles | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._files is None:
            if not self.directory.is_dir():
                await Response("Not found", 404)(scope, receive, send)
                return
            self._files = StaticFiles(directory=self.directory)
        cache = "public, max-age=31536000, immutable" if self.immutable else "no-cache"

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"cache-control", cache.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self._files(scope, receive, with_headers)
