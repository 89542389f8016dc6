"""The PostgreSQL restart drill (see `restart_drill`): the database restarted in the
middle of an import's commit and of the mail delivery that follows, under a Roster
server (its own import worker and mail delivery on), a `roster worker` and a `roster
mailer`, none of which is restarted.

The drill runs once, on a PostgreSQL server of its own (never the shared one), in the
PostgreSQL run of the suite; each test checks one thing of what it left. It imports
4,000 rows (two of the commit's ranges): the first range is written before the restart
and the second after it, which the store's events show. Import leases last 2 s, so each
lease runs out while the database is down and either worker may resume the batch.
`bench/drill.py` runs the same drill with 100,000 rows and prints its figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from domain.imports.process import COMMIT_ROWS
from tests.integration.harness import ON_POSTGRES
from tests.integration.private_postgres import PostgresUnavailableError
from tests.integration.restart_drill import Figures, run_drill

ROWS = 2 * COMMIT_ROWS

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="the restart drill runs in the PostgreSQL run of the suite "
    "(ROSTER_TEST_DATABASE_URL=postgresql://…), on a PostgreSQL server of its own",
)


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Figures]:
    try:
        yield run_drill(
            tmp_path_factory.mktemp("drill"),
            ROWS,
            workers=1,
            mailers=1,
            lease="2s",
            down_seconds=5,
            wait_seconds=240,
        )
    except PostgresUnavailableError as error:
        pytest.skip(f"No private PostgreSQL server for the restart drill: {error}")


def test_health_answers_503_while_the_database_is_down(drill: Figures) -> None:
    for restart in drill.restarts:
        assert set(restart.health_while_down) == {503}, (restart.during, restart.health_while_down)


def test_health_answers_200_again_once_the_database_is_back(drill: Figures) -> None:
    assert [r.first_200 is not None for r in drill.restarts] == [True, True]


def test_the_restart_lands_in_the_middle_of_the_commit(drill: Figures) -> None:
    restart = drill.restarts[0]

    assert restart.during == "commit"
    assert 0 < restart.rows_before < ROWS
    assert drill.ranges_between(0, restart.stopped) >= 1
    assert drill.ranges_between(restart.started, float("inf")) >= 1


def test_the_commit_finishes_with_every_row_registered_once(drill: Figures) -> None:
    assert drill.batch_status == "COMPLETED"
    assert drill.row_statuses == Counter({"CREATED": ROWS})
    assert sum(created for _, created in drill.ranges) == ROWS
    assert (drill.users, drill.distinct_emails, drill.derived_users) == (ROWS, ROWS, ROWS)


def test_the_second_restart_lands_in_the_middle_of_the_delivery(drill: Figures) -> None:
    restart = drill.restarts[1]

    assert restart.during == "delivery"
    assert 0 < restart.mails_before < ROWS
    assert drill.mails_between(restart.started, float("inf")) > 0


def test_every_invitation_is_mailed_once(drill: Figures) -> None:
    assert drill.mails == ROWS
    assert drill.twice == []
    assert len(drill.recipients) == len(drill.invitations) == ROWS


def test_every_mail_sent_is_recorded_as_sent(drill: Figures) -> None:
    assert drill.deliveries == Counter({"SENT": ROWS})
    assert (drill.sent_events, drill.users_sent) == (ROWS, ROWS)


def test_the_roster_processes_ran_through_both_restarts(drill: Figures) -> None:
    assert drill.processes_alive
