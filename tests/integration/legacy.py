"""What the legacy-import tests share: writing a legacy file, running `roster legacy-import`
as its own process, reading its summary line, and the GraphQL documents that check what it
registered."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.api.operations import USER, Administrator
from tests.support import ROOT

HEADER = ("first_name", "last_name", "email", "username", "status", "created_at")

#: One row of a legacy file: first_name, last_name, email, username, status, created_at.
Row = tuple[str, str, str, str, str, str]

USER_BY_EMAIL = (
    f"query($email: String!) {{ userByEmail(email: $email) {{ ...UserFields }} }} {USER}"
)
CHANGE = "userId from to at actor source reason version"
HISTORY = f"query($id: ID!) {{ userStatusHistory(userId: $id) {{ {CHANGE} }} }}"
STATUS_AT = "query($id: ID!, $at: DateTime!) { userStatusAt(userId: $id, at: $at) }"
FEED = f"""
query($since: DateTime, $until: DateTime, $after: String) {{
  statusChanges(since: $since, until: $until, first: 500, after: $after) {{
    pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {CHANGE} }} }}
  }}
}}"""
COUNT = "query($search: String) { users(search: $search, first: 0) { totalCount } }"
BY_CREATION = """
query($after: String, $direction: SortDirection!) {
  users(first: 500, after: $after, sort: { field: CREATED_AT, direction: $direction }) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id email createdAt } }
  }
}"""


def legacy_csv(rows: Iterable[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_legacy(path: Path, rows: Iterable[Sequence[str]]) -> Path:
    path.write_text(legacy_csv(rows), encoding="utf-8")
    return path


def _command(path: Path, args: Sequence[str]) -> list[str]:
    return [sys.executable, "cli.py", "legacy-import", str(path), *args]


def _environment(env: dict[str, str]) -> dict[str, str]:
    """The test run's environment without its ROSTER_* variables, plus the store's."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    return {**inherited, **env}


def legacy_import(env: dict[str, str], path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs `roster legacy-import PATH ARGS...` on the store of `env`, to its end."""
    return subprocess.run(
        _command(path, args),
        cwd=ROOT,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_legacy_import(env: dict[str, str], path: Path, *args: str) -> subprocess.Popen[str]:
    """Starts `roster legacy-import PATH ARGS...`; `communicate()` waits for it."""
    return subprocess.Popen(
        _command(path, args),
        cwd=ROOT,
        env=_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_SUMMARY = re.compile(
    r"^(?P<file>[^\n]+): (?P<rows>[\d,]+) rows; (?P<registered>[\d,]+) (?:would be )?registered, "
    r"(?P<before>[\d,]+) registered by an earlier run, (?P<refused>[\d,]+) not registered\.$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Summary:
    """The counts of the summary line a run prints."""

    file: str
    rows: int
    registered: int
    before: int
    refused: int

    @classmethod
    def of(cls, stdout: str) -> Summary:
        found = _SUMMARY.search(stdout)
        assert found is not None, stdout
        counts = {k: int(v.replace(",", "")) for k, v in found.groupdict().items() if k != "file"}
        return cls(file=found["file"], **counts)


class Reader:
    """Reads what a run registered through the API, as an administrator."""

    def __init__(self, admin: Administrator) -> None:
        self.admin = admin
        self.api = admin.api

    def data(self, document: str, **variables: Any) -> dict[str, Any]:
        return self.api.data(document, variables, as_=self.admin.token)

    def user(self, email: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.data(USER_BY_EMAIL, email=email)["userByEmail"]
        return found

    def history(self, user_id: str) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = self.data(HISTORY, id=user_id)["userStatusHistory"]
        return changes

    def status_at(self, user_id: str, at: str) -> str | None:
        status: str | None = self.data(STATUS_AT, id=user_id, at=at)["userStatusAt"]
        return status

    def feed(self, since: str, until: str) -> list[dict[str, Any]]:
        """Every status change from `since` until `until`, page after page."""
        changes: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.data(FEED, since=since, until=until, after=after)["statusChanges"]
            changes += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return changes
            after = page["pageInfo"]["endCursor"]

    def count(self, search: str | None = None) -> int:
        total: int = self.data(COUNT, search=search)["users"]["totalCount"]
        return total

    def by_creation(self, direction: str) -> tuple[int, list[dict[str, Any]]]:
        """The total count, and every user in creation order, 500 a page."""
        users: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.data(BY_CREATION, after=after, direction=direction)["users"]
            users += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return int(page["totalCount"]), users
            after = page["pageInfo"]["endCursor"]
