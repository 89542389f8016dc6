"""The word starts behind searches of one or two characters (projections.user_words): what
they hold, that a rebuild gives them again, that every way such a search is read gives the
same pages, and on SQLite, that none of them reads every user."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser, Saved
from domain.statuses import StatusChangeSource
from projections import user_queries
from projections.database import Row
from projections.encoding import fold
from projections.user_queries import (
    SORT_COLUMNS,
    UserFilter,
    UserRow,
    count_users,
    list_users,
)
from projections.user_words import word_starts
from projections.users import search_text
from settings import Settings
from tests.api.operations import store_for_module
from tests.conftest import ON_POSTGRES

SORTS = [(field, direction) for field in SORT_COLUMNS for direction in ("DESC", "ASC")]
FILTERS = {
    "a": UserFilter(search="A"),
    "a-deactivated": UserFilter(search="a", statuses=("DEACTIVATED",)),
    "jo-two-statuses": UserFilter(search="Jo", statuses=("PENDING", "DEACTIVATED")),
}
#: How far a search looks before it falls back (user_queries.WALK and FEW): so far that
#: the fast way always serves, or so short that it never does.
REACH = {"far": (user_queries.WALK, user_queries.FEW), "short": (1, 1)}


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("ana lima", {"a", "an", "l", "li"}),
        ("o'brien\nob_1", {"o", "b", "br", "ob", "1"}),
        (
            "jo.smith42@acme-labs.co.uk",
            {"j", "jo", "s", "sm", "a", "ac", "l", "la", "c", "co", "u", "uk"},
        ),
        ("", set()),
    ],
)
def test_the_starts_are_the_first_one_and_two_characters_of_each_word(
    text: str, starts: set[str]
) -> None:
    assert word_starts(text) == starts


def test_the_starts_are_of_the_folded_text() -> None:
    assert word_starts(fold("Éva Łukasz Straße")) == {"e", "ev", "l", "lu", "s", "st"}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A store of a few users, one deactivated; the tests only read them (a rebuild gives
    them back as they were)."""
    with store_for_module(tmp_path_factory.mktemp("words")) as env:
        built = build_services(Settings.from_env(env))
        try:
            people = [
                NewUser("Ana", "Lima", "ana@acme.com"),
                NewUser("John", "Adams", "jo@example.org"),
                NewUser("Joëlle", "Martin", "joelle@acme.com"),
                NewUser("Bo", "Ng", "bo@example.org"),  # no word starting with "a" or "jo"
                NewUser("Alba", "Jonsson", "alba@example.org"),
            ]
            saved = built.roster.register_users(
                people, actor="admin", source=StatusChangeSource.IMPORT
            ).outcomes
            joelle = saved[2]
            assert isinstance(joelle, Saved)
            built.roster.deactivate_user(joelle.id, actor="admin", reason=None)
            built.read_model.catch_up()
            yield built
        finally:
            built.close()


def user_words(services: Services) -> list[Row]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT prefix, seq FROM user_words ORDER BY prefix, seq")
        rows: list[Row] = cursor.fetchall()
        return rows


def test_each_user_has_the_starts_of_their_search_text(services: Services) -> None:
    with services.database.reading() as cursor:
        cursor.execute("SELECT seq, search_text FROM users")
        expected = sorted(
            (start, row["seq"])
            for row in cursor.fetchall()
            for start in word_starts(row["search_text"])
        )
    assert [(row["prefix"], row["seq"]) for row in user_words(services)] == expected


def test_a_rebuild_gives_the_same_word_starts(services: Services) -> None:
    kept = user_words(services)

    services.read_model.rebuild()

    assert user_words(services) == kept != []


def listed(services: Services, where: UserFilter, sort: tuple[str, str]) -> list[UserRow]:
    """The users of page after page of one."""
    seen: list[UserRow] = []
    after = None
    while True:
        with services.database.reading() as cursor:
            page = list_users(cursor, services.database.dialect, where, sort, 1, after)
        seen += [user for _, user in page.items]
        if not page.has_next_page:
            return seen
        after = page.end_cursor


