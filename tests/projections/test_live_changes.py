"""The live feed of status changes (what statusChanged subscribers read), through the real
store: a page at a time, in store order, however far behind the reader is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser, Saved
from domain.statuses import StatusChangeSource
from projections.history_queries import StatusChangeRow, changes_after
from settings import Settings

PAGE = 500


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def test_changes_after_a_position_are_read_a_page_at_a_time_in_store_order(
    services: Services,
) -> None:
    people = [NewUser("Bulk", str(n), f"bulk{n}@acme.com") for n in range(2 * PAGE + 200)]
    outcomes = services.roster.register_users(
        people, actor="admin", source=StatusChangeSource.REGISTRATION
    ).outcomes
    services.read_model.catch_up()
    pages: list[list[StatusChangeRow]] = []
    position = 0
    while not pages or pages[-1]:
        with services.database.reading() as cursor:
            pages.append(changes_after(cursor, position, None, PAGE))
        position = pages[-1][-1].position if pages[-1] else position
    assert [len(page) for page in pages] == [PAGE, PAGE, 200, 0]
    registered = [str(o.id) for o in outcomes if isinstance(o, Saved)]
    assert [row.user_id for page in pages for row in page] == registered
