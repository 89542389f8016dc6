"""Two server processes on one store, racing to claim the same unique values.

Every round releases one request at each process at the same moment (a barrier), so
both look the value up as free and both try to write it: the store must let exactly
one through and the other must get a Conflict naming what was taken.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.harness import (
    CREATE_GROUP,
    CREATE_USER,
    USER_COUNT,
    Spawn,
    all_at_once,
    person,
    settled,
)
from tests.support import ADMIN, ServerProcess, token

ROUNDS = 20
#: Registrations released together at one process, and how many times.
BURST_SIZE = 6
BURSTS = 8

Servers = tuple[ServerProcess, ServerProcess]


@pytest.fixture
def servers(spawn: Spawn) -> Servers:
    return spawn.start(), spawn.start()


def create_user(server: ServerProcess, new: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    admin = token(ADMIN)
    return lambda: server.api.data(CREATE_USER, {"input": new}, as_=admin)["createUser"]


def create_group(server: ServerProcess, name: str) -> Callable[[], dict[str, Any]]:
    admin = token(ADMIN)
    return lambda: server.api.data(CREATE_GROUP, {"name": name}, as_=admin)["createGroup"]


def outcome(result: dict[str, Any]) -> str:
    """The Problem's code, or the success's type name."""
    return str(result.get("code", result["__typename"]))


def user_counts(servers: Servers, expected: int) -> list[int]:
    """What each process's user list counts, once it has caught up with `expected`."""
    admin = token(ADMIN)

    def count(server: ServerProcess) -> int:
        return int(server.api.data(USER_COUNT, as_=admin)["users"]["totalCount"])

    return [settled(functools.partial(count, server), expected) for server in servers]


def test_one_email_registered_at_both_processes_at_once_gives_one_user(servers: Servers) -> None:
    a, b = servers
    rounds = [
        all_at_once(
            [create_user(a, person(f"ann{i}@acme.com")), create_user(b, person(f"ann{i}@acme.com"))]
        )
        for i in range(ROUNDS)
    ]

    outcomes = [sorted(outcome(result) for result in pair) for pair in rounds]
    assert outcomes == [["EMAIL_TAKEN", "User"]] * ROUNDS
    users = sum(result["__typename"] == "User" for pair in rounds for result in pair)
    assert user_counts(servers, users) == [users, users]


def test_one_username_registered_at_both_processes_at_once_gives_one_user(
    servers: Servers,
) -> None:
    a, b = servers
    rounds = [
        all_at_once(
            [
                create_user(a, person(f"ann{i}@a.com", username=f"ann.lee{i}")),
                create_user(b, person(f"ann{i}@b.com", username=f"ann.lee{i}")),
            ]
        )
        for i in range(ROUNDS)
    ]

    outcomes = [sorted(outcome(result) for result in pair) for pair in rounds]
    assert outcomes == [["USERNAME_TAKEN", "User"]] * ROUNDS
    users = sum(result["__typename"] == "User" for pair in rounds for result in pair)
    assert user_counts(servers, users) == [users, users]


def test_one_group_name_in_two_cases_created_at_once_gives_one_group(servers: Servers) -> None:
    a, b = servers
    rounds = [
        all_at_once([create_group(a, f"Team {i}"), create_group(b, f"TEAM {i}")])
        for i in range(ROUNDS)
    ]

    outcomes = [sorted(outcome(result) for result in pair) for pair in rounds]
    assert outcomes == [["GROUP_NAME_TAKEN", "Group"]] * ROUNDS
    groups = a.api.data("{ groups { id } }", as_=token(ADMIN))["groups"]
    assert len(groups) == ROUNDS


def test_registrations_deriving_one_username_at_both_processes_all_get_distinct_usernames(
    servers: Servers,
) -> None:
    a, b = servers
    rounds = [
        all_at_once(
            [create_user(a, person(f"ann@a{i}.com")), create_user(b, person(f"ann@b{i}.com"))]
        )
        for i in range(ROUNDS)
    ]

    results = [result for pair in rounds for result in pair]
    assert [outcome(result) for result in results] == ["User"] * 2 * ROUNDS
    usernames = {result["username"] for result in results}
    assert len(usernames) == 2 * ROUNDS
    assert all(username.startswith("ann") for username in usernames)


def test_concurrent_registrations_at_one_process_all_succeed(
    spawn: Spawn,
) -> None:
    server = spawn.start()
    for i in range(BURSTS):
        burst = all_at_once(
            [create_user(server, person(f"burst{i}.{n}@acme.com")) for n in range(BURST_SIZE)]
        )

        assert [outcome(result) for result in burst] == ["User"] * BURST_SIZE
