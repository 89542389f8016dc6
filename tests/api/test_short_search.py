"""Searches of one or two characters: they match the start of a word of the first name, last
name, email (local part and domain) or username, accents and capitals folded, never the
middle of a word; with every sort order, the status filter and keyset pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.operations import Administrator, server_for_module
from tests.api.test_user_list import ORDERS, every_page, names, users
from tests.support import ThreadedServer

# (first name, last name, email, username, deactivated), in the order of registration.
PEOPLE = [
    ("Éva", "Lindqvist", "eva.l@northwind.io", "evl", False),
    ("Oliver", "O'Brien", "obrien@acme-labs.com", "ob_1", True),
    ("Zoë", "Kowalski", "zk@wayne.org", "zoe-k", False),
    ("Bruno", "Ålund", "bruno.alund@acme.com", "bruno", False),
    ("Łucja", "Nowak", "lucja@hooli.se", "lucja.n", False),
    ("Ana", "Costa", "ana.costa@acme.com", "anac", False),
    ("Carla", "Brandt", "cb@northwind.io", "carla", True),
]
FOUND = {
    # The start of a first name, accents and capitals folded alike.
    "é": ["Éva"],
    "É": ["Éva"],
    "EV": ["Éva"],
    "zo": ["Zoë"],
    "ZÖ": ["Zoë"],
    "łu": ["Łucja"],
    "LU": ["Łucja"],
    # Of a last name; words are runs of letters and digits, so O'Brien is "o" and "brien".
    "li": ["Éva"],
    "ko": ["Zoë"],
    "ål": ["Bruno"],
    "br": ["Bruno", "Carla", "Oliver"],
    # Of the email's local part and of each piece of its domain.
    "zk": ["Zoë"],
    "wa": ["Zoë"],
    "la": ["Oliver"],
    "ho": ["Łucja"],
    "se": ["Łucja"],
    "io": ["Carla", "Éva"],
    # Of the username: "ob_1" is "ob" and "1".
    "1": ["Oliver"],
    " ob ": ["Oliver"],
}
NOT_FOUND = [
    # The middle of a word: Éva, Lindqvist, O'Brien, Kowalski, Nowak, acme, Costa, Brandt.
    "va",
    "qv",
    "ri",
    "ow",
    "me",
    "ta",
    "nd",
    # Words hold only letters and digits: a short term with anything else finds no one.
    "'",
    "o'",
    "@",
    ".",
    "%",
]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server whose users are PEOPLE; the tests only read them."""
    with server_for_module(tmp_path_factory.mktemp("short")) as server:
        admin = Administrator(server.api)
        for first, last, email, username, deactivated in PEOPLE:
            user = admin.register(first, last, email, username=username)
            if deactivated:
                admin.deactivate(user["id"])
        yield server


@pytest.mark.parametrize(("search", "expected"), FOUND.items(), ids=FOUND)
def test_a_short_term_finds_users_by_the_start_of_a_word(
    people: ThreadedServer, search: str, expected: list[str]
) -> None:
    found = users(people, search=search)
    assert (sorted(names(found)), found["totalCount"]) == (expected, len(expected))


@pytest.mark.parametrize("search", NOT_FOUND)
def test_a_short_term_does_not_match_inside_a_word(people: ThreadedServer, search: str) -> None:
    found = users(people, search=search)
    assert (names(found), found["totalCount"]) == ([], 0)


def test_three_characters_match_inside_a_word_again(people: ThreadedServer) -> None:
    found = users(people, search="ind")  # Lindqvist, northwind
    assert (sorted(names(found)), found["totalCount"]) == (["Carla", "Éva"], 2)


@pytest.mark.parametrize(("field", "direction"), ORDERS)
def test_pages_of_two_of_a_short_search_follow_the_sort_order(
    people: ThreadedServer, field: str, direction: str
) -> None:
    sort = {"field": field, "direction": direction}
    everyone, _ = every_page(people, sort=sort)
    # "c": acme.com (Oliver, Bruno, Ana), Costa, Carla and cb@.
    expected = [name for name in everyone if name in {"Oliver", "Bruno", "Ana", "Carla"}]

    assert every_page(people, search="c", sort=sort) == (expected, [True, False])
    assert users(people, search="C", sort=sort)["totalCount"] == 4


def test_a_short_search_with_the_status_filter_pages_newest_first(
    people: ThreadedServer,
) -> None:
    pages = every_page(people, search="c", status=["DEACTIVATED"])
    assert pages == (["Carla", "Oliver"], [False])
    assert users(people, search="c", status=["PENDING"])["totalCount"] == 2  # Bruno, Ana
