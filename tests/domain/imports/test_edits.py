"""A reviewer's edit worked out on the few rows around it (`domain.imports.edits`): the
changed results and the new counts must be exactly those of the whole review.

The review table is a port (`domain.imports.table.ReviewTable`); here a small fake
answers it from a dict of rows, changed as the projection changes its table.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from eventsourcing.persistence import Recording

from domain.imports.edits import EditOutcome, work_out
from domain.imports.registered import ExistingUser, HeldKeys
from domain.imports.review import Review, ReviewCounts, RowInput, RowKeys, RowStatus
from domain.imports.rows import check_columns
from domain.imports.table import StoredRow
from domain.statuses import UserStatus

BATCH = UUID("00000000-0000-4000-8000-000000000001")

FIRST_NAMES = ("Ann", "Bob", " Cy\u00a0", "Zoe\u0301", "", "=SUM(A1)")
LAST_NAMES = ("Lee", "Ray", "Ng", "", "-1")
EMAILS = (
    "ann@acme.com",
    "ANN@acme.com",
    " ann@acme.com\u00a0",
    "bob@acme.com",
    "cy@acme.com",
    "dee@acme.com",
    "not-an-email",
    "",
    "@ann@acme.com",
)
USERNAMES = (None, None, "", "ann", "ANN", "bob", "cy", "=cy")
EMAIL_KEYS = ("ann@acme.com", "bob@acme.com", "cy@acme.com", "dee@acme.com")
USERNAME_KEYS = ("ann", "bob", "cy")
CASES = 300


class FakeReviewTable:
    """The review table of one batch from a dict of rows, changed as the projection
    changes its table on RowCorrected, RowsExcluded and RowsIncluded."""

    def __init__(self, review: Review, values: Mapping[int, RowInput]) -> None:
        self.rows = {
            number: StoredRow(
                number,
                values[number],
                result.status,
                result.errors,
                review.keys(number),
                result.existing,
            )
            for number, result in review.results()
        }

    def catch_up(self) -> None:
        pass

    def take_in(self, recordings: Sequence[Recording[UUID]]) -> None:
        pass

    def rows_numbered(self, batch_id: UUID, numbers: Collection[int]) -> list[StoredRow]:
        assert batch_id == BATCH
        return [self.rows[number] for number in sorted(numbers) if number in self.rows]

    def rows_holding(
        self, batch_id: UUID, email_keys: Collection[str], username_keys: Collection[str]
    ) -> list[StoredRow]:
        assert batch_id == BATCH
        return [
            row
            for _, row in sorted(self.rows.items())
            if (row.keys[0] is not None and row.keys[0] in email_keys)
            or (row.keys[1] is not None and row.keys[1] in username_keys)
        ]

    def rows_between(self, batch_id: UUID, first: int, last: int) -> Sequence[StoredRow]:
        assert batch_id == BATCH
        return [self.rows[number] for number in range(first, last + 1) if number in self.rows]

    def rows_of_status(self, batch_id: UUID, status: RowStatus) -> list[StoredRow]:
        return [row for _, row in sorted(self.rows.items()) if row.status is status]

    def record(self, outcome: EditOutcome, corrected: tuple[int, RowInput, RowKeys] | None) -> None:
        for number, result in outcome.changes.items():
            self.rows[number] = replace(
                self.rows[number],
                status=result.status,
                errors=result.errors,
                existing=result.existing,
            )
        if corrected is not None:
            number, values, keys = corrected
            self.rows[number] = replace(self.rows[number], values=values, keys=keys)

    def counts(self) -> ReviewCounts:
        """A fresh count of the rows by status."""
        counted = Counter(row.status for row in self.rows.values())
        return ReviewCounts(
            counted[RowStatus.VALID],
            counted[RowStatus.INVALID],
            counted[RowStatus.EXCLUDED],
            counted[RowStatus.EXISTING],
        )


@dataclass(frozen=True)
class Edit:
    """One reviewer's edit: "update" of numbers[0] to `row`, "exclude" or "include"."""

    kind: str
    numbers: tuple[int, ...]
    row: RowInput | None = None

    def on(self, review: Review, registered: HeldKeys) -> set[int]:
        if self.kind == "exclude":
            return review.exclude(self.numbers)
        if self.kind == "include":
            return review.include(self.numbers)
        assert self.row is not None
        return review.update(self.numbers[0], self.row, registered)


class Batch:
    """One batch's review kept two ways: whole in memory, and as a table with counts that
    change only by what `work_out` gives (as `ImportCommands` does)."""

    def __init__(self, values: Mapping[int, RowInput], registered: HeldKeys) -> None:
        self.values = dict(values)
        self.whole = Review()
        self.whole.add(sorted(values.items()), registered)
        self.table = FakeReviewTable(self.whole, values)
        self.counts = self.whole.counts()

    def edit(self, edit: Edit, registered: HeldKeys) -> None:
        """Applies the edit both ways and checks that they agree."""
        before = dict(self.whole.results())
        said = edit.on(self.whole, registered)
        changed = {n for n, result in self.whole.results() if result != before[n]}
        assert said == changed, edit
        if edit.row is not None:
            self.values[edit.numbers[0]] = edit.row
        outcome = self._worked_out(edit, registered)
        assert outcome.changes == {n: self.whole.result(n) for n in sorted(changed)}, edit
        assert outcome.counts == self.whole.counts(), edit
        self.counts = outcome.counts
        assert self.table.counts() == self.counts
        assert self.table.rows == FakeReviewTable(self.whole, self.values).rows

    def _worked_out(self, edit: Edit, registered: HeldKeys) -> EditOutcome:
        new_keys: list[RowKeys] = []
        if edit.row is not None:
            checked = check_columns(edit.row)
            new_keys = [(checked.email_key(), checked.username_key())]
        outcome = work_out(
            self.table,
            BATCH,
            self.counts,
            edit.numbers,
            lambda review: edit.on(review, registered),
            new_keys=new_keys,
        )
        corrected = None
        if edit.row is not None:
            number = edit.numbers[0]
            corrected = (number, edit.row, new_keys[0])
        self.table.record(outcome, corrected)
        return outcome


