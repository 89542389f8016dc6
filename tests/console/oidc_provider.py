"""An OpenID Connect provider on localhost for the console's tests: oidc-provider-mock
(authlib's authorization server: discovery, JWKS, RS256 ID tokens, a login page, denial,
RP-initiated logout) in a thread, made to behave as a provider registered for a
single-page app is configured:

- it takes public clients (token endpoint auth method `none`): the mock alone accepts
  only clients with a secret;
- it requires PKCE (S256): the mock alone ignores `code_challenge`, so the code's
  challenge is kept here and the token request's `code_verifier` checked against it;
- it answers the console's origin from a browser (CORS, the client's "web origins").

`end_session = False` makes it a provider without RP-initiated logout (its discovery
document then names no end_session_endpoint).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock  # type: ignore[import-untyped]
import oidc_provider_mock._app  # type: ignore[import-untyped]
import werkzeug.serving

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Public clients: authlib checks the grant's methods before the client's own.
oidc_provider_mock._app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "none",
]


@dataclass
class Provider:
    """The identity provider, on localhost (another host than the console's 127.0.0.1)."""

    port: int
    #: Origins allowed to call its endpoints from a browser (its "web origins", CORS).
    origins: set[str] = field(default_factory=set)
    #: code -> the PKCE code_challenge of the authorization request that issued it.
    challenges: dict[str, str] = field(default_factory=dict)
    #: Token requests whose code_verifier matched the code's challenge.
    verified: int = 0
    #: Whether its discovery document offers RP-initiated logout.
    end_session: bool = True

    @property
    def issuer(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def as_registered(app: WSGIApplication, provider: Provider) -> WSGIApplication:
    """The mock behind CORS for the console's origin and a PKCE check."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN", "")
        cors = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if origin not in provider.origins:
            cors = []
        if cors and environ["REQUEST_METHOD"] == "OPTIONS":
            start_response(
                "204 No Content",
                [
                    *cors,
                    ("Access-Control-Allow-Methods", "GET, POST"),
                    ("Access-Control-Allow-Headers", "content-type, authorization"),
                ],
            )
            return [b""]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if path == "/oauth2/authorize":
                _keep_challenge(query, headers, provider)
            return start_response(status, [*headers, *cors], exc_info)

        if path == "/.well-known/openid-configuration" and not provider.end_session:
            return _without_end_session(app, environ, start_response, cors)
        if path == "/oauth2/token" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            refused = _check_verifier(parse_qs(body.decode()), environ, provider)
            if refused:
                return _json(
                    lambda s, h, e=None: start_response(s, [*h, *cors], e),
                    "400 Bad Request",
                    {"error": "invalid_grant", "error_description": refused},
                )
        return app(environ, start)

    return wrapped


def _without_end_session(
    app: WSGIApplication,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    cors: list[tuple[str, str]],
) -> list[bytes]:
    answered: list[str] = []

    def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answered.append(status)
        return lambda data: None

    document = json.loads(b"".join(app(environ, keep)))
    document.pop("end_session_endpoint", None)
    return _json(lambda s, h, e=None: start_response(s, [*h, *cors], e), answered[0], document)


def _keep_challenge(
    query: dict[str, list[str]], headers: list[tuple[str, str]], provider: Provider
) -> None:
    location = dict((k.lower(), v) for k, v in headers).get("location", "")
    code = parse_qs(urlsplit(location).query).get("code")
    if code and query.get("code_challenge_method") == ["S256"] and query.get("code_challenge"):
        provider.challenges[code[0]] = query["code_challenge"][0]


def _check_verifier(
    form: dict[str, list[str]], environ: WSGIEnvironment, provider: Provider
) -> str | None:
    """Why the token request is refused, or None."""
    if form.get("grant_type") != ["authorization_code"]:
        return None
    if "client_secret" in form or environ.get("HTTP_AUTHORIZATION"):
        return "the client is public: it has no secret to send"
    challenge = provider.challenges.pop(form.get("code", [""])[0], None)
    if challenge is None:
        return "PKCE is required: the authorization request had no S256 code_challenge"
    verifier = form.get("code_verifier", [""])[0]
    if not verifier or _s256(verifier) != challenge:
        return "the code_verifier does not match the code_challenge"
    provider.verified += 1
    return None


@contextmanager
def running_provider(accounts: dict[str, dict[str, Any]], port: int = 0) -> Iterator[Provider]:
    """The provider with these accounts (subject -> claims, e.g. `roles`), each one click
    away on its login page."""
    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in accounts.items()]
    app = oidc_provider_mock.app(user_claims=users)
    server = werkzeug.serving.make_server("localhost", port, app, threaded=True)
    provider = Provider(server.server_port)
    app.wsgi_app = as_registered(app.wsgi_app, provider)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
