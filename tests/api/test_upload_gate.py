"""The upload gate: a multipart upload is judged by its headers (a token whose profiles
may import, a free place among ROSTER_MAX_CONCURRENT_UPLOADS) and refused before its body
is read. Told apart with raw sockets: a client that asks `Expect: 100-continue` is sent
"100 Continue" only when the app starts reading the body."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from settings import Settings
from tests.api.importing import START, people
from tests.api.operations import error_codes, event_count, store_for_module
from tests.support import AUDITOR, VIEWER, ThreadedServer, token

BOUNDARY = "gate-boundary"
#: What the refused uploads announce: far more than anyone would send for nothing.
DECLARED = 50 << 20
PLACES = 2


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    continued: bool  # whether "100 Continue" came first


def body_parts(content: bytes) -> tuple[bytes, bytes]:
    """A GraphQL multipart request for startImport, cut in two inside the file."""
    operations = json.dumps({"query": START, "variables": {"file": None}})
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.file"]}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; '
        'filename="people.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    middle = len(content) // 2
    return head + content[:middle], content[middle:] + tail


class RawUpload:
    """One multipart POST over a plain socket, sent piece by piece."""

    def __init__(self, server: ThreadedServer, authorization: str | None, length: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.reader = self.socket.makefile("rb")
        lines = [
            "POST /graphql HTTP/1.1",
            f"Host: 127.0.0.1:{server.port}",
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            f"Content-Length: {length}",
            "Expect: 100-continue",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.continued = False

    def wait_for_continue(self) -> None:
        """Returns once the server has started reading the body (it asked for it)."""
        status, _ = self._head()
        assert status == 100, status
        self.continued = True

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def answer(self) -> Answer:
        status, headers = self._head()
        if status == 100:
            self.continued = True
            status, headers = self._head()
        body = json.loads(self.reader.read(int(headers["content-length"])))
        return Answer(status, headers, body, self.continued)

    def _head(self) -> tuple[int, dict[str, str]]:
        status = int(self.reader.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := self.reader.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


@contextmanager
def raw_upload(
    server: ThreadedServer, authorization: str | None, length: int = DECLARED
) -> Iterator[RawUpload]:
    upload = RawUpload(server, authorization, length)
    try:
        yield upload
    finally:
        upload.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with store_for_module(tmp_path_factory.mktemp("gate")) as env:
        settings = Settings.from_env({**env, "ROSTER_MAX_CONCURRENT_UPLOADS": str(PLACES)})
        with ThreadedServer(settings) as running:
            yield running


# ---------------------------------------------------------------- who may upload


REFUSED = {
    "no token": (None, 401, "UNAUTHENTICATED"),
    "a malformed token": ("Bearer not.a.jwt", 401, "UNAUTHENTICATED"),
    "an auditor's token": (f"Bearer {token(AUDITOR)}", 403, "FORBIDDEN"),
}


@pytest.mark.parametrize(("authorization", "status", "code"), REFUSED.values(), ids=REFUSED)
def test_an_upload_is_refused_by_its_headers_without_its_body_being_read(
    server: ThreadedServer, authorization: str | None, status: int, code: str
) -> None:
    with raw_upload(server, authorization) as upload:
        answer = upload.answer()  # not a byte of the 50 MB sent

    assert (answer.status, error_codes(answer.body)) == (status, [code])
    assert not answer.continued


def test_an_upload_refused_is_answered_while_its_body_is_still_coming(
    server: ThreadedServer,
) -> None:
    with raw_upload(server, None) as upload:
        upload.send(b"x" * 65_536)  # a client that does not wait for 100 Continue

        answer = upload.answer()

    assert (answer.status, error_codes(answer.body)) == (401, ["UNAUTHENTICATED"])


def test_a_large_upload_without_a_token_is_refused_and_stores_nothing(
    server: ThreadedServer,
) -> None:
    before = event_count(server.api)

    response = server.api.upload(START, b"x" * 6_700_000)

    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert event_count(server.api) == before


def test_the_refusal_names_the_profiles_that_may_import(server: ThreadedServer) -> None:
    response = server.api.upload(START, people(1), as_=token(AUDITOR))

    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == (
        "Only USER_MANAGEMENT_ADMIN or USER_MANAGEMENT_VIEWER may run an import; ask for one "
        "of these profiles."
    )


# ---------------------------------------------------------------- uploads at once


@contextmanager
def held(server: ThreadedServer, count: int) -> Iterator[list[tuple[RawUpload, bytes]]]:
    """`count` uploads let in and half sent, each with the rest of its body to send."""
    with ExitStack() as stack:
        uploads = []
        for n in range(count):
            first, rest = body_parts(people(3 + n))
            upload = stack.enter_context(
                raw_upload(server, f"Bearer {token(VIEWER)}", len(first) + len(rest))
            )
            upload.wait_for_continue()
            upload.send(first)
            uploads.append((upload, rest))
        yield uploads


def test_an_upload_beyond_the_limit_is_told_to_try_again_unread(server: ThreadedServer) -> None:
    with held(server, PLACES) as uploads:
        with raw_upload(server, f"Bearer {token(VIEWER)}") as extra:
            answer = extra.answer()
        for upload, rest in uploads:
            upload.send(rest)
            assert upload.answer().status == 200

    assert (answer.status, error_codes(answer.body)) == (503, ["TRY_AGAIN"])
    assert answer.headers["retry-after"] == "5"
    assert not answer.continued
    assert "upload the file again in 5 seconds" in answer.body["errors"][0]["message"]


def test_held_uploads_complete_and_free_their_places(server: ThreadedServer) -> None:
    with held(server, PLACES) as uploads:
        for upload, rest in uploads:
            upload.send(rest)
            assert upload.answer().body["data"]["startImport"]["__typename"] == "ImportBatch"

    response = server.api.upload(START, people(1), as_=token(VIEWER))

    assert response.status_code == 200
    assert response.json()["data"]["startImport"]["__typename"] == "ImportBatch"
