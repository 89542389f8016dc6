"""Only a well-formed, unexpired HS256 bearer token signed with the server's secret, naming
a subject of visible characters and known profiles, authenticates: over HTTP and in
`connection_init`, where anything else closes the socket (4401, or 4403 for a token that
grants no profile)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.api.operations import error_codes, post_raw, server_for_module
from tests.support import ADMIN, TEST_SECRET, GraphQLWebSocket, ThreadedServer, token

ME = "{ me { subject } }"
FEED = "subscription { statusChanged { to } }"
SOON = datetime.now(UTC) + timedelta(hours=1)
CLAIMS: dict[str, Any] = {"sub": "mallory", "profiles": ["USER_MANAGEMENT_ADMIN"], "exp": SOON}


def signed(claims: dict[str, Any], secret: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    """A token with `alg: none` and an empty signature."""
    parts = [{"alg": "none", "typ": "JWT"}, {**claims, "exp": int(claims["exp"].timestamp())}]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
    return b".".join(encoded).decode() + "."


def without(claim: str) -> dict[str, Any]:
    return {k: v for k, v in CLAIMS.items() if k != claim}


#: Subjects that would reach the history, `createdBy` and mail headers with characters
#: that break lines or hide or reorder text.
UNSAFE_SUBJECTS = {
    "a newline": "ana\nBcc: x@y",
    "a NUL": "ana\x00",
    "a zero-width space": "an\u200ba",
    "a bidi override": "\u202eana",
    "a line separator": "a\u2028b",
}

BAD_AUTHORIZATIONS = {
    "malformed token": "Bearer not.a.jwt",
    "expired token": f"Bearer {token(ADMIN, ttl=timedelta(minutes=-5))}",
    "token signed with another secret": f"Bearer {signed(CLAIMS, 'another-secret-' + 'x' * 40)}",
    "token signed with HS384": f"Bearer {signed(CLAIMS, algorithm='HS384')}",
    "alg none token": f"Bearer {unsigned(CLAIMS)}",
    "token without exp": f"Bearer {signed(without('exp'))}",
    "token without sub": f"Bearer {signed(without('sub'))}",
    "token with an empty sub": f"Bearer {signed({**CLAIMS, 'sub': ' '})}",
    **{
        f"token whose sub holds {what}": f"Bearer {signed({**CLAIMS, 'sub': subject})}"
        for what, subject in UNSAFE_SUBJECTS.items()
    },
    "token with an unknown profile": f"Bearer {signed({**CLAIMS, 'profiles': ['ADMIN', 'ROOT']})}",
    "token whose profiles are not a list": f"Bearer {signed({**CLAIMS, 'profiles': 'AUDITOR'})}",
    "basic credentials": "Basic " + base64.b64encode(b"admin:admin").decode(),
    "bare token without scheme": token(ADMIN),
    "bearer scheme without a token": "Bearer",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("tokens")) as running:
        yield running


def refusal(
    server: ThreadedServer, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """How the server closes the socket after `connection_init(payload)`, a subscription
    sent at once (in case it would acknowledge and serve it) and a ping."""
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    with connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
    ) as raw:
        ws = GraphQLWebSocket(raw)
        ws.send({"type": "connection_init", "payload": payload})
        with suppress(ConnectionClosed):  # the server may have closed it already
            ws.subscribe(FEED)
            ws.send({"type": "ping"})
        return ws.closed()


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
def test_a_bad_authorization_header_is_unauthenticated(
    server: ThreadedServer, authorization: str
) -> None:
    result = post_raw(server.api, ME, {"authorization": authorization})
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] is None


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
def test_a_bad_authorization_in_connection_init_closes_the_socket_with_4401(
    server: ThreadedServer, authorization: str
) -> None:
    code, reason = refusal(server, {"authorization": authorization})
    assert code == 4401
    assert reason


def test_connection_init_without_a_token_closes_the_socket_with_4401(
    server: ThreadedServer,
) -> None:
    assert refusal(server, {}) == (
        4401,
        'Send {"authorization": "Bearer <token>"} in connection_init.',
    )


def test_an_expired_token_in_connection_init_is_refused_saying_so(
    server: ThreadedServer,
) -> None:
    expired = token(ADMIN, ttl=timedelta(minutes=-5))
    assert refusal(server, {"authorization": f"Bearer {expired}"}) == (
        4401,
        "The token has expired; get a new one.",
    )


def test_a_token_without_any_profile_closes_the_socket_with_4403(
    server: ThreadedServer,
) -> None:
    assert refusal(server, {"authorization": f"Bearer {token()}"}) == (
        4403,
        "The token grants no profile; ask for one.",
    )


@pytest.mark.parametrize("name", ["authorization", "token", "Authorization"])
def test_a_cookie_does_not_authenticate(server: ThreadedServer, name: str) -> None:
    cookie = f"{name}={json.dumps(f'Bearer {token(ADMIN)}')}; token={token(ADMIN)}"
    result = post_raw(server.api, ME, {"cookie": cookie})
    assert error_codes(result) == ["UNAUTHENTICATED"]


def test_a_cookie_does_not_authenticate_a_websocket(server: ThreadedServer) -> None:
    cookie = f"authorization={json.dumps(f'Bearer {token(ADMIN)}')}; token={token(ADMIN)}"
    assert refusal(server, {}, headers={"cookie": cookie})[0] == 4401


def test_a_valid_token_authenticates_over_http(server: ThreadedServer) -> None:
    result = post_raw(server.api, ME, {"authorization": f"Bearer {token(ADMIN, subject='ana')}"})
    assert result == {"data": {"me": {"subject": "ana"}}}


def test_the_bearer_scheme_is_case_insensitive(server: ThreadedServer) -> None:
    result = post_raw(server.api, ME, {"authorization": f"bearer {token(ADMIN, subject='ana')}"})
    assert result == {"data": {"me": {"subject": "ana"}}}


def test_a_valid_token_in_connection_init_authenticates(server: ThreadedServer) -> None:
    with server.api.websocket(token(ADMIN)) as ws:
        ws.subscribe(
            'subscription { importProgress(batchId: "00000000-0000-4000-8000-000000000000")'
            " { total } }"
        )
        answer = ws.receive()
    assert answer["type"] == "next"
    # Past authentication: the batch is looked for, and there is none.
    assert error_codes(answer["payload"]) == ["NOT_FOUND"]


def test_a_subject_with_an_invisible_character_is_refused_naming_it(server: ThreadedServer) -> None:
    authorization = "Bearer " + signed({**CLAIMS, "sub": "admin\u202e"})

    result = post_raw(server.api, ME, {"authorization": authorization})

    [error] = result["errors"]
    assert "'sub' claim holds control or invisible characters (U+202E)" in error["message"]


def test_a_subject_with_accents_and_spaces_is_accepted(server: ThreadedServer) -> None:
    authorization = f"Bearer {signed({**CLAIMS, 'sub': 'José Pérez'})}"

    assert post_raw(server.api, ME, {"authorization": authorization}) == {
        "data": {"me": {"subject": "José Pérez"}}
    }