def counted(services: Services, where: UserFilter) -> int:
    with services.database.reading() as cursor:
        return count_users(cursor, services.database.dialect, where)


@pytest.mark.parametrize(("field", "direction"), SORTS)
@pytest.mark.parametrize("where", FILTERS.values(), ids=FILTERS)
@pytest.mark.parametrize("reach", REACH.values(), ids=REACH)
def test_every_way_of_reading_a_short_search_gives_the_same_pages(
    services: Services,
    field: str,
    direction: str,
    where: UserFilter,
    reach: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pages are first looked for among the next WALK users of the sort order, and users
    of few (under FEW) statuses are each looked up; too few found, or too many users in
    the statuses, the term's matches are read instead (see user_queries._walked and
    _matching)."""
    assert where.search is not None
    term = fold(where.search)
    expected = [
        user.email
        for user in listed(services, UserFilter(statuses=where.statuses), (field, direction))
        if term
        in word_starts(search_text(user.first_name, user.last_name, user.email, user.username))
    ]
    monkeypatch.setattr(user_queries, "WALK", reach[0])
    monkeypatch.setattr(user_queries, "FEW", reach[1])

    found = listed(services, where, (field, direction))

    assert ([user.email for user in found], counted(services, where)) == (
        expected,
        len(expected),
    )
    assert expected != []


class PlannedCursor:
    """A real cursor that also asks SQLite how it plans each query it runs: per query, its
    steps as (step, the steps it is part of)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.plans: list[list[tuple[str, list[str]]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        steps: dict[int, tuple[str, int]] = {}
        for row in self.cursor.fetchall():
            steps[row["id"]] = (row["detail"], row["parent"])
        self.plans.append([(detail, _within(steps, parent)) for detail, parent in steps.values()])
        self.cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql, rows)  # writes: nothing to plan

    def fetchone(self) -> Row | None:
        row: Row | None = self.cursor.fetchone()
        return row

    def fetchall(self) -> list[Row]:
        rows: list[Row] = self.cursor.fetchall()
        return rows


def _within(steps: dict[int, tuple[str, int]], parent: int) -> list[str]:
    outer = []
    while parent in steps:
        detail, parent = steps[parent]
        outer.append(detail)
    return outer


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan; PostgreSQL plans by its statistics")
@pytest.mark.parametrize(("field", "direction"), SORTS)
@pytest.mark.parametrize("where", FILTERS.values(), ids=FILTERS)
@pytest.mark.parametrize("reach", REACH.values(), ids=REACH)
def test_no_short_search_reads_every_user(
    services: Services,
    field: str,
    direction: str,
    where: UserFilter,
    reach: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Users are only ever found through an index: a range of user_words' key, the
    status index, or the sort order's index within `walk`, a window of WALK users. The
    plans do not depend on the number of users (no statistics are gathered)."""
    monkeypatch.setattr(user_queries, "WALK", reach[0])
    monkeypatch.setattr(user_queries, "FEW", reach[1])
    with services.database.reading() as real:
        cursor = PlannedCursor(real)
        page = list_users(cursor, "sqlite", where, (field, direction), 1, None)
        list_users(cursor, "sqlite", where, (field, direction), 1, page.end_cursor)
        count_users(cursor, "sqlite", where)

    steps = [step for plan in cursor.plans for step in plan]
    assert [step for step, within in steps if re.match(r"SCAN (u|users)\b", step)] == [
        step for step, within in steps if "CO-ROUTINE walk" in within and step.startswith("SCAN")
    ]
    if field == "CREATED_AT" and not where.statuses:  # in order: no sort, a page ends it
        assert all(
            re.match(r"SEARCH (w|user_words) USING PRIMARY KEY \(prefix=\?", step)
            for plan in cursor.plans
            for step, _ in plan[:1]
        )
        assert not any("TEMP B-TREE" in step for step, _ in steps)
