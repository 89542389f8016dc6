"""What a reviewer's edit changes, worked out from the few rows it can touch.

A batch of a million rows is not loaded into a `Review` for every edit. An edit can only
change the result of the edited rows and of the rows that share a key with them (same
email or given username, before or after the edit): call those A. A row's result
depends only on the rows that share one of its keys, so a small `Review` of A and of
every row sharing a key with a row of A (call it B) gives A's results exactly, before
and after the edit. Rows of B outside A keep their result, so the difference of the
small review's counts is the difference of the whole batch's.

The keys registered already come from each stored row's own EMAIL_TAKEN and
USERNAME_TAKEN errors and the registered user its email was found to belong to (rows
sharing a key may have been reviewed at different times, before and after its
registration), so the small review agrees with the recorded one;
only a corrected row is looked up in the store afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from domain.imports.registered import ExistingUser, HeldKeys
from domain.imports.review import Review, ReviewCounts, RowKeys, RowResult, RowStatus
from domain.imports.table import ReviewTable, StoredRow


@dataclass(frozen=True)
class EditOutcome:
    changes: dict[int, RowResult]
    counts: ReviewCounts


def work_out(
    table: ReviewTable,
    batch_id: UUID,
    counts: ReviewCounts,
    edited: Iterable[int],
    edit: Callable[[Review], set[int]],
    *,
    new_keys: Iterable[RowKeys] = (),
) -> EditOutcome:
    """Applies `edit` to a small review of the rows around the `edited` ones (which the
    caller checked exist) and returns the changed results and the batch's new counts."""
    rows = {row.number: row for row in table.rows_numbered(batch_id, set(edited))}
    near = _holders(table, batch_id, [*(row.keys for row in rows.values()), *new_keys])
    around = _holders(table, batch_id, [row.keys for row in near])
    every = {row.number: row for row in [*rows.values(), *near, *around]}
    review = Review()
    for number in sorted(every):
        # Each row with the registered keys its own review found: another row's
        # EMAIL_TAKEN says nothing of a row whose review found its key free.
        review.add([(number, every[number].values)], _held([every[number]]))
    review.exclude([n for n, row in every.items() if row.status is RowStatus.EXCLUDED])
    before = review.counts()
    changed = edit(review)
    after = review.counts()
    return EditOutcome(
        changes={number: review.result(number) for number in sorted(changed)},
        counts=ReviewCounts(
            valid=counts.valid + after.valid - before.valid,
            invalid=counts.invalid + after.invalid - before.invalid,
            excluded=counts.excluded + after.excluded - before.excluded,
            existing=counts.existing + after.existing - before.existing,
        ),
    )


def _holders(table: ReviewTable, batch_id: UUID, keys: Iterable[RowKeys]) -> list[StoredRow]:
    """The rows that hold any of these email or username keys."""
    emails: set[str] = set()
    usernames: set[str] = set()
    for email, username in keys:
        if email is not None:
            emails.add(email)
        if username is not None:
            usernames.add(username)
    if not emails and not usernames:
        return []
    return table.rows_holding(batch_id, emails, usernames)


def _held(rows: Iterable[StoredRow]) -> HeldKeys:
    """The registered keys as the recorded review found them."""
    emails: set[str] = set()
    usernames: set[str] = set()
    people: dict[str, ExistingUser] = {}
    for row in rows:
        codes = {error.code for error in row.errors}
        email, username = row.keys
        if "EMAIL_TAKEN" in codes and email is not None:
            emails.add(email)
        if row.existing is not None and email is not None:
            emails.add(email)
            people[email] = row.existing
        if "USERNAME_TAKEN" in codes and username is not None:
            usernames.add(username)  # by someone else than the row's user
    return HeldKeys(frozenset(emails), frozenset(usernames), people)
