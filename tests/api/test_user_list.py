"""The user list: search, status filter, every sort order, keyset pages and their limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.operations import Administrator, error_codes, server_for_module
from tests.support import VIEWER, ThreadedServer, token

USERS = """
query($search: String, $status: [UserStatus!], $first: Int, $after: String, $sort: UserSort) {
  users(search: $search, status: $status, first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { firstName } }
  }
}
"""
# (first name, last name, email, username, deactivated), in the order of registration.
PEOPLE = [
    ("Élodie", "Brun", "d@example.org", "carol", False),
    ("bruno", "Alves", "A@example.org", "eve", True),
    ("Carla", "Dias", "e@example.org", "alice", False),
    ("Ana", "Costa", "c@example.org", "dave", True),
    ("Diego", "Egas", "B@example.org", "Bob", False),
]
ASCENDING = {
    "CREATED_AT": ["Élodie", "bruno", "Carla", "Ana", "Diego"],
    "NAME": ["Ana", "bruno", "Carla", "Diego", "Élodie"],
    "EMAIL": ["bruno", "Diego", "Ana", "Élodie", "Carla"],
    "USERNAME": ["Carla", "Diego", "Élodie", "Ana", "bruno"],
    # Ties keep the order of registration, reversed when descending.
    "STATUS": ["bruno", "Ana", "Élodie", "Carla", "Diego"],
}
SEARCHABLE = [
    ("José", "Pérez", "jp@example.org"),
    ("Hans", "Müller", "hm@example.org"),
    ("Ana", "Lima", "ana@Acme.com"),
    ("Bruno", "Costa", "bc@example.org"),
    ("Jürgen", "Straße", "js@example.org"),
]
SEARCHES = {
    "jose": ["José"],
    "PÉREZ": ["José"],
    "MÜLL": ["Hans"],
    "muller": ["Hans"],
    "@acme": ["Ana"],
    "ACME.COM": ["Ana"],
    "strasse": ["Jürgen"],
    "ana lima": ["Ana"],
    "z": [],  # one or two characters match the start of a word only (test_short_search)
    "ll": [],
    "PÉ": ["José"],
    "mü": ["Hans"],
    "ST": ["Jürgen"],
    "xyz": [],
    "%": [],
    '"ac': [],
}


def users(server: ThreadedServer, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = server.api.data(USERS, variables, as_=token(VIEWER))["users"]
    return connection


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["firstName"] for edge in connection["edges"]]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server whose users are PEOPLE; the tests only read them."""
    with server_for_module(tmp_path_factory.mktemp("people")) as server:
        admin = Administrator(server.api)
        for first, last, email, username, deactivated in PEOPLE:
            user = admin.register(first, last, email, username=username)
            if deactivated:
                admin.deactivate(user["id"])
        yield server


@pytest.fixture(scope="module")
def searchable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server whose users are SEARCHABLE; the tests only read them."""
    with server_for_module(tmp_path_factory.mktemp("searchable")) as server:
        admin = Administrator(server.api)
        for first, last, email in SEARCHABLE:
            admin.register(first, last, email)
        yield server


@pytest.mark.parametrize(("search", "expected"), SEARCHES.items(), ids=SEARCHES)
def test_search_ignores_case_and_accents(
    searchable: ThreadedServer, search: str, expected: list[str]
) -> None:
    found = users(searchable, search=search)
    assert (sorted(names(found)), found["totalCount"]) == (expected, len(expected))


def test_a_search_over_200_characters_is_bad_user_input(people: ThreadedServer) -> None:
    result = people.api.post(USERS, {"search": "a" * 201}, as_=token(VIEWER))
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_the_status_filter_keeps_users_in_those_statuses(people: ThreadedServer) -> None:
    found = users(people, status=["DEACTIVATED"], sort={"field": "NAME"})
    assert (names(found), found["totalCount"]) == (["Ana", "bruno"], 2)


def test_the_status_filter_takes_several_statuses(people: ThreadedServer) -> None:
    assert users(people, status=["PENDING", "DEACTIVATED"])["totalCount"] == 5


def test_the_default_order_is_newest_first(people: ThreadedServer) -> None:
    assert names(users(people)) == ASCENDING["CREATED_AT"][::-1]


ORDERS = [
    pytest.param(field, direction, id=f"{field}-{direction}")
    for field in ASCENDING
    for direction in ("ASC", "DESC")
]


def every_page(server: ThreadedServer, **variables: Any) -> tuple[list[str], list[bool]]:
    """The first names of page after page of two, and whether each said more follow."""
    seen: list[str] = []
    more: list[bool] = []
    after = None
    while not more or more[-1]:
        page = users(server, first=2, after=after, **variables)
        seen += names(page)
        more.append(page["pageInfo"]["hasNextPage"])
        after = page["pageInfo"]["endCursor"]
    return seen, more


@pytest.mark.parametrize(("field", "direction"), ORDERS)
def test_pages_of_two_follow_the_sort_order(
    people: ThreadedServer, field: str, direction: str
) -> None:
    pages = every_page(people, sort={"field": field, "direction": direction})
    expected = ASCENDING[field] if direction == "ASC" else ASCENDING[field][::-1]
    assert pages == (expected, [True, True, False])


@pytest.mark.parametrize(("field", "direction"), ORDERS)
def test_pages_of_two_of_a_search_follow_the_sort_order(
    people: ThreadedServer, field: str, direction: str
) -> None:
    # Every email is at example.org: on SQLite the trigram index finds them, newest first
    # as a set (projections.user_queries._newest_matches), otherwise walking in order.
    pages = every_page(people, search="EXAMPLE.org", sort={"field": field, "direction": direction})
    expected = ASCENDING[field] if direction == "ASC" else ASCENDING[field][::-1]
    assert pages == (expected, [True, True, False])


def test_a_search_with_the_status_filter_pages_newest_first(people: ThreadedServer) -> None:
    pages = every_page(people, search="example.org", status=["DEACTIVATED"])
    assert pages == (["Ana", "bruno"], [False])


def test_the_end_cursor_is_the_cursor_of_the_last_edge(people: ThreadedServer) -> None:
    page = users(people, first=2)
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]


def test_the_total_count_does_not_depend_on_the_page(people: ThreadedServer) -> None:
    first = users(people, first=2)
    last = users(people, first=2, after=users(people, first=4)["pageInfo"]["endCursor"])
    empty = users(people, first=0)
    assert (first["totalCount"], last["totalCount"], empty["totalCount"]) == (5, 5, 5)
    assert (len(last["edges"]), empty["edges"]) == (1, [])


def test_an_invalid_cursor_is_bad_user_input(people: ThreadedServer) -> None:
    result = people.api.post(USERS, {"after": "not-a-cursor"}, as_=token(VIEWER))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["argument"] == "after"


def test_a_cursor_of_another_sort_order_is_bad_user_input(people: ThreadedServer) -> None:
    after = users(people, first=2, sort={"field": "NAME"})["pageInfo"]["endCursor"]
    result = people.api.post(USERS, {"after": after, "sort": {"field": "EMAIL"}}, as_=token(VIEWER))
    assert error_codes(result) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("first", [-1, 501])
def test_a_page_size_out_of_range_is_bad_user_input(people: ThreadedServer, first: int) -> None:
    result = people.api.post(USERS, {"first": first}, as_=token(VIEWER))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["data"] is None


def test_a_page_of_500_is_allowed(people: ThreadedServer) -> None:
    assert len(users(people, first=500)["edges"]) == 5
