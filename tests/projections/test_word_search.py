"""The word starts behind searches of one or two characters (projections.user_words): what
they hold, that a rebuild gives them again, and on SQLite, that such a search is a range of
their index, never a scan of the users."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser
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
from tests.conftest import ON_POSTGRES

SORTS = [(field, direction) for field in SORT_COLUMNS for direction in ("DESC", "ASC")]
#: A range of user_words' key (a look-up of one user in it reads "prefix=? AND seq=?").
RANGE = re.compile(r"SEARCH (w|user_words) USING PRIMARY KEY \(prefix=\?( AND seq[<>]\?)?\)$")
FILTERS = [UserFilter(search="a"), UserFilter(search="Jo", statuses=("PENDING", "ACTIVE"))]


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


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    people = [
        NewUser("Ana", "Lima", "ana@acme.com"),
        NewUser("John", "Adams", "jo@example.org"),
        NewUser("Joëlle", "Martin", "joelle@acme.com"),
        NewUser("Bo", "Ng", "bo@example.org"),  # no word starting with "a" or "jo"
    ]
    built.roster.register_users(people, actor="admin", source=StatusChangeSource.IMPORT)
    built.read_model.catch_up()
    yield built
    built.close()


def user_words(services: Services) -> list[Row]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT prefix, seq FROM user_words ORDER BY prefix, seq")
        return cursor.fetchall()


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


@pytest.mark.parametrize(("field", "direction"), SORTS)
@pytest.mark.parametrize("walk", [1, 2, user_queries.WALK])
def test_pages_are_the_same_however_far_the_walk_looks(
    services: Services, field: str, direction: str, walk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In another order than creation, a page is first looked for among the next WALK
    users (user_queries._walked); too few found, every match is read instead."""
    expected = [
        user.email
        for user in listed(services, UserFilter(), (field, direction))
        if "a"
        in word_starts(search_text(user.first_name, user.last_name, user.email, user.username))
    ]
    monkeypatch.setattr(user_queries, "WALK", walk)

    found = listed(services, UserFilter(search="A"), (field, direction))

    assert [user.email for user in found] == expected


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
@pytest.mark.parametrize("where", FILTERS, ids=["a", "Jo-statuses"])
def test_a_short_search_reads_a_range_of_word_starts_not_every_user(
    services: Services, field: str, direction: str, where: UserFilter
) -> None:
    """Each query either reads a range of user_words' key, or walks the sort order's index
    within `walk`, a window of at most WALK users (see user_queries._walked). On the
    second page of "Jo", one match is left for a page of one: the walk finds fewer than
    the page and one more, and falls back to the range."""
    with services.database.reading() as real:
        cursor = PlannedCursor(real)
        page = list_users(cursor, "sqlite", where, (field, direction), 1, None)
        assert page.end_cursor is not None
        list_users(cursor, "sqlite", where, (field, direction), 1, page.end_cursor)
        count_users(cursor, "sqlite", where)

    for plan in cursor.plans:
        steps = [step for step, _ in plan]
        assert any(RANGE.match(step) for step in steps) or "CO-ROUTINE walk" in steps, plan
        for step, within in plan:
            if re.match(r"SCAN (u|users)\b", step):
                assert "CO-ROUTINE walk" in within, plan
            if field == "CREATED_AT":  # read in order: no sort, the page ends the walk
                assert "TEMP B-TREE" not in step, plan
    walks = sum("CO-ROUTINE walk" in [step for step, _ in plan] for plan in cursor.plans)
    assert walks == (0 if field == "CREATED_AT" else 2)
    assert len(cursor.plans) == 3 + (field != "CREATED_AT" and where.statuses != ())
