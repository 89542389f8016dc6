"""A corrected file taken back into a batch (`domain.imports.revision`): its reading, and
a revision worked out on the rows around it agreeing with the whole review."""

from __future__ import annotations

import io
import random

import pytest

from domain.errors import InvalidInputError
from domain.imports.edits import work_out
from domain.imports.invalid_file import InvalidFileError, InvalidFileReason
from domain.imports.registered import HeldKeys
from domain.imports.review import ReviewCounts, RowInput
from domain.imports.revision import RevisedLine, Revision, read_revision
from tests.domain.imports.test_edits import (
    BATCH,
    CASES,
    Batch,
    Edit,
    random_held,
    random_row,
    rows,
)

HEADER = "row,first_name,last_name,email,username,errors"


def read(*lines: str, header: str = HEADER) -> list[RevisedLine]:
    content = "".join(line + "\r\n" for line in (header, *lines)).encode("utf-8-sig")
    return read_revision(io.BytesIO(content), max_bytes=1 << 20, max_rows=100)


def refused(error: type[Exception], *lines: str, header: str = HEADER) -> str:
    with pytest.raises(error) as raised:
        read(*lines, header=header)
    return str(raised.value)


# ---------------------------------------------------------------- reading


def test_numbered_lines_replace_rows_and_the_others_are_new() -> None:
    lines = read("3,Ann,Lee,ann@acme.com,,email: fix it", ",Bob,Ray,bob@acme.com,bob,")

    assert lines == [
        RevisedLine(2, 3, RowInput("Ann", "Lee", "ann@acme.com", None)),
        RevisedLine(3, None, RowInput("Bob", "Ray", "bob@acme.com", "bob")),
    ]


def test_the_error_reports_former_row_number_heading_is_taken() -> None:
    [line] = read("7,Ann,Lee,ann@acme.com,", header="Row Number,first_name,last_name,email")

    assert line.number == 7


def test_a_file_with_row_and_row_number_is_unexpected_columns() -> None:
    with pytest.raises(InvalidFileError) as raised:
        read("1,1,Ann,Lee,a@acme.com", header="row,row_number,first_name,last_name,email")

    assert raised.value.reason is InvalidFileReason.UNEXPECTED_COLUMNS
    assert raised.value.unexpected_columns == ["row_number"]


def test_the_reports_escape_of_formula_cells_is_undone() -> None:
    [line] = read("1,'=SUM(A1),'  -1,ann@acme.com,'@ann,")

    assert line.row == RowInput("=SUM(A1)", "  -1", "ann@acme.com", "@ann")


def test_an_apostrophe_that_the_report_did_not_add_is_kept() -> None:
    [line] = read("1,'Ann,O'Brien,ann@acme.com,,")

    assert (line.row.first_name, line.row.last_name) == ("'Ann", "O'Brien")


def test_blank_lines_are_no_rows_and_a_file_of_them_is_empty() -> None:
    assert [line.line for line in read(",,,,,", "1,Ann,Lee,a@acme.com,,", ",,,,,")] == [3]
    with pytest.raises(InvalidFileError) as raised:
        read(",,,,,x", "")
    assert raised.value.reason is InvalidFileReason.EMPTY


@pytest.mark.parametrize("given", ["two", "1.5", "-1", "\uff11"])
def test_a_row_value_that_is_no_number_is_refused_naming_its_line(given: str) -> None:
    message = refused(InvalidInputError, "1,Ann,Lee,a@acme.com,,", f"{given},Bob,Ray,b@acme.com,,")

    assert message.startswith(f"Line 3: '{given}' in the row column is not a row number.")


def test_a_row_number_longer_than_any_batch_is_an_unknown_row() -> None:
    with pytest.raises(InvalidInputError) as raised:
        read(f"{'9' * 5000},Ann,Lee,a@acme.com,,")

    assert raised.value.code == "UNKNOWN_ROW"
    assert str(raised.value).startswith(f"Line 2: there is no row {'9' * 20}… in this import.")


def test_a_row_given_twice_is_refused_naming_both_lines() -> None:
    message = refused(
        InvalidInputError, "2,Ann,Lee,a@acme.com,,", ",Bo,Ng,b@acme.com,,", "2,Cy,Ng,c@acme.com,,"
    )

    assert message.startswith("Line 4: row 2 is given again (line 2 gives it already).")


def test_a_fault_of_the_file_comes_before_a_fault_of_a_row_number() -> None:
    with pytest.raises(InvalidFileError) as raised:
        read("x,Ann,Lee,a@acme.com,,", '1,"Ann,Lee,a@acme.com,,')

    assert raised.value.reason is InvalidFileReason.MALFORMED


@pytest.mark.parametrize("number", [0, 4])
def test_a_row_the_batch_lacks_is_refused_naming_its_line(number: int) -> None:
    lines = read("1,Ann,Lee,a@acme.com,,", f"{number},Bob,Ray,b@acme.com,,")

    with pytest.raises(InvalidInputError) as raised:
        Revision.of(lines, 3)

    assert (raised.value.code, raised.value.field) == ("UNKNOWN_ROW", "file")
    assert str(raised.value).startswith(f"Line 3: there is no row {number} in this import")


# ---------------------------------------------------------------- worked out around the file


def check_random_revision(seed: int) -> None:
    """A random batch, then a random revision of some rows with some added: worked out on
    the rows around the file, the changes and counts are the whole review's."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    total = rng.randint(1, 12)
    registered = random_held(rng)
    batch = Batch({n: random_row(rng) for n in range(1, total + 1)}, registered)
    excluded = rng.sample(range(1, total + 1), rng.randint(0, min(2, total)))
    if excluded:
        batch.edit(Edit("exclude", tuple(excluded)), registered)
    numbers = rng.sample(range(1, total + 1), rng.randint(0, min(4, total)))
    lines = [RevisedLine(i + 2, n, random_row(rng)) for i, n in enumerate(numbers)]
    lines += [RevisedLine(0, None, random_row(rng)) for _ in range(rng.randint(0, 3))]
    if not lines:
        return
    revision = Revision.of(lines, total)

    before = dict(batch.whole.results())
    revision.take_in(batch.whole, registered)
    changed = {n for n, result in batch.whole.results() if before.get(n) != result}
    outcome = work_out(
        batch.table,
        BATCH,
        batch.counts,
        revision.replaced,
        lambda review: revision.take_in(review, registered),
        new_keys=revision.keys(),
    )

    assert outcome.changes == {n: batch.whole.result(n) for n in sorted(changed)}, seed
    assert outcome.counts == batch.whole.counts(), seed


def test_revisions_worked_out_around_the_files_rows_agree_with_the_whole_review() -> None:
    for seed in range(CASES):
        check_random_revision(seed)


def test_an_added_row_that_duplicates_an_untouched_row_changes_it() -> None:
    batch = Batch(rows("ann@acme.com", "bob@acme.com"), HeldKeys())
    revision = Revision.of([RevisedLine(2, None, RowInput("Cy", "Ng", "BOB@acme.com"))], 2)

    outcome = work_out(
        batch.table,
        BATCH,
        batch.counts,
        revision.replaced,
        lambda review: revision.take_in(review, HeldKeys()),
        new_keys=revision.keys(),
    )

    assert set(outcome.changes) == {2, 3}
    assert outcome.counts == ReviewCounts(valid=1, invalid=2, excluded=0)
