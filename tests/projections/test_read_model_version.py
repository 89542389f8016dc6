"""Read-model tables of another version are made anew at start-up and rebuilt from the
events, so a change of their columns needs no migration by hand."""

from __future__ import annotations

from bootstrap import build_services
from domain.application import NewUser
from projections import user_queries
from settings import Settings


def test_tables_of_an_older_version_are_rebuilt_from_the_events(settings: Settings) -> None:
    first = build_services(settings)
    try:
        first.roster.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor="admin")
        first.read_model.catch_up()
        with first.database.writing() as cursor:
            # As a server of an older version left it: another version, a stale table.
            cursor.execute("UPDATE read_model_version SET version = 1")
            cursor.execute("DELETE FROM users")
    finally:
        first.close()

    again = build_services(settings)
    try:
        assert again.read_model.position() == 0
        again.read_model.catch_up()
        with again.database.reading() as cursor:
            found = user_queries.user_by_email(cursor, "ann@acme.com")
        assert found is not None
        assert found.email == "ann@acme.com"
    finally:
        again.close()
