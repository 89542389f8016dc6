"""A PostgreSQL server of one test's (or drill's) own, in a temporary folder on a free
port, that it may stop and start as it likes: the shared server other tests use is
never touched.

The cluster is made with the installed `initdb` and run with `pg_ctl`, as the
`postgres` user when we are root (initdb refuses to run as root). Trust authentication,
listening on 127.0.0.1 only, its socket in its own folder.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from tests.support import free_port

OWNER = "postgres"


class PostgresUnavailableError(Exception):
    """No private server can be made here; the message says what is missing."""


def binaries() -> Path:
    """The folder of initdb and pg_ctl: `pg_config --bindir`, else the newest of
    /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found:
            candidates.append(Path(found))
    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    ]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresUnavailableError(
        "initdb and pg_ctl were not found (neither in `pg_config --bindir` nor in "
        "/usr/lib/postgresql/*/bin): install the PostgreSQL server package."
    )


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


class PrivateServer:
    """One PostgreSQL server: `start()`, `stop()`, `remove()`; `url` to its database."""

    def __init__(self, bindir: Path, folder: Path, port: int) -> None:
        self.bindir = bindir
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def create(cls) -> PrivateServer:
        """A new cluster, not started yet. PostgresUnavailableError when this machine
        cannot make one."""
        bindir = binaries()
        as_root = os.geteuid() == 0
        if as_root and shutil.which("runuser") is None:
            raise PostgresUnavailableError(
                "We run as root and `runuser` is missing: initdb refuses root, and there "
                "is no way to run it as the postgres user."
            )
        folder = Path(tempfile.mkdtemp(prefix="roster-pg-"))
        server = cls(bindir, folder, free_port())
        try:
            if as_root:
                shutil.chown(folder, OWNER, OWNER)
            server._run(
                "initdb",
                *("-D", str(server.data), "-U", "postgres", "--auth=trust"),
                *("-E", "UTF8", "--no-sync"),
            )
        except LookupError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailableError(
                f"There is no `{OWNER}` user to run initdb as: {error}"
            ) from error
        except subprocess.CalledProcessError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailableError(f"initdb failed: {error.stderr.strip()}") from error
        return server

    def start(self) -> None:
        options = f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop(self) -> None:
        """The way an operator restarts a server: `-m fast` rolls back open transactions
        and ends every session at once."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    def running(self) -> bool:
        status = self._run("pg_ctl", "status", "-D", str(self.data), check=False)
        return status.returncode == 0

    def remove(self) -> None:
        """Stops the server (without waiting for anyone) and deletes its folder."""
        if self.data.exists() and self.running():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OWNER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)
