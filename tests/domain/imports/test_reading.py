"""Reading an upload as rows: numbers and lines, quoting, line ends, empty rows and
columns, the limits, and streaming."""

from __future__ import annotations

import io
import tempfile
import tracemalloc
from collections.abc import Iterator

import pytest

from domain.imports.columns import ColumnSet
from domain.imports.reading import (
    CHUNK_BYTES,
    MAX_BYTES,
    MAX_LINE_CHARS,
    MAX_ROWS,
    CsvRow,
    InvalidFileError,
    InvalidFileReason,
    open_csv,
    read_rows,
)
from tests.domain.imports.uploads import HEADER, CountingStream, read, refusal, upload, values

# ---------------------------------------------------------------- rows


def test_a_row_has_every_template_column_by_name() -> None:
    data = upload(HEADER + ",username", "Ann,Lee,ann@example.com,ann")

    assert values(data) == [
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "username": "ann"}
    ]


def test_rows_are_numbered_from_one_without_the_header() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org")

    assert [row.number for row in read(data)] == [1, 2]


def test_a_row_tells_the_physical_line_it_starts_on() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org")

    assert [row.line for row in read(data)] == [2, 3]


def test_cells_are_kept_as_found() -> None:
    data = upload(HEADER, " Ann\u00a0, Lee ,ANN@X.ORG ")

    assert values(data)[0] == {
        "first_name": " Ann\u00a0",
        "last_name": " Lee ",
        "email": "ANN@X.ORG ",
        "username": "",
    }


def test_a_row_with_fewer_cells_than_the_header_has_empty_values() -> None:
    data = upload(HEADER + ",username", "Ann,Lee")

    assert values(data)[0] == {"first_name": "Ann", "last_name": "Lee", "email": "", "username": ""}


def test_a_value_beyond_the_header_is_malformed_and_names_the_line() -> None:
    refused = refusal(upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org,extra"))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 3)
    assert refused.message.startswith("Line 3 has a value in column D")


def test_a_value_under_an_empty_heading_is_malformed() -> None:
    refused = refusal(upload("first_name,,last_name,email", "Ann,x,Lee,ann@x.org"))

    assert refused.reason is InvalidFileReason.MALFORMED
    assert "column B" in refused.message


def test_an_empty_heading_between_columns_is_ignored_when_its_cells_are_empty() -> None:
    data = upload("first_name,,last_name,email", "Ann,,Lee,ann@x.org")

    assert values(data)[0]["last_name"] == "Lee"


def test_the_last_line_needs_no_line_end() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org") + b"Bob,Ray,bob@x.org"

    assert [row.values["first_name"] for row in read(data)] == ["Ann", "Bob"]


def test_blank_lines_before_the_header_are_skipped() -> None:
    data = upload("", ";;", HEADER, "Ann,Lee,ann@x.org")

    assert [(row.number, row.line) for row in read(data)] == [(1, 4)]


# ---------------------------------------------------------------- quoting


def test_a_quoted_cell_may_hold_a_comma() -> None:
    data = upload(HEADER, '"Lee, Ann",Lee,ann@x.org')

    assert values(data)[0]["first_name"] == "Lee, Ann"


def test_a_quoted_cell_may_hold_a_semicolon_in_a_semicolon_file() -> None:
    data = upload("first_name;last_name;email", '"Ann; Mary";Lee;ann@x.org')

    assert values(data)[0]["first_name"] == "Ann; Mary"


def test_a_doubled_quote_in_a_quoted_cell_is_one_quote() -> None:
    data = upload(HEADER, '"Ann ""The Boss""",Lee,ann@x.org')

    assert values(data)[0]["first_name"] == 'Ann "The Boss"'


def test_a_quote_inside_an_unquoted_cell_is_kept() -> None:
    data = upload(HEADER, 'Ann,O"Neil,ann@x.org')

    assert values(data)[0]["last_name"] == 'O"Neil'


def test_a_quoted_cell_may_hold_a_line_break() -> None:
    data = upload(HEADER, 'Ann,"Lee\r\nSmith",ann@x.org')

    assert values(data)[0]["last_name"] == "Lee\r\nSmith"


def test_the_row_after_a_cell_with_line_breaks_tells_its_line() -> None:
    data = upload(HEADER, 'Ann,"Lee\nof\nSmith",ann@x.org', "Bob,Ray,bob@x.org")

    assert [(row.number, row.line) for row in read(data)] == [(1, 2), (2, 5)]


def test_a_quote_that_is_never_closed_is_malformed_naming_the_line_that_opens_it() -> None:
    refused = refusal(upload(HEADER, "Ann,Lee,ann@x.org", 'Bob,"Ray,bob@x.org', "Cy,Po,cy@x.org"))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 3)
    assert refused.message.startswith("Line 3 opens a quoted cell that is never closed")


