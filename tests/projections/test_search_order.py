"""Search over users registered out of creation order, as a legacy migration registers them:
every user is found by their own email, whatever the sort order.

The users' keys are their creation times (projections.users.created_order), so a legacy
file's users reach the trigram index out of order, years apart, some on one date: on
SQLite 3.40, FTS5 walking its index newest first lost half of these users
(projections.user_queries._newest_matches). It takes thousands of them: with fewer, FTS5
builds no segment large enough to hold a doclist index, the structure it stepped back
through wrongly. So the users are registered once for the module, and each test makes
one search per user.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser, Saved
from domain.statuses import StatusChangeSource, UserStatus
from projections.encoding import fold
from projections.user_queries import SORT_COLUMNS, UserFilter, list_users
from settings import Settings
from tests.api.operations import store_for_module

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Greta", "Hugo", "Irene", "João"]
LAST = ["Silva", "Patel", "Nowak", "Müller", "Kim", "Rossi", "Dubois", "Sato", "Okafor", "Lund"]
USERS = 2400  # with 2,000, SQLite 3.40 built no doclist index, whatever the dates
CHUNK = 800  # registered and listed chunk by chunk, as `roster legacy-import` does
DAYS = 15 * 365
FIRST_DAY = datetime(2011, 1, 3, tzinfo=UTC)
SORTS = [(field, direction) for field in SORT_COLUMNS for direction in ("DESC", "ASC")]


def legacy_users() -> list[NewUser]:
    """A company's users as its old system kept them: one mail domain, creation dates
    (dates only, so some users share one) spread over 15 years, listed in no order."""
    dates = random.Random(0)  # noqa: S311 - reproducible dates, not secrets
    users = []
    for i in range(USERS):
        first, last = FIRST[i % 10], LAST[i // 10 % 10]
        users.append(
            NewUser(
                first_name=first,
                last_name=last,
                email=f"{fold(first)}.{fold(last)}{i}@example.com",
                status=UserStatus.ACTIVE,
                created_at=FIRST_DAY + timedelta(days=dates.randrange(DAYS)),
            )
        )
    return users


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, list[str]]]:
    """A store holding the legacy users, their list caught up after each batch as
    `roster legacy-import` does after each chunk; and their emails."""
    with store_for_module(tmp_path_factory.mktemp("search")) as env:
        services = build_services(Settings.from_env(env))
        try:
            users = legacy_users()
            for start in range(0, USERS, CHUNK):
                outcomes = services.roster.register_users(
                    users[start : start + CHUNK],
                    actor="migration",
                    source=StatusChangeSource.LEGACY_MIGRATION,
                ).outcomes
                assert all(isinstance(outcome, Saved) for outcome in outcomes)
                services.read_model.catch_up()
            yield services, [user.email for user in users]
        finally:
            services.close()


@pytest.mark.parametrize(("field", "direction"), SORTS)
def test_every_migrated_user_is_found_by_their_own_email(
    migrated: tuple[Services, list[str]], field: str, direction: str
) -> None:
    services, emails = migrated
    dialect, sort, missed = services.database.dialect, (field, direction), []
    with services.database.reading() as cursor:
        for email in emails:
            page = list_users(cursor, dialect, UserFilter(search=email), sort, 50, None)
            if [user.email for _, user in page.items] != [email]:
                missed.append(email)

    assert missed == [], f"{len(missed)} of {USERS} users not found, such as {missed[:3]}"
