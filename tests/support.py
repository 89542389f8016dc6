"""Test helpers that talk to real components: uvicorn over a socket, PostgreSQL, tokens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from domain.profiles import Profile
from server import create_app
from settings import Settings
from tokens import issue_token

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
ROOT = Path(__file__).resolve().parent.parent

ADMIN = Profile.USER_MANAGEMENT_ADMIN
VIEWER = Profile.USER_MANAGEMENT_VIEWER
AUDITOR = Profile.AUDITOR


def token(*profiles: Profile, subject: str = "tester", ttl: timedelta = timedelta(hours=1)) -> str:
    settings = Settings.from_env({"ROSTER_JWT_SECRET": TEST_SECRET})
    return issue_token(settings, subject=subject, profiles=list(profiles), ttl=ttl)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_json(port: int, answer: Callable[[str], Any | None]) -> ThreadingHTTPServer:
    """A small HTTP server in a thread on 127.0.0.1:`port` (an identity provider's JWKS or
    discovery document, say): GET answers `answer(path)` as JSON, or 404 when it is None.
    Stop it with `stop_serving`, and start it again on the same port to bring it back."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = answer(self.path)
            if document is None:
                self.send_error(404)
                return
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


class Api:
    """A GraphQL client over real HTTP and WebSocket for one server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {as_}"} if as_ else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def data(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> dict[str, Any]:
        """The data of a query that must succeed without top-level errors."""
        result = self.post(query, variables, as_=as_)
        assert "errors" not in result, result["errors"]
        data: dict[str, Any] = result["data"]
        return data

    def upload(
        self,
        query: str,
        content: bytes,
        *,
        variables: dict[str, Any] | None = None,
        filename: str = "people.csv",
        as_: str | None = None,
    ) -> httpx.Response:
        """A GraphQL multipart request (the spec's operations, map and one file part),
        the file going to `variables.file`."""
        headers = {"authorization": f"Bearer {as_}"} if as_ else {}
        operations = {"query": query, "variables": {**(variables or {}), "file": None}}
        return self.http.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (filename, content, "text/csv")},
            headers=headers,
        )

    @contextmanager
    def websocket(self, authorization: str | None = None) -> Iterator[GraphQLWebSocket]:
        url = self.base_url.replace("http://", "ws://") + "/graphql"
        with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            socket = GraphQLWebSocket(ws)
            socket.init(authorization)
            yield socket

    def close(self) -> None:
        self.http.close()


class GraphQLWebSocket:
    """The client side of graphql-transport-ws."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = 0

    def init(self, authorization: str | None) -> None:
        payload = {"authorization": f"Bearer {authorization}"} if authorization else {}
        self.send({"type": "connection_init", "payload": payload})
        assert self.receive()["type"] == "connection_ack"

    def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        operation_id = str(self._ids)
        self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return operation_id

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
            if message["type"] != "ping":
                return message
            self.send({"type": "pong"})

    def closed(self, timeout: float = 10) -> tuple[int, str]:
        """The code and reason the server closes the socket with, once it does; messages
        it sends before are skipped."""
        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closing:
            received = closing.rcvd
        assert received is not None, "The client closed the socket, not the server."
        return received.code, received.reason

    def next_payload(self, timeout: float = 10) -> dict[str, Any]:
        message = self.receive(timeout)
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload


class ThreadedServer:
    """The real ASGI app in uvicorn, in a thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.api = Api(self.base_url)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The test server did not start.")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.close()
        self._server.should_exit = True
        self._thread.join(timeout=20)


class ServerProcess:
    """A separate `uvicorn server:app` process, configured by environment variables only."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}"
        self.api = Api(self.base_url)

    @classmethod
    def launch(
        cls, env: dict[str, str], workdir: Path, *, log_level: str = "warning"
    ) -> ServerProcess:
        port = free_port()
        log = workdir / f"server-{port}.log"
        process_env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
        process_env.update(env)
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "server:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    log_level,
                ],
                cwd=ROOT,
                env=process_env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = cls(process, port, log)
        server.wait_ready()
        return server

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Server did not become ready: {self.log.read_text()}")

    def stop(self) -> None:
        self.api.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def create_database(admin_url: str) -> str:
    name = f"roster_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