def test_a_quote_never_closed_in_a_large_file_is_malformed_naming_the_line_that_opens_it() -> None:
    rows = [f"Person{n},Lee,p{n}@x.org" for n in range(20_000)]  # over csv's field limit
    refused = refusal(upload(HEADER, "Ann,Lee,ann@x.org", 'Bob,"Ray,bob@x.org', *rows))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 3)


def test_a_quote_that_is_not_doubled_is_malformed_naming_the_line() -> None:
    refused = refusal(upload(HEADER, "Ann,Lee,ann@x.org", '"Bob "Bobby" Ray",Ray,bob@x.org'))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 3)
    assert refused.message.startswith("Line 3 has a quote inside a quoted cell")


def test_a_broken_quote_in_the_header_is_malformed() -> None:
    refused = refusal(upload('"first_name"x,last_name,email', "Ann,Lee,ann@x.org"))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 1)


def test_a_line_without_end_longer_than_any_row_is_malformed() -> None:
    refused = refusal(upload(HEADER) + b"a" * (MAX_LINE_CHARS + CHUNK_BYTES))

    assert (refused.reason, refused.line) == (InvalidFileReason.MALFORMED, 2)


# ---------------------------------------------------------------- line ends


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_lines_may_end_in_crlf_lf_or_cr(newline: str) -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org", newline=newline)

    assert [(row.line, row.values["email"]) for row in read(data)] == [
        (2, "ann@x.org"),
        (3, "bob@x.org"),
    ]


def test_line_ends_may_be_mixed() -> None:
    data = f"{HEADER}\r\nAnn,Lee,ann@x.org\nBob,Ray,bob@x.org\r\nCy,Po,cy@x.org\n".encode()

    assert [row.line for row in read(data)] == [2, 3, 4]


def test_a_crlf_cut_by_the_end_of_a_chunk_ends_one_line() -> None:
    head = f"{HEADER}\r\nAnn,Lee,"
    email = "a" * (CHUNK_BYTES - len(head) - 1)  # the CR is the last byte of a chunk
    data = upload(HEADER, f"Ann,Lee,{email}", "Bob,Ray,bob@x.org")

    assert [row.line for row in read(data)] == [2, 3]


def test_line_numbers_stay_right_over_many_chunks() -> None:
    rows = [f"Person{n},Lee,p{n}@x.org" for n in range(20_000)]

    last = read(upload(HEADER, *rows, newline="\n"))[-1]

    assert (last.number, last.line, last.values["first_name"]) == (20_000, 20_001, "Person19999")


# ---------------------------------------------------------------- empty rows and columns


def test_a_header_followed_by_empty_rows_only_is_empty() -> None:
    assert refusal(upload(HEADER, "", ",,", "")).reason is InvalidFileReason.EMPTY


def test_trailing_empty_rows_are_ignored() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "", ",,", " , , ", "")

    assert len(read(data)) == 1


def test_an_empty_row_between_rows_is_a_row_with_empty_values() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "", "Bob,Ray,bob@x.org")

    assert [(row.number, row.line, row.values["email"]) for row in read(data)] == [
        (1, 2, "ann@x.org"),
        (2, 3, ""),
        (3, 4, "bob@x.org"),
    ]


def test_empty_trailing_columns_are_ignored() -> None:
    data = upload("first_name;last_name;email;;;", "Ann;Lee;ann@x.org;;;", "Bob;Ray;bob@x.org")

    assert [row.values["email"] for row in read(data)] == ["ann@x.org", "bob@x.org"]


# ---------------------------------------------------------------- the opened file


def test_an_opened_file_tells_its_columns_in_file_order() -> None:
    opened = open_csv(io.BytesIO(upload("email;First Name;last_name", "a@x.org;Ann;Lee")))

    assert (opened.columns, opened.delimiter) == (("email", "first_name", "last_name"), ";")


def test_read_rows_gives_the_rows_of_open_csv() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org")

    assert list(read_rows(io.BytesIO(data))) == [
        CsvRow(
            1, 2, {"first_name": "Ann", "last_name": "Lee", "email": "ann@x.org", "username": ""}
        )
    ]


def test_a_spooled_upload_is_read_from_its_start() -> None:
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(upload(HEADER, *(f"P{n},Lee,p{n}@x.org" for n in range(100))))
        spooled.seek(0)

        assert len(list(open_csv(spooled))) == 100


def test_the_defaults_are_100_mib_and_a_million_rows() -> None:
    assert (MAX_BYTES, MAX_ROWS) == (100 * 1024 * 1024, 1_000_000)


# ---------------------------------------------------------------- limits


