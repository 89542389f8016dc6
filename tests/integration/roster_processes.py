"""`roster worker` and `roster mailer` processes, each in a process of its own and
configured by environment variables only, as an operator runs them beside the servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


class RosterProcesses:
    """Starts `roster KIND` processes (`start("worker")`); stops them (SIGTERM) at the
    end of the `with` block. Each writes to KIND-N.log in the work folder."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, kind: str) -> subprocess.Popen[bytes]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
        with (self.workdir / f"{kind}-{len(self.started)}.log").open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "cli.py", kind],
                cwd=ROOT,
                env={**inherited, **self.env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process

    def alive(self) -> bool:
        """Whether every process started is still running."""
        return all(process.poll() is None for process in self.started)

    def __enter__(self) -> RosterProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.started:
            process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