# ---------------------------------------------------------------- random files and edits


def random_row(rng: random.Random) -> RowInput:
    return RowInput(
        rng.choice(FIRST_NAMES),
        rng.choice(LAST_NAMES),
        rng.choice(EMAILS),
        rng.choice(USERNAMES),
    )


def random_held(rng: random.Random) -> HeldKeys:
    """Some keys registered; the holders of some of them known (the users 1 to 4, by
    email), as a review that recognises people finds them."""
    emails = rng.sample(EMAIL_KEYS, rng.randint(0, 2))
    usernames = rng.sample(USERNAME_KEYS, rng.randint(0, 1))
    return HeldKeys(
        frozenset(emails),
        frozenset(usernames),
        {
            email: ExistingUser(UUID(int=EMAIL_KEYS.index(email) + 1), rng.choice(list(UserStatus)))
            for email in emails
            if rng.random() < 0.6
        },
        {username: UUID(int=rng.randint(1, 5)) for username in usernames if rng.random() < 0.6},
    )


def random_edit(rng: random.Random, total: int) -> Edit:
    kind = rng.choice(("update", "update", "exclude", "include"))
    if kind == "update":
        return Edit(kind, (rng.randint(1, total),), random_row(rng))
    # Repeated numbers, and rows excluded or included already, are harmless.
    return Edit(kind, tuple(rng.choices(range(1, total + 1), k=rng.randint(1, 3))))


def check_random_batch(seed: int, *, registering: bool) -> None:
    """A random file, then random edits; with `registering`, keys get registered between
    edits (a correction is looked up afresh, the rows already reviewed keep their errors)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    total = rng.randint(1, 12)
    registered = random_held(rng)
    batch = Batch({n: random_row(rng) for n in range(1, total + 1)}, registered)
    for _ in range(rng.randint(1, 10)):
        if registering and rng.random() < 0.3:
            registered = HeldKeys(
                registered.emails | {rng.choice(EMAIL_KEYS)},
                registered.usernames | {rng.choice(USERNAME_KEYS)},
                registered.people,
                registered.username_owners,
            )
        batch.edit(random_edit(rng, total), registered)


def test_edits_worked_out_around_the_edited_rows_agree_with_the_whole_review() -> None:
    for seed in range(CASES):
        check_random_batch(seed, registering=False)


def test_edits_agree_with_the_whole_review_when_keys_are_registered_during_the_review() -> None:
    for seed in range(CASES):
        check_random_batch(seed, registering=True)


# ---------------------------------------------------------------- named cases


def rows(*emails: str) -> dict[int, RowInput]:
    return {n: RowInput("Ann", "Lee", email) for n, email in enumerate(emails, start=1)}


def test_a_correction_that_ends_a_duplicate_changes_both_rows() -> None:
    batch = Batch(rows("ann@acme.com", "ANN@acme.com", "cy@acme.com"), HeldKeys())
    assert batch.counts == ReviewCounts(valid=1, invalid=2, excluded=0)

    batch.edit(Edit("update", (2,), RowInput("Bob", "Ray", "bob@acme.com")), HeldKeys())

    assert batch.counts == ReviewCounts(valid=3, invalid=0, excluded=0)
    assert batch.table.rows[2].keys == ("bob@acme.com", None)


def test_a_correction_can_make_a_duplicate_of_a_row_it_did_not_touch_before() -> None:
    batch = Batch(rows("ann@acme.com", "bob@acme.com"), HeldKeys())

    batch.edit(Edit("update", (2,), RowInput("Bob", "Ray", " Ann@ACME.com")), HeldKeys())

    assert [row.status for row in batch.table.rows.values()] == [RowStatus.INVALID] * 2


def test_the_counts_of_rows_never_read_are_carried_over() -> None:
    table = Batch(rows("ann@acme.com", "ann@acme.com"), HeldKeys()).table
    recorded = ReviewCounts(valid=1_000, invalid=2, excluded=7)  # rows 3.. are elsewhere

    outcome = work_out(table, BATCH, recorded, [2], lambda review: review.exclude([2]))

    assert outcome.counts == ReviewCounts(valid=1_001, invalid=0, excluded=8)
    assert set(outcome.changes) == {1, 2}


def test_counts_stay_true_when_an_excluded_row_is_corrected_to_an_email_registered_since() -> None:
    batch = Batch(rows("ann@acme.com", "bob@acme.com"), HeldKeys())
    batch.edit(Edit("exclude", (2,)), HeldKeys())
    since = HeldKeys(frozenset({"ann@acme.com"}))
    batch.edit(Edit("update", (2,), RowInput("Bob", "Ray", "ann@acme.com")), since)

    batch.edit(Edit("exclude", (1,)), since)  # row 1 was VALID: its count must go to excluded

    assert batch.counts == ReviewCounts(valid=0, invalid=0, excluded=2)
