"""Export benchmark: seeds N users (as bench/search.py does), serves them with the real
server in its own process, and streams GET /users.csv over HTTP: rows a second, the time
to the first byte, and how far the server's resident memory rose above what it held
before (sampled every 20 ms, and the kernel's peak, VmHWM, reset before each export). A
streamed export holds one page of rows at a time, so the rise should not grow with N.
Figures are printed, never asserted.

    .venv/bin/python bench/export.py --users 100000 [--database-url URL] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/*.py, next to this file
from search import database_size, ensure_users, running_server, store_url  # noqa: E402

from bootstrap import build_services  # noqa: E402
from domain.profiles import Profile  # noqa: E402
from settings import Settings  # noqa: E402
from tokens import issue_token  # noqa: E402

#: (label, query string) of the exports measured, each run in turn.
EXPORTS = [
    ("all, newest first", {}),
    ("all, by name", {"sort": "NAME", "direction": "ASC"}),
    ("search 'maria'", {"search": "maria"}),
    ("search 'c', by name", {"search": "c", "sort": "NAME", "direction": "ASC"}),
]


def server_pid() -> int:
    """The uvicorn process this bench started."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            command = (status.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(fields["PPid"]) == os.getpid() and b"uvicorn" in command:
            return int(status.parent.name)
    raise SystemExit("The server process was not found.")


def memory(pid: int, field_name: str) -> int:
    """VmRSS or VmHWM of the process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """The largest VmRSS of a process, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, memory(self.pid, "VmRSS"))


def export(client: httpx.Client, pid: int, label: str, params: dict[str, str]) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM back to the RSS of now
    before = memory(pid, "VmRSS")
    sampler = Sampler(pid)
    sampler.start()
    started = time.perf_counter()
    first_byte = None
    size = lines = 0
    with client.stream("GET", "/users.csv", params=params) as response:
        if response.status_code != 200:
            raise SystemExit(f"{label}: {response.status_code} {response.read()[:300]!r}")
        for chunk in response.iter_bytes():
            first_byte = first_byte or time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")  # a chunk may end between \r and \n
    elapsed = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    rows = lines - 1  # the header
    rise = max(sampler.peak, memory(pid, "VmHWM")) - before
    print(
        f"  {label:<20} {rows:>9,} rows {size / 2**20:7.1f} MiB {elapsed:6.2f} s "
        f"{rows / elapsed:>9,.0f} rows/s  first byte {1000 * (first_byte or 0):5.0f} ms  "
        f"RSS {before / 2**20:5.0f} MiB, peak +{rise / 2**20:5.1f} MiB"
    )


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000, help="users to seed (100000)")
    parser.add_argument(
        "--database-url",
        help="sqlite:///path or postgresql://... (default: a fresh data/bench-<users>.db)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the users (1)")
    parser.add_argument("--reuse", action="store_true", help="keep a database of --users users")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    url, secret = store_url(args), secrets.token_urlsafe(48)
    settings = Settings.from_env({"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret})
    Path("data").mkdir(exist_ok=True)
    services = build_services(settings)
    try:
        ensure_users(services, args)
    finally:
        services.close()
    print(f"Database size: {database_size(url) / 2**20:,.1f} MiB ({url})")
    print(f"Load: {Path('/proc/loadavg').read_text().split()[:3]} on {os.cpu_count()} CPUs")
    viewer = [Profile.USER_MANAGEMENT_VIEWER]
    token = issue_token(settings, subject="bench", profiles=viewer, ttl=timedelta(hours=1))
    headers = {"authorization": f"Bearer {token}"}
    with (
        running_server(url, secret, {"ROSTER_MAIL_DELIVERY": "off"}) as base,
        httpx.Client(base_url=base, headers=headers, timeout=120) as client,
    ):
        pid = server_pid()
        client.get("/users.csv", params={"search": "nobody-at-all"})  # warm up the route
        store = "PostgreSQL" if settings.store.is_postgres else "SQLite"
        print(f"GET /users.csv of {args.users:,} users ({store}):")
        for label, params in EXPORTS:
            export(client, pid, label, params)


if __name__ == "__main__":
    main()
