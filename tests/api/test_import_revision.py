"""reviseImport over HTTP: a corrected file replaces rows of a batch in review by their
number and adds the rows without one, all validated again with their clashes across the
whole batch; a file or a row number that cannot be used changes nothing."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.importing import REVISE, Importer, csv_file
from tests.api.operations import error_codes, event_count, server_for_module
from tests.api.test_import_review_edits import (
    Row,
    assert_counts_match_rows,
    codes,
    messages,
    rows_of,
    started,
    unchanged,
)
from tests.support import AUDITOR, VIEWER, Api, ThreadedServer, token

HEADER = "row,first_name,last_name,email,username"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with server_for_module(tmp_path_factory.mktemp("revision")) as running:
        yield running


@pytest.fixture
def importer(server: ThreadedServer) -> Importer:
    return Importer(server.api)


@pytest.fixture
def site() -> str:
    return f"{uuid.uuid4().hex[:10]}.acme.com"


def revised(importer: Importer, batch_id: str, *lines: str, header: str = HEADER) -> Row:
    """The batch after a revision that must be taken; its counts agree with its rows."""
    result = importer.revise(batch_id, csv_file(*lines, header=header))
    assert result["__typename"] == "ImportBatch", result
    assert_counts_match_rows(importer, batch_id, result["progress"])
    return result


def report(importer: Importer, batch: Row) -> list[list[str]]:
    response = importer.api.http.get(
        batch["errorReportUrl"], headers={"authorization": f"Bearer {importer.token}"}
    )
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def as_csv(lines: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- taken in


def test_corrected_rows_replace_theirs_and_become_valid(importer: Importer, site: str) -> None:
    batch_id = started(
        importer, f"Ann,Lee,ann-at-{site},", f"Bob,Ray,bob@{site},", f"Cy,,cy@{site},"
    )

    batch = revised(importer, batch_id, f"1,Ann,Lee,ann@{site},", f"3,Cy,Ng,cy@{site},")

    rows = rows_of(importer, batch_id)
    assert [(rows[n]["status"], rows[n]["email"]) for n in (1, 2, 3)] == [
        ("VALID", f"ann@{site}"),
        ("VALID", f"bob@{site}"),
        ("VALID", f"cy@{site}"),
    ]
    assert (batch["progress"]["total"], batch["progress"]["valid"]) == (3, 3)
    assert batch["filename"] == "people.csv"  # the batch keeps its own file's name


def test_lines_without_a_row_number_are_added_after_the_last_row(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,bob-at-{site},")

    batch = revised(
        importer, batch_id, f",Dee,Ho,dee@{site},", f"2,Bob,Ray,bob@{site},", ",Eve,Li,eve-at,"
    )

    rows = rows_of(importer, batch_id)
    assert {n: (row["firstName"], row["status"]) for n, row in rows.items()} == {
        1: ("Ann", "VALID"),
        2: ("Bob", "VALID"),
        3: ("Dee", "VALID"),
        4: ("Eve", "INVALID"),
    }
    assert codes(rows[4]) == [("email", "INVALID_EMAIL")]
    assert batch["progress"]["total"] == batch["progress"]["validated"] == 4


def test_a_revision_finds_duplicates_across_the_whole_batch(importer: Importer, site: str) -> None:
    batch_id = started(
        importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,bob@{site},", f"Cy,Ng,cy-at-{site},"
    )

    revised(importer, batch_id, f"3,Cy,Ng,ANN@{site},", f",Dee,Ho,bob@{site},")

    rows = rows_of(importer, batch_id)
    assert [rows[n]["status"] for n in (1, 2, 3, 4)] == ["INVALID"] * 4
    assert messages(rows[1])[0].startswith(f"Row 3 also has the access email ann@{site};")
    assert messages(rows[4])[0].startswith(f"Row 2 also has the access email bob@{site};")


def test_a_revision_can_free_the_rows_a_duplicate_clashed_with(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},", f"Bob,Ray,ann@{site},")

    revised(importer, batch_id, f"2,Bob,Ray,bob@{site},")

    assert {row["status"] for row in rows_of(importer, batch_id).values()} == {"VALID"}


def test_an_excluded_row_takes_its_correction_and_stays_excluded(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")
    assert importer.exclude(batch_id, 1)["__typename"] == "ImportBatch"

    revised(importer, batch_id, f"1,Ann,Lee,ann@{site},")

    row = rows_of(importer, batch_id)[1]
    assert (row["status"], row["email"]) == ("EXCLUDED", f"ann@{site}")


@pytest.mark.parametrize("heading", ["row", "row_number"])
def test_the_error_report_goes_back_as_downloaded_once_corrected(
    importer: Importer, site: str, heading: str
) -> None:
    batch = importer.started(
        csv_file(f"Ann,Lee,ann@{site},", f"=Bob,Ray,bob@{site},", f"Cy,Ng,cy-at-{site},")
    )
    lines = report(importer, batch)
    assert lines[0] == ["row", "first_name", "last_name", "email", "username", "errors"]
    assert [line[:2] for line in lines[1:]] == [["2", "'=Bob"], ["3", "Cy"]]
    lines[0][0] = heading  # a report downloaded before the column was renamed
    lines[2][3] = f"cy@{site}"  # row 3 corrected; row 2 left as it was

    result = importer.revise(batch["id"], as_csv(lines))

    assert result["__typename"] == "ImportBatch", result
    rows = rows_of(importer, batch["id"])
    assert (rows[3]["status"], rows[3]["email"]) == ("VALID", f"cy@{site}")
    assert (rows[2]["firstName"], codes(rows[2])) == ("=Bob", [("first_name", "UNSAFE_VALUE")])
    assert [line[0] for line in report(importer, batch)[1:]] == ["2"]


def test_rows_added_by_a_revision_are_registered_by_the_commit(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},")
    revised(importer, batch_id, f",Bob,Ray,bob@{site},", f",Cy,Ng,cy@{site},")

    batch = importer.committed(batch_id)

    assert (batch["status"], batch["progress"]["created"]) == ("COMPLETED", 3)
    assert {row["status"] for row in rows_of(importer, batch_id).values()} == {"CREATED"}


def test_a_large_revision_is_recorded_whole_in_several_events(
    server: ThreadedServer, importer: Importer, site: str
) -> None:
    long = "N" * 100
    count = 3_000
    batch_id = started(importer, *(f"A,B,p{n}-at-{site}," for n in range(count)))
    events = event_count(server.api)

    revised(importer, batch_id, *(f"{n + 1},{long},{long},p{n}@{site}," for n in range(count)))

    assert event_count(server.api) - events >= 2  # about 1.1 MB of rows: two events
    assert importer.batch(batch_id)["progress"]["valid"] == count


# ---------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("lines", "code", "line"),
    [
        (
            ["1,Ann,Lee,ann@x.com,", "7,Bob,Ray,bob@x.com,"],
            "UNKNOWN_ROW",
            "Line 3: there is no row 7",
        ),
        (["0,Ann,Lee,ann@x.com,"], "UNKNOWN_ROW", "Line 2: there is no row 0"),
        (
            ["1,Ann,Lee,ann@x.com,", ",Bo,Ray,b@x.com,", "1,Ann,Lee,a@x.com,"],
            "DUPLICATE_ROW",
            "Line 4:",
        ),
        (["two,Ann,Lee,ann@x.com,"], "INVALID_ROW_NUMBER", "Line 2: 'two'"),
    ],
)
def test_a_row_number_that_cannot_be_used_is_refused_naming_its_line(
    server: ThreadedServer,
    importer: Importer,
    site: str,
    lines: list[str],
    code: str,
    line: str,
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},", f"Bob,Ray,bob@{site},")

    with unchanged(server, importer, batch_id):
        result = importer.revise(batch_id, csv_file(*lines, header=HEADER))

    assert (result["__typename"], result["code"], result["field"]) == ("InvalidInput", code, "file")
    assert result["message"].startswith(line), result["message"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (csv_file("1,Ann,Lee", header="row,first_name,last_name"), "MISSING_COLUMNS"),
        (csv_file("1,Ann,Lee,a@x.com,5", header=f"{HEADER},phone"), "UNEXPECTED_COLUMNS"),
        (csv_file("1,Ann,Lee,a@x.com,,", header=f"{HEADER},row_number"), "UNEXPECTED_COLUMNS"),
        (csv_file(header=HEADER), "EMPTY"),
        (csv_file('1,"Ann,Lee,a@x.com,', header=HEADER), "MALFORMED"),
        (b"\x00\x01PK\x03\x04" * 50, "NOT_CSV"),
    ],
)
def test_a_file_startimport_would_refuse_is_invalid_file_and_changes_nothing(
    server: ThreadedServer, importer: Importer, site: str, content: bytes, reason: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")

    with unchanged(server, importer, batch_id):
        result = importer.revise(batch_id, content)

    assert (result["__typename"], result["reason"]) == ("InvalidFile", reason), result


def test_a_malformed_line_after_a_bad_row_number_is_invalid_file(
    importer: Importer, site: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")
    content = csv_file("9,Ann,Lee,ann@x.com,", '1,"Ann,Lee,a@x.com,', header=HEADER)

    assert importer.revise(batch_id, content)["__typename"] == "InvalidFile"


@pytest.mark.parametrize("end", ["committed", "cancelled"])
def test_a_batch_no_longer_in_review_is_invalid_state(
    server: ThreadedServer, importer: Importer, site: str, end: str
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann@{site},")
    if end == "committed":
        assert importer.committed(batch_id)["status"] == "COMPLETED"
    else:
        assert importer.cancel(batch_id)["status"] == "CANCELLED"

    with unchanged(server, importer, batch_id):
        result = importer.revise(batch_id, csv_file(f"1,Ann,Lee,ann2@{site},", header=HEADER))

    assert result["__typename"] == "InvalidState", result


def test_an_unknown_batch_is_not_found(importer: Importer) -> None:
    result = importer.revise(str(uuid.uuid4()), csv_file("1,Ann,Lee,a@x.com,", header=HEADER))

    assert result["__typename"] == "NotFound", result


# ---------------------------------------------------------------- who may revise


def test_a_viewer_may_revise(server: ThreadedServer, site: str) -> None:
    viewer = Importer(server.api, as_=token(VIEWER, subject="viewer"))
    batch_id = started(viewer, f"Ann,Lee,ann-at-{site},")

    revised(viewer, batch_id, f"1,Ann,Lee,ann@{site},")

    assert rows_of(viewer, batch_id)[1]["status"] == "VALID"


@pytest.mark.parametrize(("caller", "status"), [("auditor", 403), ("nobody", 401)])
def test_others_may_not_revise(
    server: ThreadedServer, importer: Importer, site: str, caller: str, status: int
) -> None:
    batch_id = started(importer, f"Ann,Lee,ann-at-{site},")
    as_ = token(AUDITOR) if caller == "auditor" else None

    with unchanged(server, importer, batch_id):
        response = server.api.upload(
            REVISE,
            csv_file(f"1,Ann,Lee,ann@{site},", header=HEADER),
            variables={"batchId": batch_id},
            as_=as_,
        )

    assert response.status_code == status
    assert error_codes(response.json()) == ["FORBIDDEN" if status == 403 else "UNAUTHENTICATED"]


def test_revisions_and_corrections_sent_at_once_all_go_through(
    server: ThreadedServer, site: str
) -> None:
    """Six rows share one email; three files and three corrections at the same moment each
    fix one row or add one: they clash on the batch's version and are tried again."""
    batch_id = started(Importer(server.api), *(f"P,No{n},same@{site}," for n in range(1, 7)))
    ready = threading.Barrier(6)

    def send(number: int) -> str:
        api = Api(server.base_url)
        try:
            importer = Importer(api)
            ready.wait()
            if number % 2:
                return str(
                    importer.update_row(batch_id, number, **person(site, number))["__typename"]
                )
            lines = [
                f"{number},P,No{number},p{number}@{site},",
                f",New,No{number},n{number}@{site},",
            ]
            return str(importer.revise(batch_id, csv_file(*lines, header=HEADER))["__typename"])
        finally:
            api.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(send, range(1, 7)))

    assert results == ["ImportRow", "ImportBatch"] * 3
    importer = Importer(server.api)
    rows = rows_of(importer, batch_id)
    assert (len(rows), {row["status"] for row in rows.values()}) == (9, {"VALID"})
    assert_counts_match_rows(importer, batch_id)


def person(site: str, number: int) -> dict[str, str]:
    return {"firstName": "P", "lastName": f"No{number}", "email": f"p{number}@{site}"}
