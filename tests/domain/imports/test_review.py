"""The review of an import: each row checked with createUser's rules, duplicates within
the file, keys registered already, and the reviewer's corrections and exclusions."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Sequence

import pytest
from graphql import GraphQLEnumType, build_schema

from domain.errors import InvalidInputError
from domain.imports.registered import HeldKeys
from domain.imports.review import CHUNK_ROWS, Review, ReviewCounts, RowResult, RowStatus
from domain.imports.rows import CleanRow, RowInput, check_columns, check_row, neutralised
from domain.uniqueness import KeyKind, UniqueKeys
from tests.api.operations import CONTRACT


class RegisteredUsers:
    """Keys registered already; remembers every question asked of it."""

    def __init__(self, emails: Iterable[str] = (), usernames: Iterable[str] = ()) -> None:
        self.held = {KeyKind.EMAIL: set(emails), KeyKind.USERNAME: set(usernames)}
        self.questions: list[tuple[KeyKind, list[str]]] = []

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        self.questions.append((kind, list(keys)))
        return self.held[kind].intersection(keys)


def row(
    first_name: str = "Ann",
    last_name: str = "Lee",
    email: str = "ann@acme.com",
    username: str | None = None,
) -> RowInput:
    return RowInput(first_name, last_name, email, username)


def numbered(rows: Iterable[RowInput]) -> Iterator[tuple[int, RowInput]]:
    return enumerate(rows, start=1)


def review_of(*rows: RowInput, registered: UniqueKeys | None = None) -> Review:
    review = Review()
    review.add(numbered(rows), RegisteredUsers() if registered is None else registered)
    return review


def codes(result: RowResult) -> list[tuple[str | None, str]]:
    return [(error.column, error.code) for error in result.errors]


def row_codes(typed: RowInput) -> list[tuple[str | None, str]]:
    return [(error.column, error.code) for error in check_row(typed)[1]]


def messages(result: RowResult) -> list[str]:
    return [error.message for error in result.errors]


def emails(count: int) -> list[RowInput]:
    return [row(email=f"user{n}@acme.com") for n in range(1, count + 1)]


# ---------------------------------------------------------------- one row


def test_a_row_without_faults_keeps_its_values() -> None:
    assert check_row(row(username="ann.lee")) == (
        CleanRow("Ann", "Lee", "ann@acme.com", "ann.lee"),
        [],
    )


def test_values_are_trimmed_of_spaces_and_no_break_spaces() -> None:
    kept, _ = check_row(row(" Ann\u00a0", "\u00a0Lee ", " ann@acme.com\u00a0", "\u00a0ann "))

    assert kept == CleanRow("Ann", "Lee", "ann@acme.com", "ann")


def test_values_are_nfc_normalised() -> None:
    kept, _ = check_row(row(first_name="Jose\u0301"))

    assert kept is not None
    assert kept.first_name == "Jos\u00e9"


def test_a_blank_username_cell_means_no_username() -> None:
    assert check_row(row(username=" \u00a0 ")) == (CleanRow("Ann", "Lee", "ann@acme.com", None), [])


@pytest.mark.parametrize(
    ("typed", "column"),
    [
        (row(first_name=" "), "first_name"),
        (row(last_name=""), "last_name"),
        (row(email="\u00a0"), "email"),
    ],
    ids=["first_name", "last_name", "email"],
)
def test_a_blank_mandatory_value_is_required(typed: RowInput, column: str) -> None:
    assert row_codes(typed) == [(column, "REQUIRED")]


def test_a_malformed_email_is_an_invalid_email_named_in_the_message() -> None:
    _, errors = check_row(row(email="ann.acme.com"))

    assert [(e.column, e.code) for e in errors] == [("email", "INVALID_EMAIL")]
    assert "ann.acme.com" in errors[0].message


@pytest.mark.parametrize(
    ("typed", "column"),
    [
        (row(first_name="a" * 101), "first_name"),
        (row(last_name="a" * 101), "last_name"),
        (row(email="a" * 250 + "@acme.com"), "email"),
        (row(username="a" * 101), "username"),
    ],
    ids=["first_name", "last_name", "email", "username"],
)
def test_a_value_over_its_length_is_too_long(typed: RowInput, column: str) -> None:
    assert row_codes(typed) == [(column, "TOO_LONG")]


def test_a_username_with_a_space_is_an_invalid_username() -> None:
    assert row_codes(row(username="ann lee")) == [("username", "INVALID_USERNAME")]


def test_control_characters_are_unsafe() -> None:
    assert row_codes(row(last_name="Lee\u202e")) == [("last_name", "UNSAFE_VALUE")]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
@pytest.mark.parametrize("column", ["first_name", "last_name"])
def test_a_name_a_spreadsheet_would_run_as_a_formula_is_unsafe(prefix: str, column: str) -> None:
    names = {"first_name": "Ann", "last_name": "Lee", column: f"{prefix}Ann"}

    assert row_codes(RowInput(email="ann@acme.com", **names)) == [(column, "UNSAFE_VALUE")]


@pytest.mark.parametrize("prefix", ["+", "-", "@"])
def test_a_username_a_spreadsheet_would_run_as_a_formula_is_unsafe(prefix: str) -> None:
    assert row_codes(row(username=f"{prefix}ann")) == [("username", "UNSAFE_VALUE")]


@pytest.mark.parametrize("prefix", ["=", "+", "-"])
def test_an_email_a_spreadsheet_would_run_as_a_formula_is_unsafe(prefix: str) -> None:
    assert row_codes(row(email=f"{prefix}1+2@acme.com")) == [("email", "UNSAFE_VALUE")]


def test_an_email_beginning_with_at_is_an_invalid_email() -> None:
    assert row_codes(row(email="@acme.com")) == [("email", "INVALID_EMAIL")]


@pytest.mark.parametrize("prefix", ["\t", "\r", " \t\u00a0"])
def test_a_formula_behind_a_leading_tab_or_cr_is_unsafe(prefix: str) -> None:
    assert row_codes(row(first_name=f"{prefix}=HYPERLINK(1)")) == [("first_name", "UNSAFE_VALUE")]


@pytest.mark.parametrize("prefix", ["\t", "\r"])
def test_a_leading_tab_or_cr_is_trimmed_away(prefix: str) -> None:
    kept, _ = check_row(row(first_name=f"{prefix}Ann"))

    assert kept is not None
    assert kept.first_name == "Ann"


#: Formulas behind what the review trims: a space, a zero-width space, a BOM, a no-break space.
HIDDEN_FORMULAS = [" =1+1", "\u200b=1+1", "\ufeff@x", "\u00a0-1"]


@pytest.mark.parametrize("typed", HIDDEN_FORMULAS)
def test_a_formula_behind_what_the_review_trims_is_unsafe(typed: str) -> None:
    assert row_codes(row(last_name=typed)) == [("last_name", "UNSAFE_VALUE")]


@pytest.mark.parametrize("typed", HIDDEN_FORMULAS)
def test_a_report_neutralises_a_formula_behind_what_the_review_trims(typed: str) -> None:
    assert neutralised(typed) == "'" + typed


@pytest.mark.parametrize("typed", ["Ann", " Ann", "\u200bAnn", "a=b", "ann@acme.com"])
def test_a_report_leaves_cells_without_a_formula_as_they_are(typed: str) -> None:
    assert neutralised(typed) == typed


def test_a_formula_message_names_the_column_and_the_value() -> None:
    _, errors = check_row(row(last_name="=SUM(A1:A9)"))

    assert errors[0].message == (
        "Remove the leading '=' from the last name '=SUM(A1:A9)': "
        "a spreadsheet would run it as a formula."
    )


def test_every_column_is_checked_after_a_fault() -> None:
    assert row_codes(RowInput("", "=cmd", "ann@", "ann lee")) == [
        ("first_name", "REQUIRED"),
        ("last_name", "UNSAFE_VALUE"),
        ("email", "INVALID_EMAIL"),
        ("username", "INVALID_USERNAME"),
    ]


def test_a_row_with_a_fault_keeps_no_values() -> None:
    assert check_row(row(first_name=""))[0] is None


# ---------------------------------------------------------------- review of a file


def test_row_statuses_are_those_of_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text()).get_type("ImportRowStatus")

    assert isinstance(contract, GraphQLEnumType)
    assert list(contract.values) == [status.value for status in RowStatus]


def test_a_row_without_faults_is_valid_with_its_values() -> None:
    assert review_of(row(username="ann")).result(1) == RowResult(
        RowStatus.VALID, (), CleanRow("Ann", "Lee", "ann@acme.com", "ann")
    )


def test_a_row_with_a_fault_is_invalid_with_its_errors_and_no_values() -> None:
    result = review_of(row(first_name="", email="x")).result(1)

    assert (result.status, codes(result), result.row) == (
        RowStatus.INVALID,
        [("first_name", "REQUIRED"), ("email", "INVALID_EMAIL")],
        None,
    )


def test_results_come_in_row_order() -> None:
    review = Review()
    review.add([(3, row(email="c@acme.com")), (1, row(email="a@acme.com"))], RegisteredUsers())
    review.add([(2, row(email="b@acme.com"))], RegisteredUsers())

    assert [number for number, _ in review.results()] == [1, 2, 3]


def test_a_row_number_is_added_once() -> None:
    review = review_of(row())

    with pytest.raises(ValueError, match="Row 1"):
        review.add([(1, row(email="b@acme.com"))], RegisteredUsers())


def test_counts_follow_the_statuses() -> None:
    review = review_of(row(email="a@acme.com"), row(email="b@acme.com"), row(email="bad"))
    review.exclude([1])

    assert review.counts() == ReviewCounts(valid=1, invalid=1, excluded=1)


# ---------------------------------------------------------------- duplicates in the file


def test_the_same_email_in_any_case_flags_every_row_that_has_it() -> None:
    review = review_of(
        row(email="ana@acme.com"), row(email="Ana@Acme.com"), row(email="ANA@ACME.COM")
    )

    assert [codes(result) for _, result in review.results()] == [
        [("email", "DUPLICATE_IN_FILE")]
    ] * 3


def test_each_duplicate_names_the_other_rows() -> None:
    review = review_of(
        row(email="ana@acme.com"), row(email="Ana@acme.com"), row(email="ana@ACME.com")
    )

    assert messages(review.result(2)) == [
        "Rows 1 and 3 also have the access email Ana@acme.com; "
        "correct or exclude all but one of these rows."
    ]


def test_a_duplicate_of_one_other_row_names_it() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="ana@acme.com"))

    assert messages(review.result(1))[0].startswith("Row 2 also has the access email ana@acme.com")


def test_a_duplicate_names_the_first_five_other_rows_then_how_many_more() -> None:
    review = review_of(*[row(email="ana@acme.com")] * 9)

    assert messages(review.result(3))[0].startswith(
        "Rows 1, 2, 4, 5, 6 and 3 more also have the access email ana@acme.com;"
    )


def test_the_same_given_username_in_any_case_flags_both_rows() -> None:
    review = review_of(
        row(email="a@acme.com", username="ann"), row(email="b@acme.com", username="ANN")
    )

    assert [codes(result) for _, result in review.results()] == [
        [("username", "DUPLICATE_IN_FILE")]
    ] * 2


def test_rows_whose_derived_usernames_match_do_not_clash() -> None:
    review = review_of(row(email="ann@acme.com"), row(email="ann@example.org"))

    assert review.counts() == ReviewCounts(valid=2, invalid=0, excluded=0)


def test_a_given_username_does_not_clash_with_a_derived_one() -> None:
    review = review_of(row(email="ann@acme.com"), row(email="b@acme.com", username="ann"))

    assert review.counts() == ReviewCounts(valid=2, invalid=0, excluded=0)


def test_a_row_with_other_faults_still_clashes_on_its_email() -> None:
    review = review_of(row(email="ana@acme.com"), row(first_name="", email="ana@acme.com"))

    assert codes(review.result(1)) == [("email", "DUPLICATE_IN_FILE")]


# ---------------------------------------------------------------- registered already


def test_an_email_registered_already_is_taken() -> None:
    review = review_of(row(email="Ann@Acme.com"), registered=RegisteredUsers(["ann@acme.com"]))

    assert codes(review.result(1)) == [("email", "EMAIL_TAKEN")]


def test_a_given_username_registered_already_is_taken() -> None:
    review = review_of(row(username="Ann"), registered=RegisteredUsers(usernames=["ann"]))

    assert codes(review.result(1)) == [("username", "USERNAME_TAKEN")]


def test_a_derived_username_is_never_taken() -> None:
    review = review_of(row(email="ann@acme.com"), registered=RegisteredUsers(usernames=["ann"]))

    assert review.result(1).status is RowStatus.VALID


@pytest.mark.parametrize("rows", [3, 300, 1_500])
def test_registered_keys_are_asked_once_per_kind_whatever_the_rows(rows: int) -> None:
    registered = RegisteredUsers()
    review = Review()
    review.add(
        numbered(row(email=f"u{n}@acme.com", username=f"u{n}") for n in range(rows)), registered
    )

    assert [kind for kind, _ in registered.questions] == [KeyKind.EMAIL, KeyKind.USERNAME]


def test_registered_keys_are_asked_once_per_kind_per_chunk() -> None:
    registered = RegisteredUsers()
    Review(chunk_rows=100).add(numbered(emails(1_000)), registered)

    assert len(registered.questions) == 10


def test_rows_without_keys_ask_nothing() -> None:
    registered = RegisteredUsers()
    review_of(row(email="bad"), row(email=""), registered=registered)

    assert registered.questions == []


def test_a_review_replayed_with_the_keys_found_gives_the_same_results() -> None:
    rows = [row(email="taken@acme.com"), row(email="b@acme.com", username="held"), row()]
    live = review_of(*rows, registered=RegisteredUsers(["taken@acme.com"], ["held"]))
    held = HeldKeys.look_up(map(check_columns, rows), RegisteredUsers(["taken@acme.com"], ["held"]))

    assert list(review_of(*rows, registered=held).results()) == list(live.results())


# ---------------------------------------------------------------- corrections


def test_correcting_a_row_validates_it_again() -> None:
    review = review_of(row(email="ann.acme.com"))
    review.update(1, row(email="ann@acme.com"), RegisteredUsers())

    assert review.result(1).status is RowStatus.VALID


def test_correcting_one_of_two_duplicates_clears_the_other() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="ana@acme.com"))

    assert review.update(2, row(email="bea@acme.com"), RegisteredUsers()) == {1, 2}
    assert review.result(1).status is RowStatus.VALID


def test_a_correction_to_another_rows_email_flags_both() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="bea@acme.com"))

    assert review.update(2, row(email="ANA@acme.com"), RegisteredUsers()) == {1, 2}
    assert review.counts() == ReviewCounts(valid=0, invalid=2, excluded=0)


def test_a_correction_updates_the_messages_of_the_rows_still_clashing() -> None:
    review = review_of(*[row(email="ana@acme.com")] * 3)

    assert review.update(3, row(email="bea@acme.com"), RegisteredUsers()) == {1, 2, 3}
    assert messages(review.result(1))[0].startswith("Row 2 also has")


def test_a_correction_leaves_rows_it_never_clashed_with_alone() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="bea@acme.com"), row(email="x"))

    assert review.update(3, row(email="cid@acme.com"), RegisteredUsers()) == {3}


def test_a_correction_that_changes_nothing_changes_no_row() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="ana@acme.com"))

    assert review.update(1, row(email=" ana@acme.com "), RegisteredUsers()) == set()


def test_a_correction_is_checked_against_registered_keys() -> None:
    review = review_of(row())
    review.update(1, row(email="held@acme.com"), RegisteredUsers(["held@acme.com"]))

    assert codes(review.result(1)) == [("email", "EMAIL_TAKEN")]


def test_a_corrected_excluded_row_stays_excluded() -> None:
    review = review_of(row(email="bad"))
    review.exclude([1])
    review.update(1, row(), RegisteredUsers())

    assert review.result(1) == RowResult(RowStatus.EXCLUDED, (), None)


def test_correcting_an_unknown_row_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError) as refused:
        review_of(row()).update(2, row(), RegisteredUsers())

    assert (refused.value.field, refused.value.code) == ("rowNumber", "UNKNOWN_ROW")


# ---------------------------------------------------------------- exclusions


def test_excluding_one_of_two_duplicates_clears_the_other() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="ana@acme.com"))

    assert review.exclude([2]) == {1, 2}
    assert review.result(1).status is RowStatus.VALID


def test_an_excluded_row_keeps_its_own_errors_but_no_duplicates() -> None:
    review = review_of(row(first_name="", email="ana@acme.com"), row(email="ana@acme.com"))
    review.exclude([1])

    assert (review.result(1).status, codes(review.result(1))) == (
        RowStatus.EXCLUDED,
        [("first_name", "REQUIRED")],
    )


def test_including_an_excluded_duplicate_brings_the_clash_back() -> None:
    review = review_of(row(email="ana@acme.com"), row(email="ana@acme.com"))
    review.exclude([2])

    assert review.include([2]) == {1, 2}
    assert review.counts() == ReviewCounts(valid=0, invalid=2, excluded=0)


def test_excluding_an_excluded_row_changes_no_row() -> None:
    review = review_of(row())
    review.exclude([1])

    assert review.exclude([1]) == set()


def test_including_a_row_never_excluded_changes_no_row() -> None:
    assert review_of(row()).include([1]) == set()


def test_counts_follow_exclusions_and_inclusions() -> None:
    review = review_of(*[row(email="ana@acme.com")] * 3, row(email="bea@acme.com"))
    review.exclude([1, 2])

    assert review.counts() == ReviewCounts(valid=2, invalid=0, excluded=2)


@pytest.mark.parametrize("edit", ["exclude", "include"])
def test_an_unknown_row_number_is_invalid_input_naming_its_place(edit: str) -> None:
    review = review_of(row(), row(email="b@acme.com"))

    with pytest.raises(InvalidInputError) as refused:
        getattr(review, edit)([1, 2, 7])

    assert (refused.value.field, refused.value.code) == ("rowNumbers[2]", "UNKNOWN_ROW")


def test_an_exclusion_with_an_unknown_row_excludes_nothing() -> None:
    review = review_of(row())

    with pytest.raises(InvalidInputError):
        review.exclude([1, 7])
    assert review.result(1).status is RowStatus.VALID


# ---------------------------------------------------------------- scale


def test_two_hundred_thousand_rows_are_reviewed_with_bounded_look_ups() -> None:
    rows = 200_000
    registered = RegisteredUsers(["user7@acme.com"])
    review = Review()
    review.add(
        numbered(
            row(email=f"user{n}@acme.com" if n % 1_000 else "ana@acme.com") for n in range(rows)
        ),
        registered,
    )

    assert review.counts() == ReviewCounts(valid=rows - 201, invalid=201, excluded=0)
    assert len(registered.questions) <= 2 * math.ceil(rows / CHUNK_ROWS)


# ---------------------------------------------------------------- edits at random


def registered() -> RegisteredUsers:
    return RegisteredUsers(["bea@acme.com"])


class Edits:
    """Random corrections, exclusions and inclusions of rows 1 to 8, and what they left."""

    def __init__(self, seed: int) -> None:
        self.draw = random.Random(seed)  # noqa: S311 - repeatable edits, no secret
        self.rows = {number: self.random_row() for number in range(1, 9)}
        self.excluded: set[int] = set()

    def random_row(self) -> RowInput:
        emails = ["ana@acme.com", "ANA@acme.com", "bea@acme.com", "bad"]
        usernames = [None, "ann", "ANN", "bob", "=x"]
        return row(email=self.draw.choice(emails), username=self.draw.choice(usernames))

    def apply(self, review: Review) -> Iterator[set[int]]:
        """Yields the rows that each edit says it changed."""
        for _ in range(300):
            numbers = self.draw.sample(range(1, 9), self.draw.randint(1, 3))
            edit = self.draw.choice(["update", "exclude", "include"])
            if edit == "update":
                self.rows[numbers[0]] = self.random_row()
                yield review.update(numbers[0], self.rows[numbers[0]], registered())
            elif edit == "exclude":
                self.excluded.update(numbers)
                yield review.exclude(numbers)
            else:
                self.excluded.difference_update(numbers)
                yield review.include(numbers)


def test_each_edit_reports_exactly_the_rows_whose_result_changed() -> None:
    edits = Edits(seed=4)
    review = review_of(*edits.rows.values(), registered=registered())
    before = dict(review.results())
    for changed in edits.apply(review):
        after = dict(review.results())
        assert changed == {n for n in after if after[n] != before[n]}
        before = after


def test_after_any_edits_the_review_is_that_of_its_rows_reviewed_afresh() -> None:
    edits = Edits(seed=7)
    review = review_of(*edits.rows.values(), registered=registered())
    for _ in edits.apply(review):
        pass
    afresh = review_of(*edits.rows.values(), registered=registered())
    afresh.exclude(sorted(edits.excluded))

    assert (list(review.results()), review.counts()) == (
        list(afresh.results()),
        afresh.counts(),
    )


# ---------------------------------------------------------------- keeping no values


def test_a_review_that_keeps_no_values_gives_the_same_results_from_the_rows_checked_again() -> None:
    """The reading of a whole file keeps no names (a million rows' worth of memory) and
    checks each row again as it records it: the results are those of a full review."""
    rows = [
        row(),
        row("Bob", "Ray", "bob@acme.com", "bob"),
        row("Cy", "Ng", "ANN@acme.com"),  # a duplicate of the first
        row("", "Ho", "dee@acme.com"),
        row("Eve", "Ito", "eve@acme.com", "bob"),  # a username of the second
    ]
    registered = RegisteredUsers(emails=["bob@acme.com"])
    full = review_of(*rows, registered=registered)
    lean = Review(keep_values=False)
    lean.add(numbered(rows), registered)

    assert [lean.result(n, check_columns(typed)) for n, typed in numbered(rows)] == [
        full.result(n) for n, _ in numbered(rows)
    ]
    assert lean.counts() == full.counts()


def test_a_review_that_keeps_no_values_needs_a_valid_row_checked_again() -> None:
    lean = Review(keep_values=False)
    lean.add(numbered([row()]), RegisteredUsers())

    with pytest.raises(ValueError, match="checked again"):
        lean.result(1)
