"""GET /users.csv and GET /status-changes.csv over HTTP: the same users, in the same order,
as the `users` query; the feed's range as `statusChanges`; BOM, neutralised cells, and the
refusals (401, 403, 400) of the API."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.api.operations import Administrator, server_for_module
from tests.support import ADMIN, AUDITOR, VIEWER, ThreadedServer, token

USERS = """
query($search: String, $status: [UserStatus!], $after: String, $sort: UserSort) {
  users(search: $search, status: $status, first: 2, after: $after, sort: $sort) {
    pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}"""
CHANGES = """
query($since: DateTime, $until: DateTime) {
  statusChanges(since: $since, until: $until, first: 500) {
    edges { node { userId to at version } }
  }
}"""
# (first name, last name, email, username, deactivated): formula-like names among them.
PEOPLE = [
    ("Élodie", "Brun", "d@example.org", "carol", False),
    ('=HYPERLINK("http://evil.example","x")', "Alves", "a@example.org", "eve", True),
    ("+1", "Dias", "e@example.org", "alice", False),
    ("@x", "Costa", "c@example.org", "dave", True),
    ("-2", "Egas", "b@example.org", "bob", False),
    ("Ana", "Lima", "ana@acme.com", "ana", False),
]
FILTERS: list[dict[str, Any]] = [
    {},
    {"search": "example.org"},
    {"search": "an"},
    {"status": ["DEACTIVATED"]},
    {"status": ["PENDING", "DEACTIVATED"], "search": "EXAMPLE"},
    *(
        {"sort": {"field": f, "direction": d}}
        for f in ("NAME", "EMAIL", "USERNAME", "STATUS", "CREATED_AT")
        for d in ("ASC", "DESC")
    ),
    {"search": "a", "status": ["PENDING"], "sort": {"field": "NAME", "direction": "DESC"}},
]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server whose users are PEOPLE; the tests only read them."""
    with server_for_module(tmp_path_factory.mktemp("people")) as server:
        admin = Administrator(server.api)
        for first, last, email, username, deactivated in PEOPLE:
            user = admin.register(first, last, email, username=username)
            if deactivated:
                admin.deactivate(user["id"], reason="=cmd|'/c calc'!A1")
        yield server


def download(
    server: ThreadedServer, path: str, params: Any = None, **profiles: Any
) -> httpx.Response:
    as_ = profiles.get("as_", token(VIEWER))
    headers = {"authorization": f"Bearer {as_}"} if as_ else {}
    return httpx.get(server.base_url + path, params=params, headers=headers)


def table(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def listed_ids(server: ThreadedServer, **variables: Any) -> list[str]:
    """The ids of every page of the `users` query, in order."""
    ids: list[str] = []
    after = None
    while True:
        found = server.api.data(USERS, {**variables, "after": after}, as_=token(VIEWER))["users"]
        ids += [edge["node"]["id"] for edge in found["edges"]]
        if not found["pageInfo"]["hasNextPage"]:
            return ids
        after = found["pageInfo"]["endCursor"]


def query_string(variables: dict[str, Any]) -> list[tuple[str, str]]:
    params = [("search", variables["search"])] if "search" in variables else []
    params += [("status", status) for status in variables.get("status", [])]
    if "sort" in variables:
        params += [
            ("sort", variables["sort"]["field"]),
            ("direction", variables["sort"]["direction"]),
        ]
    return params


# ---------------------------------------------------------------------------- /users.csv


@pytest.mark.parametrize("variables", FILTERS, ids=str)
def test_users_csv_lists_the_users_query_s_users_in_its_order(
    people: ThreadedServer, variables: dict[str, Any]
) -> None:
    rows = table(download(people, "/users.csv", query_string(variables)))

    assert [row["id"] for row in rows] == listed_ids(people, **variables)


def test_users_csv_is_utf8_with_bom_and_the_documented_columns(people: ThreadedServer) -> None:
    response = download(people, "/users.csv", {"search": "Élodie"})

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="users.csv"' in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == (
        "id,first_name,last_name,email,username,status,created_at,status_changed_at,import_batch_id"
    )
    (row,) = table(response)
    assert (row["first_name"], row["email"], row["status"]) == (
        "Élodie",
        "d@example.org",
        "PENDING",
    )
    assert row["created_at"].endswith("+00:00")
    assert row["import_batch_id"] == ""


def test_users_csv_neutralises_formulas(people: ThreadedServer) -> None:
    rows = table(download(people, "/users.csv", {"sort": "EMAIL", "direction": "ASC"}))

    first_names = [row["first_name"] for row in rows]
    assert first_names == [
        '\'=HYPERLINK("http://evil.example","x")',
        "Ana",
        "'-2",
        "'@x",
        "Élodie",
        "'+1",
    ]


@pytest.mark.parametrize("profile", [ADMIN, VIEWER, AUDITOR])
def test_every_profile_that_reads_users_may_export_them(
    people: ThreadedServer, profile: Any
) -> None:
    assert len(table(download(people, "/users.csv", as_=token(profile)))) == len(PEOPLE)


def test_users_csv_without_a_token_is_unauthenticated(people: ThreadedServer) -> None:
    response = download(people, "/users.csv", as_="")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_users_csv_with_a_bad_token_is_unauthenticated(people: ThreadedServer) -> None:
    assert download(people, "/users.csv", as_="not-a-jwt").status_code == 401


def test_users_csv_without_a_profile_is_forbidden(people: ThreadedServer) -> None:
    response = download(people, "/users.csv", as_=token())
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


BAD_USER_PARAMETERS = [
    ({"status": "GONE"}, "status"),
    ({"sort": "AGE"}, "sort"),
    ({"sort": "NAME", "direction": "UP"}, "direction"),
    ({"search": "a" * 201}, "search"),
    ({"q": "ana"}, "q"),
    ([("search", "a"), ("search", "b")], "search"),
]


@pytest.mark.parametrize(("params", "argument"), BAD_USER_PARAMETERS, ids=str)
def test_users_csv_with_a_bad_parameter_is_bad_user_input(
    people: ThreadedServer, params: Any, argument: str
) -> None:
    response = download(people, "/users.csv", params)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert error["message"]


# ---------------------------------------------------------------------------- /status-changes.csv


def feed(server: ThreadedServer, **variables: Any) -> list[dict[str, Any]]:
    found = server.api.data(CHANGES, variables, as_=token(AUDITOR))["statusChanges"]
    return [edge["node"] for edge in found["edges"]]


def test_status_changes_csv_is_the_feed_in_order(people: ThreadedServer) -> None:
    rows = table(download(people, "/status-changes.csv", as_=token(AUDITOR)))

    expected = [(c["userId"], c["to"], int(c["version"])) for c in feed(people)]
    assert [(r["user_id"], r["to"], int(r["version"])) for r in rows] == expected
    assert len(rows) == len(PEOPLE) + 2  # each registered, two deactivated
    assert list(rows[0]) == ["user_id", "from", "to", "at", "actor", "source", "reason", "version"]
    deactivated = [r for r in rows if r["to"] == "DEACTIVATED"]
    assert {(r["from"], r["actor"], r["source"]) for r in deactivated} == {
        ("PENDING", "admin", "ADMINISTRATOR")
    }
    assert {r["reason"] for r in deactivated} == {"'=cmd|'/c calc'!A1"}


def test_status_changes_csv_keeps_the_range_since_included_until_excluded(
    people: ThreadedServer,
) -> None:
    changes = feed(people)
    since, until = changes[2]["at"], changes[5]["at"]

    rows = table(
        download(people, "/status-changes.csv", {"since": since, "until": until}, as_=token(ADMIN))
    )

    expected = [c["userId"] for c in feed(people, since=since, until=until)]
    assert [r["user_id"] for r in rows] == expected
    assert len(rows) == 3
    assert rows[0]["at"] == since
    assert all(r["at"] < until for r in rows)


def test_status_changes_csv_takes_an_offset_other_than_utc(people: ThreadedServer) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    rows = table(
        download(people, "/status-changes.csv", {"since": later.isoformat()}, as_=token(AUDITOR))
    )
    assert rows == []


def test_status_changes_csv_is_forbidden_to_a_viewer(people: ThreadedServer) -> None:
    response = download(people, "/status-changes.csv", as_=token(VIEWER))
    assert response.status_code == 403


def test_status_changes_csv_without_a_token_is_unauthenticated(people: ThreadedServer) -> None:
    assert download(people, "/status-changes.csv", as_="").status_code == 401


@pytest.mark.parametrize(
    ("params", "argument"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-01-01T00:00:00"}, "until"),
        ({"from": "2026-01-01T00:00:00Z"}, "from"),
    ],
    ids=str,
)
def test_status_changes_csv_with_a_bad_parameter_is_bad_user_input(
    people: ThreadedServer, params: dict[str, str], argument: str
) -> None:
    response = download(people, "/status-changes.csv", params, as_=token(AUDITOR))

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": argument,
    }


@pytest.mark.parametrize(
    ("params", "sort"),
    [
        ({"sort": "NAME"}, {"field": "NAME", "direction": "ASC"}),
        ({"direction": "ASC"}, {"field": "CREATED_AT", "direction": "ASC"}),
    ],
    ids=str,
)
def test_users_csv_completes_a_half_given_order_as_user_sort_does(
    people: ThreadedServer, params: dict[str, str], sort: dict[str, str]
) -> None:
    rows = table(download(people, "/users.csv", params))

    assert [row["id"] for row in rows] == listed_ids(people, sort=sort)
    assert [row["id"] for row in rows] != listed_ids(people)
