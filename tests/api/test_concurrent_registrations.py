"""Unique emails, usernames and group names hold when administrators race each other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.api.operations import CREATE_USER, Administrator, error_codes
from tests.support import ADMIN, Api, ThreadedServer, token

RACERS = 8
ROUNDS = 3


def race(
    server: ThreadedServer, act: Callable[[Api, int], dict[str, Any]], racers: int = RACERS
) -> list[Any]:
    """Runs `act(api, n)` for n in 0..racers-1 at once, each on its own connection."""

    def run(n: int) -> dict[str, Any]:
        api = Api(server.base_url)
        try:
            return act(api, n)
        finally:
            api.close()

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(run, range(racers)))


def test_only_one_of_simultaneous_registrations_of_an_email_succeeds(
    server: ThreadedServer,
) -> None:
    outcomes = race(server, lambda api, n: Administrator(api).create_user("A", "B", "a@acme.com"))
    assert Counter((o["__typename"], o.get("code")) for o in outcomes) == {
        ("User", None): 1,
        ("Conflict", "EMAIL_TAKEN"): RACERS - 1,
    }


def test_only_one_of_simultaneous_groups_of_a_name_is_created(server: ThreadedServer) -> None:
    outcomes = race(
        server, lambda api, n: Administrator(api).create_group("Sales" if n % 2 else "SALES")
    )
    assert Counter((o["__typename"], o.get("code")) for o in outcomes) == {
        ("Group", None): 1,
        ("Conflict", "GROUP_NAME_TAKEN"): RACERS - 1,
    }


def register(api: Api, email: str, username: str | None = None) -> dict[str, Any]:
    given = {"firstName": "Ana", "lastName": "Silva", "email": email, "username": username}
    return api.post(CREATE_USER, {"input": given}, as_=token(ADMIN))


def outcomes(results: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(__typename, code) of every createUser, or the top-level error codes."""
    return [
        (r["data"]["createUser"]["__typename"], r["data"]["createUser"].get("code"))
        if r.get("data")
        else ("errors", ",".join(error_codes(r)))
        for r in results
    ]


def test_simultaneous_registrations_of_different_people_all_succeed(
    server: ThreadedServer,
) -> None:
    for round_ in range(ROUNDS):

        def someone(api: Api, n: int, name: str = f"u{round_}") -> dict[str, Any]:
            return register(api, f"{name}-{n}@acme.com", f"{name}-{n}")

        results = race(server, someone)
        assert outcomes(results) == [("User", None)] * RACERS


def test_simultaneous_registrations_derive_distinct_usernames(server: ThreadedServer) -> None:
    for round_ in range(ROUNDS):
        base = f"ana{round_}"

        def namesake(api: Api, n: int, base: str = base) -> dict[str, Any]:
            return register(api, f"{base}@acme{n}.com")

        results = race(server, namesake, racers=16)
        assert outcomes(results) == [("User", None)] * 16
        usernames = {r["data"]["createUser"]["username"] for r in results}
        assert usernames == {base, *(f"{base}-{n}" for n in range(2, 17))}
