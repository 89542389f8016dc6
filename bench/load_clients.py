"""The load bench's clients (bench/load.py): WebSocket subscribers, search readers and the
probe, and what they record. Latencies are kept in 1 ms buckets, so that millions of
messages take little memory in the bench process."""

from __future__ import annotations

import asyncio
import importlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

# bench/search.py and bench/import.py, next to this file ("import" is a keyword).
from search import DOMAINS, FIRST, LAST, QUERY
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

importing = importlib.import_module("import")

PROGRESS = """subscription($id: ID!) { importProgress(batchId: $id) {
  status total validated processed created failed } }"""
CHANGES = "subscription { statusChanged { userId from to at source reason } }"
TOGGLE = """mutation($id: ID!, $reason: String) { %s(userId: $id, reason: $reason) {
  __typename ... on Problem { code message } } }"""
FINAL = "final probe"


class Latencies:
    """Milliseconds in 1 ms buckets (millions of values in little memory)."""

    def __init__(self) -> None:
        self.buckets = [0] * 600_001  # the last one holds 600 s and more
        self.count = 0

    def add(self, seconds: float) -> None:
        self.buckets[min(max(round(seconds * 1000), 0), 600_000)] += 1
        self.count += 1

    def pct(self, p: float) -> float:
        """The p-th percentile in ms (0 when empty)."""
        wanted, seen = p / 100 * self.count, 0
        for ms, n in enumerate(self.buckets):
            seen += n
            if n and seen >= wanted:
                return float(ms)
        return 0.0

    def __str__(self) -> str:
        if not self.count:
            return "none"
        p50, p99, top = self.pct(50), self.pct(99), self.pct(100)
        return f"p50 {p50:,.0f} ms  p99 {p99:,.0f} ms  max {top:,.0f} ms  ({self.count:,})"


@dataclass
class Load:
    """What the subscribers and readers saw."""

    changes: Latencies = field(default_factory=Latencies)
    probes: Latencies = field(default_factory=Latencies)
    progress: Latencies = field(default_factory=Latencies)
    reads: Latencies = field(default_factory=Latencies)
    progress_seen: list[tuple[float, int]] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)  # imported users' `at`, in order
    imported: list[int] = field(default_factory=list)  # per statusChanged subscriber
    finals: list[dict[str, Any]] = field(default_factory=list)  # last importProgress each
    final_probes: int = 0
    uncounted_progress: int = 0
    resent_searches: int = 0
    errors: list[str] = field(default_factory=list)
    probe_id: str = ""
    probe_active: bool = True
    importing: bool = True


async def graphql_ws(
    url: str, token: str, query: str, variables: dict[str, Any]
) -> ClientConnection:
    """A graphql-transport-ws connection, initialised and subscribed (id "1")."""
    ws = await connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None, ping_interval=None
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await ws.recv())
    if ack["type"] != "connection_ack":
        raise RuntimeError(f"connection refused: {ack}")
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def messages(ws: ClientConnection, load: Load, who: str) -> Any:
    """The payloads of `next` messages, until `complete`; anything else is an error."""
    async for raw in ws:
        message = json.loads(raw)
        if message["type"] == "next":
            if message["payload"].get("errors"):
                load.errors.append(f"{who}: {message['payload']['errors']}")
                return
            yield time.time(), message["payload"]["data"]
        elif message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message["type"] == "complete":
            return
        else:
            load.errors.append(f"{who}: {message}")
            return


async def follow_changes(url: str, token: str, load: Load, index: int, live: asyncio.Event) -> None:
    imported = 0
    try:
        async with await graphql_ws(url, token, CHANGES, {}) as ws:
            async for arrived, data in messages(ws, load, f"statusChanged #{index}"):
                change = data["statusChanged"]
                lag = arrived - datetime.fromisoformat(change["at"]).timestamp()
                if change["userId"] == load.probe_id:
                    live.set()
                    if change["reason"] == FINAL:
                        load.final_probes += 1
                        break
                    if load.importing:
                        load.probes.add(lag)
                elif change["source"] == "IMPORT" and change["from"] is None:
                    imported += 1
                    load.changes.add(lag)
                    if index == 0:
                        load.created_at.append(arrived - lag)
    except Exception as error:
        load.errors.append(f"statusChanged #{index}: {error!r}")
    load.imported.append(imported)


async def follow_progress(url: str, token: str, batch_id: str, load: Load, index: int) -> None:
    last: dict[str, Any] = {}
    try:
        async with await graphql_ws(url, token, PROGRESS, {"id": batch_id}) as ws:
            async for arrived, data in messages(ws, load, f"importProgress #{index}"):
                last = data["importProgress"]
                if last["status"] in ("COMMITTING", "COMPLETED") and last["created"]:
                    load.progress_seen.append((arrived, int(last["created"])))
                else:
                    load.uncounted_progress += 1
    except Exception as error:
        load.errors.append(f"importProgress #{index}: {error!r}")
    load.finals.append(last)


async def read(client: httpx.AsyncClient, load: Load, seed: float, think: float) -> None:
    rng = random.Random(seed)
    while load.importing:
        term = rng.choice([*FIRST, *LAST, *(d.split(".")[0] for d in DOMAINS)])
        started = time.perf_counter()
        try:
            response = await search(client, load, term)
            if response.status_code != 200 or response.json().get("errors"):
                load.errors.append(f"search {term!r}: {response.status_code} {response.text[:200]}")
        except httpx.HTTPError as error:
            load.errors.append(f"search {term!r}: {error!r}")
        load.reads.add(time.perf_counter() - started)
        await asyncio.sleep(think)


async def search(client: httpx.AsyncClient, load: Load, term: str) -> httpx.Response:
    """One search, sent again once (as browsers do) when the kept-alive connection it went
    out on turned out closed: the server closes idle connections after 5 s (uvicorn's
    --timeout-keep-alive), and one it closes as the request leaves gives a ReadError."""
    body = {"query": QUERY, "variables": {"term": term}}
    try:
        return await client.post("/graphql", json=body)
    except (httpx.ReadError, httpx.RemoteProtocolError):
        load.resent_searches += 1
        return await client.post("/graphql", json=body)


async def probe(client: httpx.AsyncClient, load: Load, every: float, reason: str = "probe") -> bool:
    """Deactivates and reactivates the probe user, every `every` seconds while importing
    (once when `every` is 0); False when a change failed (noted as an error)."""
    while True:
        operation = "deactivateUser" if load.probe_active else "reactivateUser"
        variables = {"id": load.probe_id, "reason": reason}
        try:
            response = await client.post(
                "/graphql", json={"query": TOGGLE % operation, "variables": variables}
            )
            importing.member(importing.data_of(response, operation), operation, "User")
        except (httpx.HTTPError, SystemExit) as error:
            load.errors.append(f"{reason} {operation}: {error!r}")
            return False
        load.probe_active = not load.probe_active
        if not every or not load.importing:
            return True
        await asyncio.sleep(every)
