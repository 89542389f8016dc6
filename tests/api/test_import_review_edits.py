"""The reviewer's edits over HTTP: updateImportRow validates a row again with its clashes,
excludeImportRows and includeImportRows take rows out and back, and the batch's counts
always agree with its rows."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from settings import Settings
from tests.api.importing import UPDATE_ROW, Importer, csv_file, people
from tests.api.operations import Administrator, error_codes, event_count, server_for_module
from tests.support import AUDITOR, VIEWER, Api, ThreadedServer, token

Row = dict[str, Any]
Edit = Callable[[Importer, str, int], dict[str, Any]]

EDITS: dict[str, Edit] = {
    "updateImportRow": lambda importer, batch_id, number: importer.update_row(
        batch_id, number, firstName="Eve", lastName="Ng", email="eve@acme.com"
    ),
    "excludeImportRows": lambda importer, batch_id, number: importer.exclude(batch_id, 1, number),
    "includeImportRows": lambda importer, batch_id, number: importer.include(batch_id, 1, number),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """One server for the module: each test has its own batch and its own mail domain."""
    with server_for_module(tmp_path_factory.mktemp("edits")) as running:
        yield running


@pytest.fixture
def importer(server: ThreadedServer) -> Importer:
    return Importer(server.api)


@pytest.fixture
def site() -> str:
    """A mail domain no other test uses."""
    return f"{uuid.uuid4().hex[:10]}.acme.com"


def started(importer: Importer, *rows: str) -> str:
    batch = importer.started(csv_file(*rows))
    return str(batch["id"])


def rows_of(importer: Importer, batch_id: str) -> dict[int, Row]:
    """Every row of the batch, read page by page."""
    found: dict[int, Row] = {}
    after = None
    while True:
        page = importer.rows(batch_id, first=500, after=after)
        found.update((edge["node"]["rowNumber"], edge["node"]) for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def codes(row: Row) -> list[tuple[str | None, str]]:
    return [(error["column"], error["code"]) for error in row["errors"]]


def messages(row: Row) -> list[str]:
    return [error["message"] for error in row["errors"]]


def assert_counts_match_rows(
    importer: Importer, batch_id: str, progress: Row | None = None
) -> None:
    """The batch's progress (or the one an edit answered) equals a fresh count of its rows."""
    progress = progress or importer.batch(batch_id)["progress"]
    counted = Counter(row["status"] for row in rows_of(importer, batch_id).values())
    assert {name: progress[name.lower()] for name in ("VALID", "INVALID", "EXCLUDED")} == {
        name: counted[name] for name in ("VALID", "INVALID", "EXCLUDED")
    }
    assert progress["total"] == counted.total()


def edited(importer: Importer, batch_id: str, result: Row) -> Row:
    """The result of an edit that must succeed; the counts are checked against the rows."""
    assert result["__typename"] in ("ImportRow", "ImportBatch"), result
    assert_counts_match_rows(importer, batch_id, result.get("progress"))
    return result


def ann(site: str, email: str | None = None, username: str | None = None) -> dict[str, Any]:
    return {
        "firstName": "Ann",
        "lastName": "Lee",
        "email": email or f"ann@{site}",
        "username": username,
    }


@contextmanager
def unchanged(server: ThreadedServer, importer: Importer, batch_id: str) -> Iterator[None]:
    """The batch, its rows and the store's events are the same after the block."""
    rows, batch, events = (
        rows_of(importer, batch_id),
        importer.batch(batch_id),
        event_count(server.api),
    )
    yield
    assert (rows_of(importer, batch_id), importer.batch(batch_id)) == (rows, batch)
    assert event_count(server.api) == events


# ---------------------------------------------------------------- validated again


