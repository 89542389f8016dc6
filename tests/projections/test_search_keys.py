"""How the user list keys its rows: search folding and creation order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from projections.database import SQLiteDatabase
from projections.encoding import fold
from projections.users import created_order, free_keys


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("José", "jose"),
        ("Müller", "MULL"),
        ("Łukasz", "lukasz"),
        ("Søren", "soren"),
        ("Đorđević", "dordevic"),
        ("Yılmaz", "yilmaz"),
        ("Straße", "strasse"),
        ("Æsa", "aesa"),
    ],
)
def test_search_folds_case_and_accents_alike(written: str, typed: str) -> None:
    assert fold(typed) in fold(written)


def test_creation_order_follows_time() -> None:
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    later = earlier + timedelta(microseconds=1)

    assert created_order(earlier) < created_order(later)


def test_users_created_before_1970_still_get_keys_in_order() -> None:
    old = datetime(1960, 5, 1, tzinfo=UTC)

    assert created_order(old) < created_order(old + timedelta(days=1)) < 0


def test_a_taken_key_moves_to_the_next_free_one(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "read.db"))
    database.create_tables()
    with database.writing() as cursor:
        cursor.execute(
            "INSERT INTO users (seq, id, version, first_name, last_name, email, username,"
            " name_sort, email_key, username_key, search_text, created_at, status,"
            " status_changed_at, group_ids, permissions)"
            " VALUES (100, 'u1', 1, 'A', 'B', 'a@x.io', 'a', 'a b', 'a@x.io', 'a', 'a',"
            " '2026-01-01', 'PENDING', '2026-01-01', '[]', '[]')"
        )
        assert free_keys(cursor, [100, 100, 102]) == [101, 102, 103]
    database.close()


def test_users_of_one_microsecond_keep_the_order_of_their_registration(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "read.db"))
    database.create_tables()
    moment = created_order(datetime(2016, 1, 1, tzinfo=UTC))
    with database.writing() as cursor:
        keys = free_keys(cursor, [moment] * 3000 + [moment + 1024])
    database.close()

    assert keys == sorted(keys)
    assert keys == list(range(moment, moment + 3001))
