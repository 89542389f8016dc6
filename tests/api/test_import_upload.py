"""Step 3 over HTTP: uploading a file with startImport and reading it into the review.

The reader's cases are tested one by one in tests/domain/imports/; here each outcome is
followed to the API user: a file refused as InvalidFile (with a message to act on, and
nothing stored), the forms and encodings people save read into the same review rows,
every row error in the review under its column, and a large file read in the background
with the same results as a small one read at once.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import UPLOAD_MARGIN_BYTES
from settings import Settings
from tests.api.importing import START, Importer, csv_file, people
from tests.api.operations import Administrator, error_codes, event_count, store_for_module
from tests.support import AUDITOR, VIEWER, ThreadedServer, token

#: The limits of the `small` server: a few KiB and a few rows.
SMALL_BYTES = 4096
SMALL_ROWS = 5
BATCHES = "{ importBatches { edges { cursor node { id } } } }"
TEMPLATE = "first_name,last_name,email,username"
BOUNDARY = "roster-upload-boundary"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """One server for the tests whose outcome does not depend on what others stored."""
    with served(tmp_path_factory.mktemp("upload"), {}) as running:
        yield running


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    limits = {"ROSTER_MAX_UPLOAD_BYTES": str(SMALL_BYTES), "ROSTER_MAX_ROWS": str(SMALL_ROWS)}
    with served(tmp_path_factory.mktemp("small"), limits) as running:
        yield running


@contextmanager
def served(workdir: Path, extra: dict[str, str]) -> Iterator[ThreadedServer]:
    with store_for_module(workdir) as env, ThreadedServer(Settings.from_env({**env, **extra})) as s:
        yield s


# ---------------------------------------------------------------- helpers


def batch_ids(importer: Importer) -> list[str]:
    data = importer.api.data(BATCHES, as_=importer.token)
    return [edge["node"]["id"] for edge in data["importBatches"]["edges"]]


@contextmanager
def nothing_stored(importer: Importer) -> Iterator[None]:
    """Asserts that what runs inside makes no batch and writes no event."""
    batches, events = batch_ids(importer), event_count(importer.api)
    yield
    assert batch_ids(importer) == batches
    assert event_count(importer.api) == events


def refused(importer: Importer, content: bytes) -> dict[str, Any]:
    """The InvalidFile that startImport answers to `content`, having stored nothing."""
    with nothing_stored(importer):
        result = importer.start(content)
    assert result["__typename"] == "InvalidFile", result
    assert result["code"] == "INVALID_FILE"
    assert_actionable(result["message"])
    return result


def assert_actionable(message: str) -> None:
    """One sentence that tells the person what to do, with nothing of the code in it."""
    assert is_sentence(message), message
    assert "upload" in message, message
    assert not any(word in message for word in ("Error", "csv.", "\\x", "Traceback")), message


def is_sentence(message: str) -> bool:
    return message[:1].isupper() and message.endswith(".")


def review(importer: Importer, content: bytes) -> list[dict[str, Any]]:
    """The review rows of a file that must be accepted."""
    return importer.row_nodes(importer.started(content)["id"])


def values(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str | None]]:
    return [(r["firstName"], r["lastName"], r["email"], r["username"]) for r in rows]


def errors(row: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["column"], error["code"]) for error in row["errors"]]


def padded(size: int) -> bytes:
    """A file of one valid row, exactly `size` bytes long (spaces after the first name)."""
    short = csv_file("Ann,Lee,ann@acme.com,")
    return csv_file("Ann" + " " * (size - len(short)) + ",Lee,ann@acme.com,")


def multipart(content: bytes, filename: bytes) -> bytes:
    """A GraphQL multipart request for startImport, with the file part's name as given:
    httpx would percent-encode control characters, as browsers do."""
    operations = json.dumps({"query": START, "variables": {"file": None}}).encode()
    parts = [
        (b'name="operations"', operations),
        (b'name="map"', b'{"0": ["variables.file"]}'),
        (b'name="0"; filename="' + filename + b'"\r\nContent-Type: text/csv', content),
    ]
    return (
        b"".join(
            b"--%s\r\nContent-Disposition: form-data; %s\r\n\r\n%s\r\n" % (BOUNDARY.encode(), h, c)
            for h, c in parts
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )


def post_multipart(importer: Importer, body: bytes | Iterator[bytes]) -> httpx.Response:
    return importer.api.http.post(
        "/graphql",
        content=body,
        headers={
            "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            "authorization": f"Bearer {importer.token}",
        },
    )


# ---------------------------------------------------------------- files refused


@pytest.mark.parametrize(
    ("content", "reason", "says"),
    [
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "NOT_CSV", "Excel", id="xlsx"),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)), "NOT_CSV", "PDF", id="pdf"),
        pytest.param(b"first_name\x00,last\x00\x01\x02", "NOT_CSV", "binary", id="binary"),
        pytest.param(b"", "EMPTY", "empty", id="empty-file"),
        pytest.param(codecs.BOM_UTF8 + b"\r\n \r\n", "EMPTY", "empty", id="blank-lines"),
        pytest.param(csv_file(), "EMPTY", "no users", id="header-only"),
        pytest.param(csv_file(",,,", ",,,"), "EMPTY", "no users", id="empty-rows"),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,") + "Jürgen,Roß,j@acme.com,\r\n".encode("cp1252"),
            "UNREADABLE_ENCODING",
            "Line 3",
            id="utf8-then-cp1252",
        ),
        pytest.param(
            codecs.BOM_UTF16_LE + TEMPLATE.encode("utf-16-le") + b"\r",
            "UNREADABLE_ENCODING",
            "utf-16-le",
            id="truncated-utf16",
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,", 'Bob,"Ray,bob@acme.com,'),
            "MALFORMED",
            "Line 3 opens a quoted cell",
            id="unclosed-quote",
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,", 'Bob,"Ra"y",bob@acme.com,'),
            "MALFORMED",
            "Line 3 has a quote",
            id="undoubled-quote",
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,,x"),
            "MALFORMED",
            "Line 2 has a value in column E",
            id="value-without-heading",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason(
    server: ThreadedServer, content: bytes, reason: str, says: str
) -> None:
    result = refused(Importer(server.api), content)

    assert result["reason"] == reason
    assert says in result["message"]
    assert (result["missingColumns"], result["unexpectedColumns"]) == ([], [])


def test_a_missing_mandatory_column_is_named(server: ThreadedServer) -> None:
    result = refused(Importer(server.api), csv_file("Ann,ann@acme.com", header="First Name,Email"))

    assert result["reason"] == "MISSING_COLUMNS"
    assert result["missingColumns"] == ["last_name"]
    assert result["unexpectedColumns"] == []
    assert "last_name" in result["message"]


def test_missing_and_unexpected_columns_are_both_listed(server: ThreadedServer) -> None:
    result = refused(Importer(server.api), csv_file("Ann Lee,ann@acme.com", header="Name,Email"))

    assert result["reason"] == "MISSING_COLUMNS"
    assert result["missingColumns"] == ["first_name", "last_name"]
    assert result["unexpectedColumns"] == ["Name"]
    assert "'Name'" in result["message"]


def test_a_column_the_template_does_not_have_is_named(server: ThreadedServer) -> None:
    content = csv_file("Ann,Lee,ann@acme.com,555,Sales", header=f"{TEMPLATE},Phone, Department ")

    result = refused(Importer(server.api), content)

    assert result["reason"] == "UNEXPECTED_COLUMNS"
    assert result["unexpectedColumns"] == ["Phone", "Department"]
    assert result["missingColumns"] == []
    assert "'Phone' and 'Department' columns" in result["message"]


def test_an_error_deep_in_a_file_read_in_the_background_creates_no_batch(
    server: ThreadedServer,
) -> None:
    rows = [f"Person,No{n},person.{n}@deep.acme.com," for n in range(1, 6_001)]
    rows[4_998] = 'Person,"No"4999",person.4999@deep.acme.com,'  # line 5,000
    assert len(rows) > server.settings.import_inline_rows

    result = refused(Importer(server.api), csv_file(*rows))

    assert result["reason"] == "MALFORMED"
    assert "Line 5000 " in result["message"]


def test_a_file_over_the_largest_size_is_refused_as_too_large(small: ThreadedServer) -> None:
    result = refused(Importer(small.api), padded(SMALL_BYTES + 1))

    assert result["reason"] == "TOO_LARGE"
    assert "4,096 bytes" in result["message"]


def test_a_file_of_exactly_the_largest_size_is_accepted(small: ThreadedServer) -> None:
    batch = Importer(small.api).started(padded(SMALL_BYTES))

    assert (batch["progress"]["total"], batch["progress"]["valid"]) == (1, 1)


def test_an_upload_far_over_the_largest_size_gets_413(small: ThreadedServer) -> None:
    importer = Importer(small.api)
    with nothing_stored(importer):
        response = small.api.upload(
            START, padded(SMALL_BYTES + UPLOAD_MARGIN_BYTES + 1), as_=importer.token
        )

    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
    assert_actionable(response.json()["errors"][0]["message"])


def test_a_streamed_upload_far_over_the_largest_size_gets_413(small: ThreadedServer) -> None:
    importer = Importer(small.api)
    body = multipart(padded(SMALL_BYTES + UPLOAD_MARGIN_BYTES + 1), b"people.csv")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield from (body[start : start + 65_536] for start in range(0, len(body), 65_536))

    with nothing_stored(importer):
        response = post_multipart(importer, chunks())

    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


def test_a_file_over_the_most_rows_is_refused(small: ThreadedServer) -> None:
    result = refused(Importer(small.api), people(SMALL_ROWS + 1))

    assert result["reason"] == "TOO_MANY_ROWS"
    assert "more than 5 rows" in result["message"]


def test_trailing_empty_rows_do_not_count_towards_the_most_rows(small: ThreadedServer) -> None:
    content = people(SMALL_ROWS) + b",,,\r\n\r\n,,,\r\n"

    batch = Importer(small.api).started(content)

    assert batch["progress"]["total"] == SMALL_ROWS


# ---------------------------------------------------------------- what is read


JOSE = ("José", "Müller", "jose@acme.com", None)
FRANCOISE = ("Françoise", "Brontë", "francoise@acme.com", "fbronte")
LATIN = ["José,Müller,jose@acme.com,", "Françoise,Brontë,francoise@acme.com,fbronte"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(csv_file(*LATIN, encoding="utf-8"), id="utf-8"),
        pytest.param(csv_file(*LATIN, encoding="utf-8-sig"), id="utf-8-bom"),
        pytest.param(codecs.BOM_UTF16_LE + csv_file(*LATIN, encoding="utf-16-le"), id="utf-16-le"),
        pytest.param(codecs.BOM_UTF16_BE + csv_file(*LATIN, encoding="utf-16-be"), id="utf-16-be"),
        pytest.param(csv_file(*LATIN, encoding="cp1252"), id="cp1252"),
    ],
)
def test_accents_are_read_in_every_encoding_spreadsheets_save(
    server: ThreadedServer, content: bytes
) -> None:
    assert values(review(Importer(server.api), content)) == [JOSE, FRANCOISE]


ANN = ("Ann", "Lee", "ann@acme.com", None)
BOB = ("Bob", "Ray", "bob@acme.com", "bray")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"first_name;last_name;email;username\r\nAnn;Lee;ann@acme.com;\r\n"
            b"Bob;Ray;bob@acme.com;bray\r\n",
            [ANN, BOB],
            id="semicolons",
        ),
        pytest.param(
            b"first_name\tlast_name\temail\r\nAnn\tLee\tann@acme.com\r\n",
            [ANN],
            id="tabs",
        ),
        pytest.param(
            csv_file('"Lee, Ann","O""Brien",ann@acme.com,', '"Mary\r\nJane",Ray,"bob@acme.com",'),
            [
                ("Lee, Ann", 'O"Brien', "ann@acme.com", None),
                ("Mary\r\nJane", "Ray", "bob@acme.com", None),
            ],
            id="quoted-cells",
        ),
        pytest.param(
            f"{TEMPLATE}\nAnn,Lee,ann@acme.com,\nBob,Ray,bob@acme.com,bray\n".encode(),
            [ANN, BOB],
            id="lf",
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,", "Bob,Ray,bob@acme.com,bray"), [ANN, BOB], id="crlf"
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com,", ",,,", "", ",,,,,,"),
            [ANN],
            id="trailing-empty-rows",
        ),
        pytest.param(
            b"first_name;last_name;email;;;\r\nAnn;Lee;ann@acme.com;;;\r\n;;;;;\r\n",
            [ANN],
            id="trailing-empty-columns",
        ),
        pytest.param(
            csv_file("bray,bob@acme.com,Ray,Bob", header="USER-NAME, EMAIL ,last-name,First Name"),
            [BOB],
            id="header-forms-in-any-order",
        ),
        pytest.param(
            csv_file("Ann,Lee,ann@acme.com", header=" first-name ,Last_Name,Email"),
            [ANN],
            id="no-username-column",
        ),
    ],
)
def test_the_forms_people_save_are_read_into_the_review(
    server: ThreadedServer, content: bytes, expected: list[tuple[str, str, str, str | None]]
) -> None:
    assert values(review(Importer(server.api), content)) == expected


def test_the_review_shows_values_trimmed_and_normalised(server: ThreadedServer) -> None:
    content = csv_file("\u00a0 Jose\u0301 ,  Lee\u00a0, ann@acme.com\t, ann.lee ")

    [row] = review(Importer(server.api), content)

    assert values([row]) == [("Jos\u00e9", "Lee", "ann@acme.com", "ann.lee")]
    assert (row["status"], row["errors"]) == ("VALID", [])


# ---------------------------------------------------------------- row errors

LONG = "x" * 101


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(",Lee,a@acme.com,", [("first_name", "REQUIRED")], id="no-first-name"),
        pytest.param("Ann, ,a@acme.com,", [("last_name", "REQUIRED")], id="no-last-name"),
        pytest.param("Ann,Lee,,", [("email", "REQUIRED")], id="no-email"),
        pytest.param("Ann,Lee,ann.acme.com,", [("email", "INVALID_EMAIL")], id="bad-email"),
        pytest.param(f"{LONG},Lee,a@acme.com,", [("first_name", "TOO_LONG")], id="long-name"),
        pytest.param(f"Ann,Lee,{'a' * 250}@acme.com,", [("email", "TOO_LONG")], id="long-email"),
        pytest.param(f"Ann,Lee,a@acme.com,{LONG}", [("username", "TOO_LONG")], id="long-user"),
        pytest.param("=SUM(A1),Lee,a@acme.com,", [("first_name", "UNSAFE_VALUE")], id="="),
        pytest.param("Ann,+1 555,a@acme.com,", [("last_name", "UNSAFE_VALUE")], id="+"),
        pytest.param("-Ann,Lee,a@acme.com,", [("first_name", "UNSAFE_VALUE")], id="-"),
        pytest.param("Ann,Lee,a@acme.com,@ann", [("username", "UNSAFE_VALUE")], id="@"),
        pytest.param("An\x07n,Lee,a@acme.com,", [("first_name", "UNSAFE_VALUE")], id="control"),
        pytest.param(
            "Ann,Lee,a@acme.com,ann lee!", [("username", "INVALID_USERNAME")], id="bad-username"
        ),
        pytest.param(
            ",=Lee,ann.acme.com,ann lee",
            [
                ("first_name", "REQUIRED"),
                ("last_name", "UNSAFE_VALUE"),
                ("email", "INVALID_EMAIL"),
                ("username", "INVALID_USERNAME"),
            ],
            id="several",
        ),
    ],
)
def test_a_row_error_is_shown_under_its_column(
    server: ThreadedServer, row: str, expected: list[tuple[str, str]]
) -> None:
    [shown] = review(Importer(server.api), csv_file(row))

    assert shown["status"] == "INVALID"
    assert errors(shown) == expected
    for error in shown["errors"]:
        assert is_sentence(error["message"]), error


def test_rows_that_share_an_email_are_all_flagged_and_name_each_other(
    server: ThreadedServer,
) -> None:
    content = csv_file(
        "Ann,Lee,ann@dup.acme.com,",
        "Bob,Ray,bob@dup.acme.com,",
        "Ann,Lee,ANN@dup.acme.com,",
        "Ann,Lee,Ann@Dup.Acme.com,",
    )

    rows = review(Importer(server.api), content)

    assert [(row["status"], errors(row)) for row in rows] == [
        ("INVALID", [("email", "DUPLICATE_IN_FILE")]),
        ("VALID", []),
        ("INVALID", [("email", "DUPLICATE_IN_FILE")]),
        ("INVALID", [("email", "DUPLICATE_IN_FILE")]),
    ]
    messages = [row["errors"][0]["message"] for row in rows if row["errors"]]
    assert [m.split(" also")[0] for m in messages] == [
        "Rows 3 and 4",
        "Rows 1 and 4",
        "Rows 1 and 3",
    ]


def test_rows_that_share_a_username_are_flagged(server: ThreadedServer) -> None:
    content = csv_file("Ann,Lee,ann@user.acme.com,ann.lee", "Ann,Lee,al@user.acme.com,ANN.Lee")

    rows = review(Importer(server.api), content)

    assert [errors(row) for row in rows] == [[("username", "DUPLICATE_IN_FILE")]] * 2
    assert rows[0]["errors"][0]["message"].startswith("Row 2 also has the username")
    assert rows[1]["errors"][0]["message"].startswith("Row 1 also has the username")


def test_a_registered_email_is_existing_and_a_registered_username_is_taken(
    server: ThreadedServer,
) -> None:
    Administrator(server.api).register("Tom", "Kay", "tom@taken.acme.com", username="tom.kay")
    content = csv_file("Tom,Kay,TOM@taken.acme.com,", "Tom,Kay,other@taken.acme.com,Tom.Kay")

    rows = review(Importer(server.api), content)

    assert [(row["status"], errors(row)) for row in rows] == [
        ("EXISTING", []),
        ("INVALID", [("username", "USERNAME_TAKEN")]),
    ]


def test_rows_filtered_by_status_and_the_progress_add_up(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    content = csv_file(
        "Ann,Lee,ann@count.acme.com,",
        ",Ray,bob@count.acme.com,",
        "Cy,Ng,cy@count.acme.com,",
        "Di,Wu,not-an-email,",
        "Ed,Ox,ed@count.acme.com,",
    )

    batch = importer.started(content)

    invalid = importer.rows(batch["id"], "INVALID")
    assert [edge["node"]["rowNumber"] for edge in invalid["edges"]] == [2, 4]
    assert invalid["totalCount"] == 2
    assert importer.rows(batch["id"], "VALID")["totalCount"] == 3
    assert importer.rows(batch["id"], "VALID", "INVALID")["totalCount"] == 5
    progress = batch["progress"]
    assert (progress["valid"], progress["invalid"], progress["excluded"]) == (3, 2, 0)
    assert progress["total"] == progress["validated"] == 5
    assert (progress["processed"], progress["created"], progress["failed"]) == (0, 0, 0)


# ---------------------------------------------------------------- the batch


def test_a_large_file_is_read_in_the_background_with_the_same_results(
    server: ThreadedServer, env: dict[str, str]
) -> None:
    # Without a worker running, startImport's answer cannot race the reading.
    extra = {"ROSTER_IMPORT_INLINE_ROWS": "10", "ROSTER_IMPORT_WORKER": "off"}
    rows = [f"Person,No{n},person.{n}@large.acme.com," for n in range(1, 31)]
    rows[4] = ",No5,PERSON.1@large.acme.com,=5"
    rows[9] = "Tom,Kay,tom@large.acme.com,"
    content = csv_file(*rows)
    small_file = Importer(server.api)
    Administrator(server.api).register("Tom", "Kay", "tom@large.acme.com")
    read_at_once = small_file.started(content)
    with ThreadedServer(Settings.from_env({**env, **extra})) as deferring:
        Administrator(deferring.api).register("Tom", "Kay", "tom@large.acme.com")
        large_file = Importer(deferring.api)

        started = large_file.start(content)
        assert (started["__typename"], started["status"]) == ("ImportBatch", "VALIDATING")
        deferring.app.state.services.worker.start()
        read_later = large_file.wait_for(started["id"], "IN_REVIEW")

        assert large_file.row_nodes(started["id"]) == small_file.row_nodes(read_at_once["id"])
    counts = ("total", "validated", "valid", "invalid", "excluded")
    # Rows 1 and 5 share an email; row 10 is Tom, who is registered (EXISTING).
    assert [read_later["progress"][n] for n in counts] == [30, 30, 27, 2, 0]
    assert [read_at_once["progress"][n] for n in counts] == [30, 30, 27, 2, 0]


def test_the_batch_is_created_by_the_tokens_subject(server: ThreadedServer) -> None:
    importer = Importer(server.api, as_=token(VIEWER, subject="ops-42"))

    batch = importer.started(people(1))

    assert batch["createdBy"] == "ops-42"


def test_the_filename_is_kept_without_its_directories(server: ThreadedServer) -> None:
    batch = Importer(server.api).start(people(1), filename="C:\\Users\\me\\people.csv")

    assert batch["filename"] == "people.csv"


def test_control_characters_are_removed_from_the_filename(server: ThreadedServer) -> None:
    importer = Importer(server.api)

    response = post_multipart(importer, multipart(people(1), b"peo\x07ple\x1b.csv"))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["startImport"]["filename"] == "people.csv"


def test_an_upload_without_a_token_is_unauthenticated(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    with nothing_stored(importer):
        response = server.api.upload(START, people(1))

    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_an_auditor_may_not_upload(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    with nothing_stored(importer):
        response = server.api.upload(START, people(1), as_=token(AUDITOR))

    assert error_codes(response.json()) == ["FORBIDDEN"]