def test_fixing_an_invalid_email_makes_the_row_valid(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},", f"Bob,Ray,bob@{site},")
    assert codes(rows_of(importer, batch_id)[1]) == [("email", "INVALID_EMAIL")]

    row = edited(importer, batch_id, importer.update_row(batch_id, 1, **ann(site)))

    assert (row["status"], row["errors"], row["email"]) == ("VALID", [], f"ann@{site}")
    assert importer.batch(batch_id)["progress"]["valid"] == 2


def test_breaking_a_valid_row_makes_it_invalid_with_every_error(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},")

    result = importer.update_row(
        batch_id, 1, firstName=" ", lastName="=HYPERLINK()", email="ann@", username="a b"
    )

    row = edited(importer, batch_id, result)
    assert row["status"] == "INVALID"
    assert codes(row) == [
        ("first_name", "REQUIRED"),
        ("last_name", "UNSAFE_VALUE"),
        ("email", "INVALID_EMAIL"),
        ("username", "INVALID_USERNAME"),
    ]
    assert importer.batch(batch_id)["progress"]["invalid"] == 1


def test_a_correction_is_kept_trimmed_and_nfc_normalised(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")

    row = importer.update_row(
        batch_id, 1, firstName="\u00a0Zoe\u0301 ", lastName=" Lee", email=f" ann@{site}\u00a0"
    )

    assert (row["status"], row["firstName"], row["lastName"], row["email"]) == (
        "VALID",
        "Zo\u00e9",
        "Lee",
        f"ann@{site}",
    )


def test_a_correction_of_an_excluded_row_keeps_it_excluded(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")
    edited(importer, batch_id, importer.exclude(batch_id, 1))

    row = edited(importer, batch_id, importer.update_row(batch_id, 1, **ann(site)))

    assert (row["status"], row["errors"], row["email"]) == ("EXCLUDED", [], f"ann@{site}")


# ---------------------------------------------------------------- duplicates in the file


def three_sharing_an_email(importer: Importer, site: str) -> str:
    return started(
        importer,
        f"Ann,Lee,ann@{site},",
        f"Bob,Ray,ANN@{site},",
        f"Cy,Ng, Ann@{site} ,",
        f"Dee,Ho,dee@{site},",
    )


def test_rows_sharing_an_email_are_all_invalid_naming_the_others(
    importer: Importer, site: str
) -> None:
    rows = rows_of(importer, three_sharing_an_email(importer, site))

    assert [rows[n]["status"] for n in (1, 2, 3, 4)] == ["INVALID"] * 3 + ["VALID"]
    assert [codes(rows[n]) for n in (1, 2, 3)] == [[("email", "DUPLICATE_IN_FILE")]] * 3
    assert [messages(rows[n])[0].split(" also ")[0] for n in (1, 2, 3)] == [
        "Rows 2 and 3",
        "Rows 1 and 3",
        "Rows 1 and 2",
    ]


def test_correcting_one_of_three_duplicates_leaves_the_other_two_naming_each_other(
    importer: Importer, site: str
) -> None:
    batch_id = three_sharing_an_email(importer, site)

    row = edited(importer, batch_id, importer.update_row(batch_id, 2, **ann(site, f"bob@{site}")))

    rows = rows_of(importer, batch_id)
    assert (row["status"], rows[2]["status"]) == ("VALID", "VALID")
    assert (rows[1]["status"], rows[3]["status"]) == ("INVALID", "INVALID")
    assert messages(rows[1])[0].startswith(f"Row 3 also has the access email ann@{site};")
    assert messages(rows[3])[0].startswith(f"Row 1 also has the access email Ann@{site};")


def test_correcting_all_but_one_duplicate_makes_the_last_valid(
    importer: Importer, site: str
) -> None:
    batch_id = three_sharing_an_email(importer, site)
    edited(importer, batch_id, importer.update_row(batch_id, 2, **ann(site, f"bob@{site}")))

    edited(importer, batch_id, importer.update_row(batch_id, 3, **ann(site, f"cy@{site}")))

    rows = rows_of(importer, batch_id)
    assert {n: (row["status"], row["errors"]) for n, row in rows.items()} == {
        n: ("VALID", []) for n in (1, 2, 3, 4)
    }


def test_a_correction_can_make_a_duplicate_of_another_row(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,bob@{site},")

    row = edited(importer, batch_id, importer.update_row(batch_id, 2, **ann(site, f"ANN@{site}")))

    first = rows_of(importer, batch_id)[1]
    assert (row["status"], first["status"]) == ("INVALID", "INVALID")
    assert messages(row)[0].startswith(f"Row 1 also has the access email ANN@{site};")
    assert messages(first)[0].startswith(f"Row 2 also has the access email ann@{site};")


def test_given_usernames_clash_whatever_their_case(importer: Importer, site: str) -> None:
    name = f"zed.{site.split('.')[0]}"
    batch_id = started(importer, f"Ann,Lee,ann@{site},{name}", f"Bob,Ray,bob@{site},")

    row = importer.update_row(batch_id, 2, **ann(site, f"bob@{site}", name.upper()))

    edited(importer, batch_id, row)
    assert codes(row) == [("username", "DUPLICATE_IN_FILE")]
    assert codes(rows_of(importer, batch_id)[1]) == [("username", "DUPLICATE_IN_FILE")]


def test_a_username_corrected_away_frees_the_row_it_clashed_with(
    importer: Importer, site: str
) -> None:
    name = f"zed.{site.split('.')[0]}"
    batch_id = started(importer, f"Ann,Lee,ann@{site},{name}", f"Bob,Ray,bob@{site},{name}")

    edited(importer, batch_id, importer.update_row(batch_id, 2, **ann(site, f"bob@{site}")))

    assert {row["status"] for row in rows_of(importer, batch_id).values()} == {"VALID"}


# ---------------------------------------------------------------- registered already


def test_a_correction_to_a_registered_email_is_that_existing_user(
    server: ThreadedServer, importer: Importer, site: str
) -> None:
    Administrator(server.api).register("Ann", "Lee", f"ann@{site}", username=f"u{site[:10]}")
    batch_id = started(importer, f"Bob,Ray,bob@{site},")

    row = edited(importer, batch_id, importer.update_row(batch_id, 1, **ann(site, f"Ann@{site}")))

    assert (row["status"], codes(row)) == ("EXISTING", [])


def test_a_correction_to_a_registered_username_is_username_taken(
    server: ThreadedServer, importer: Importer, site: str
) -> None:
    taken = f"u{site[:10]}"
    Administrator(server.api).register("Ann", "Lee", f"ann@{site}", username=taken)
    batch_id = started(importer, f"Bob,Ray,bob@{site},")

    row = importer.update_row(batch_id, 1, **ann(site, f"bob@{site}", taken.upper()))

    assert (row["status"], codes(row)) == ("INVALID", [("username", "USERNAME_TAKEN")])


def test_counts_stay_true_after_an_excluded_row_takes_an_email_registered_since(
    server: ThreadedServer, importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,bob@{site},")
    edited(importer, batch_id, importer.exclude(batch_id, 2))
    Administrator(server.api).register("Ann", "Lee", f"ann@{site}", username=f"u{site[:10]}")
    edited(importer, batch_id, importer.update_row(batch_id, 2, **ann(site)))

    edited(importer, batch_id, importer.exclude(batch_id, 1))


# ---------------------------------------------------------------- excluded and included


def test_excluding_a_duplicate_frees_the_other_row(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,ann@{site},")

    batch = edited(importer, batch_id, importer.exclude(batch_id, 2))

    rows = rows_of(importer, batch_id)
    assert (rows[1]["status"], rows[1]["errors"], rows[2]["status"]) == ("VALID", [], "EXCLUDED")
    assert (batch["progress"]["valid"], batch["progress"]["excluded"]) == (1, 1)


def test_an_included_row_brings_its_clashes_back(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,ann@{site},")
    before = rows_of(importer, batch_id)
    edited(importer, batch_id, importer.exclude(batch_id, 2))

    batch = edited(importer, batch_id, importer.include(batch_id, 2))

    assert rows_of(importer, batch_id) == before
    assert batch["progress"]["invalid"] == 2


@pytest.mark.parametrize("edit", ["exclude", "include"])
def test_the_same_edit_twice_changes_nothing_more(importer: Importer, site: str, edit: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,ann@{site},", f"Cy,Ng,x{site},")
    if edit == "include":
        edited(importer, batch_id, importer.exclude(batch_id, 2, 3))
    apply = importer.exclude if edit == "exclude" else importer.include
    once = edited(importer, batch_id, apply(batch_id, 2, 3))
    rows = rows_of(importer, batch_id)

    twice = edited(importer, batch_id, apply(batch_id, 3, 2, 3))

    assert (twice["progress"], rows_of(importer, batch_id)) == (once["progress"], rows)


def test_the_counts_match_the_rows_after_every_edit(importer: Importer, site: str) -> None:
    batch_id = started(
        importer,
        f"Ann,Lee,ann@{site},ann{site[:6]}",
        f"Bob,Ray,ANN@{site},",
        f"Cy,Ng,cy@{site},ANN{site[:6]}",
        f"Dee,Ho,dee-at-{site},",
        f"Eve,Li,ann@{site},",
    )
    steps: list[Callable[[], Row]] = [
        lambda: importer.exclude(batch_id, 1),
        lambda: importer.update_row(batch_id, 4, **ann(site, f"cy@{site}")),
        lambda: importer.include(batch_id, 1),
        lambda: importer.update_row(batch_id, 5, **ann(site, f"eve@{site}")),
        lambda: importer.exclude(batch_id, 2, 3, 4),
        lambda: importer.update_row(batch_id, 3, **ann(site, f"dee@{site}")),
        lambda: importer.include(batch_id, 3, 4),
        lambda: importer.update_row(batch_id, 1, **ann(site, f"dee@{site}", "x")),
        lambda: importer.include(batch_id, 2),
    ]
    for step in steps:
        edited(importer, batch_id, step())
    statuses = {n: row["status"] for n, row in rows_of(importer, batch_id).items()}
    assert statuses == {1: "INVALID", 2: "VALID", 3: "INVALID", 4: "VALID", 5: "VALID"}


# ---------------------------------------------------------------- refused


@pytest.mark.parametrize("operation", EDITS)
@pytest.mark.parametrize("number", [0, 3])
def test_an_unknown_row_number_is_refused_and_changes_nothing(
    server: ThreadedServer, importer: Importer, site: str, operation: str, number: int
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,bob-at-{site},")
    edited(importer, batch_id, importer.exclude(batch_id, 1))

    with unchanged(server, importer, batch_id):
        result = EDITS[operation](importer, batch_id, number)

    assert (result["__typename"], result["code"]) == ("InvalidInput", "UNKNOWN_ROW")


@pytest.mark.parametrize("operation", ["excludeImportRows", "includeImportRows"])
def test_an_unknown_row_in_a_list_is_named_by_its_place(
    importer: Importer, site: str, operation: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},")

    assert EDITS[operation](importer, batch_id, 2)["field"] == "rowNumbers[1]"


def test_an_unknown_row_to_update_names_the_row_number(importer: Importer, site: str) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},")

    assert EDITS["updateImportRow"](importer, batch_id, 2)["field"] == "rowNumber"


@pytest.mark.parametrize("operation", EDITS)
def test_an_unknown_batch_is_not_found(
    server: ThreadedServer, importer: Importer, operation: str
) -> None:
    events = event_count(server.api)

    result = EDITS[operation](importer, str(uuid.uuid4()), 1)

    assert result["__typename"] == "NotFound", result
    assert event_count(server.api) == events


@pytest.mark.parametrize("operation", EDITS)
def test_a_malformed_batch_id_is_invalid_input(
    server: ThreadedServer, importer: Importer, operation: str
) -> None:
    events = event_count(server.api)

    result = EDITS[operation](importer, "batch-1", 1)

    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInput",
        "INVALID_ID",
        "batchId",
    )
    assert event_count(server.api) == events


@pytest.mark.parametrize("operation", EDITS)
@pytest.mark.parametrize("end", ["committed", "cancelled"])
def test_a_batch_out_of_review_refuses_edits(
    server: ThreadedServer, importer: Importer, site: str, operation: str, end: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann.{site.split('.')[0]}@{site},")
    if end == "committed":
        assert importer.committed(batch_id)["status"] == "COMPLETED"
    else:
        assert importer.cancel(batch_id)["status"] == "CANCELLED"

    with unchanged(server, importer, batch_id):
        result = EDITS[operation](importer, batch_id, 1)

    assert result["__typename"] == "InvalidState", result


# ---------------------------------------------------------------- who may edit


def test_a_viewer_may_edit_rows(server: ThreadedServer, site: str) -> None:
    viewer = Importer(server.api, as_=token(VIEWER, subject="viewer"))
    batch_id = started(viewer, f"Ann,Lee,ann-at-{site},")

    row = viewer.update_row(batch_id, 1, **ann(site))

    assert (row["__typename"], row["status"]) == ("ImportRow", "VALID")


def test_an_auditor_may_not_edit_rows(
    server: ThreadedServer, importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")
    variables = {"batchId": batch_id, "rowNumber": 1, "row": ann(site)}

    with unchanged(server, importer, batch_id):
        result = server.api.post(UPDATE_ROW, variables, as_=token(AUDITOR))

    assert error_codes(result) == ["FORBIDDEN"]


# ---------------------------------------------------------------- at scale and at once


def test_edits_work_on_a_batch_read_by_the_worker(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "ROSTER_IMPORT_INLINE_ROWS": "10"})
    lines = people(3_000).decode("utf-8-sig").splitlines()
    lines[2_900] = "Twin,Row,person.5@acme.com,"  # line 0 is the header
    with ThreadedServer(settings) as server:
        importer = Importer(server.api)
        batch = importer.start(("\r\n".join(lines) + "\r\n").encode())
        assert batch["status"] == "VALIDATING"
        batch_id = importer.wait_for(batch["id"], "IN_REVIEW")["id"]
        rows = rows_of(importer, batch_id)
        assert messages(rows[5])[0].startswith("Row 2900 also has")
        assert messages(rows[2_900])[0].startswith("Row 5 also has")

        fixed = importer.update_row(batch_id, 2_900, **ann("acme.com", "twin@acme.com"))

        assert (fixed["status"], rows_of(importer, batch_id)[5]["status"]) == ("VALID", "VALID")
        edited(importer, batch_id, importer.exclude(batch_id, 5))
        edited(importer, batch_id, importer.include(batch_id, 5))
        assert importer.batch(batch_id)["progress"]["valid"] == 3_000


def test_corrections_sent_at_once_all_succeed(server: ThreadedServer, site: str) -> None:
    """Eleven rows share one email; ten callers correct rows 2..11 at the same moment: the
    edits clash on the batch's version and are tried again until each went through."""
    callers = 10
    batch_id = started(
        Importer(server.api), *(f"P,No{n},same@{site}," for n in range(1, callers + 2))
    )
    ready = threading.Barrier(callers)

    def correct(number: int) -> Row:
        api = Api(server.base_url)
        try:
            ready.wait()
            return Importer(api).update_row(batch_id, number, **ann(site, f"p{number}@{site}"))
        finally:
            api.close()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        results = list(pool.map(correct, range(2, callers + 2)))

    assert [(row["__typename"], row["status"]) for row in results] == [
        ("ImportRow", "VALID")
    ] * callers
    importer = Importer(server.api)
    assert {row["status"] for row in rows_of(importer, batch_id).values()} == {"VALID"}
    assert_counts_match_rows(importer, batch_id)