def test_a_file_of_exactly_max_bytes_is_read() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org")

    assert len(read(data, max_bytes=len(data))) == 1


def test_a_stream_that_tells_its_size_is_refused_before_reading() -> None:
    stream = CountingStream(upload(HEADER, "Ann,Lee,ann@x.org"), seekable=True)

    with pytest.raises(InvalidFileError) as refused:
        open_csv(stream, max_bytes=10)

    assert (refused.value.reason, stream.bytes_read) == (InvalidFileReason.TOO_LARGE, 0)


def test_a_stream_that_cannot_tell_its_size_is_read_only_one_byte_past_the_limit() -> None:
    rows = (f"Person{n},Lee,p{n}@x.org" for n in range(50_000))
    stream = CountingStream(upload(HEADER, *rows))
    max_bytes = 3 * CHUNK_BYTES + 10

    with pytest.raises(InvalidFileError) as refused:
        list(open_csv(stream, max_bytes=max_bytes))

    assert refused.value.reason is InvalidFileReason.TOO_LARGE
    assert stream.bytes_read == max_bytes + 1


def test_rows_before_the_size_limit_are_given_before_the_file_is_refused() -> None:
    rows = (f"Person{n},Lee,p{n}@x.org" for n in range(50_000))
    given: list[CsvRow] = []

    with pytest.raises(InvalidFileError, match="larger than"):
        given.extend(open_csv(CountingStream(upload(HEADER, *rows)), max_bytes=4 * CHUNK_BYTES))

    assert given
    assert given[-1].number == len(given)


def test_a_file_of_max_rows_is_read() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org")

    assert len(read(data, max_rows=2)) == 2


def test_the_row_after_max_rows_makes_too_many_rows() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org", "Cy,Po,cy@x.org")
    given: list[CsvRow] = []

    with pytest.raises(InvalidFileError) as refused:
        given.extend(open_csv(io.BytesIO(data), max_rows=2))

    assert (refused.value.reason, len(given)) == (InvalidFileReason.TOO_MANY_ROWS, 2)


def test_trailing_empty_rows_do_not_count_as_rows() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "Bob,Ray,bob@x.org", *[",,"] * 10)

    assert len(read(data, max_rows=2)) == 2


def test_empty_rows_between_rows_count_as_rows() -> None:
    data = upload(HEADER, "Ann,Lee,ann@x.org", "", "", "Bob,Ray,bob@x.org")

    assert refusal(data, max_rows=3).reason is InvalidFileReason.TOO_MANY_ROWS


# ---------------------------------------------------------------- streaming


def test_opening_a_file_reads_only_its_start() -> None:
    stream = CountingStream(upload(HEADER, *(f"P{n},Lee,p{n}@x.org" for n in range(100_000))))

    open_csv(stream)

    assert stream.bytes_read <= 2 * CHUNK_BYTES


def _many_rows(count: int) -> Iterator[str]:
    for n in range(count):
        yield f"Person{n};Müller-Lüdenscheidt;person.{n}@example.org;user{n}"


def test_a_large_file_is_read_in_little_memory() -> None:
    data = upload("first_name;last_name;email;username", *_many_rows(200_000))
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        count = sum(1 for _ in open_csv(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert peak < 5 * 1024 * 1024  # the file is over 12 MB; a chunk is 64 KiB


# ---------------------------------------------------------------------- other kinds of file

HISTORY = ColumnSet(
    ("first_name", "last_name", "email", "username", "status", "created_at"),
    mandatory=("first_name", "last_name", "email", "status", "created_at"),
)


def test_a_file_of_another_kind_is_read_by_its_own_columns() -> None:
    data = upload(
        "First Name;Last Name;Email;Status;Created At", "Ann;Lee;ann@acme.com;BLOCKED;2019-04-01"
    )

    [row] = open_csv(io.BytesIO(data), columns=HISTORY)

    assert row.values == {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@acme.com",
        "username": "",
        "status": "BLOCKED",
        "created_at": "2019-04-01",
    }


def test_a_file_of_another_kind_needs_its_own_mandatory_columns() -> None:
    with pytest.raises(InvalidFileError) as refused:
        open_csv(io.BytesIO(upload(HEADER, "Ann,Lee,ann@acme.com")), columns=HISTORY)

    assert refused.value.reason is InvalidFileReason.MISSING_COLUMNS
    assert refused.value.missing_columns == ["status", "created_at"]
    assert "status and created_at" in refused.value.message


def test_the_template_still_refuses_the_columns_of_another_kind() -> None:
    assert refusal(
        upload(HEADER + ",status", "Ann,Lee,ann@acme.com,ACTIVE")
    ).unexpected_columns == ["status"]
