"""People who are registered already: a row with their email is EXISTING (the same person,
not an error), the reviewer picks what the commit does with them, and the commit does it
on the user as they are then."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidStateError
from domain.imports.actions import Orders, carry_out
from domain.imports.batch import AccessMode, ImportBatch
from domain.imports.existing import ExistingUserAction
from domain.imports.registered import ExistingUser, HeldKeys
from domain.imports.review import Review, ReviewCounts, RowInput, RowResult, RowStatus
from domain.imports.rows import check_columns
from domain.imports.table import StoredRow
from domain.invitations import Invitation
from domain.statuses import StatusChangeSource, UserStatus
from domain.uniqueness import KeyKind
from domain.users import User
from tests.domain.imports.test_edits import Batch, Edit

ANN = UUID(int=1)
BOB = UUID(int=2)
A = ExistingUserAction


class People:
    """Registered users by email and username key, with their statuses."""

    def __init__(
        self,
        emails: dict[str, UUID],
        usernames: dict[str, UUID] | None = None,
        statuses: dict[UUID, UserStatus] | None = None,
    ) -> None:
        self.held = {KeyKind.EMAIL: emails, KeyKind.USERNAME: usernames or {}}
        self._statuses = statuses or {}

    def taken(self, kind: KeyKind, keys: Sequence[str]) -> set[str]:
        return set(self.owners(kind, keys))

    def owners(self, kind: KeyKind, keys: Sequence[str]) -> dict[str, UUID]:
        return {key: self.held[kind][key] for key in keys if key in self.held[kind]}

    def statuses(self, user_ids: Sequence[UUID]) -> dict[UUID, UserStatus]:
        return {user_id: self._statuses.get(user_id, UserStatus.ACTIVE) for user_id in user_ids}


def review_of(rows: Iterable[RowInput], people: People) -> Review:
    review = Review()
    review.add(enumerate(rows, start=1), people)
    return review


def codes(result: RowResult) -> list[tuple[str | None, str]]:
    return [(error.column, error.code) for error in result.errors]


ANN_IS_REGISTERED = People(
    {"ann@acme.com": ANN}, {"ann": ANN, "bob": BOB}, {ANN: UserStatus.EXPIRED}
)


# ---------------------------------------------------------------- the review


def test_a_registered_email_is_existing_with_the_users_id_and_status() -> None:
    review = review_of([RowInput("Ann", "Lee", "ANN@acme.com")], ANN_IS_REGISTERED)

    result = review.result(1)

    assert (result.status, result.errors) == (RowStatus.EXISTING, ())
    assert result.existing == ExistingUser(ANN, UserStatus.EXPIRED)
    assert review.counts() == ReviewCounts(valid=0, invalid=0, excluded=0, existing=1)


def test_the_users_own_username_keeps_the_row_existing() -> None:
    review = review_of([RowInput("Ann", "Lee", "ann@acme.com", "Ann")], ANN_IS_REGISTERED)

    assert review.result(1).status is RowStatus.EXISTING


def test_a_username_held_by_another_person_is_still_username_taken() -> None:
    review = review_of([RowInput("Ann", "Lee", "ann@acme.com", "bob")], ANN_IS_REGISTERED)

    result = review.result(1)

    assert (result.status, codes(result)) == (RowStatus.INVALID, [("username", "USERNAME_TAKEN")])


def test_a_row_with_faulty_columns_is_invalid_but_knows_its_user() -> None:
    review = review_of([RowInput("", "Lee", "ann@acme.com")], ANN_IS_REGISTERED)

    result = review.result(1)

    assert (result.status, codes(result)) == (RowStatus.INVALID, [("first_name", "REQUIRED")])
    assert result.existing == ExistingUser(ANN, UserStatus.EXPIRED)


def test_a_duplicate_in_the_file_is_invalid_until_the_other_row_is_excluded() -> None:
    rows = [RowInput("Ann", "Lee", "ann@acme.com"), RowInput("Ann", "Lee", "Ann@acme.com")]
    review = review_of(rows, ANN_IS_REGISTERED)
    assert review.result(1).status is RowStatus.INVALID

    assert review.exclude([2]) == {1, 2}

    assert review.result(1).status is RowStatus.EXISTING


def test_an_edit_worked_out_from_the_table_finds_the_recorded_user_again() -> None:
    rows = {1: RowInput("Ann", "Lee", "ann@acme.com"), 2: RowInput("Ann", "Lee", "ann@acme.com")}
    held = HeldKeys.look_up([check_columns(rows[1])], ANN_IS_REGISTERED)
    batch = Batch(rows, held)

    batch.edit(Edit("exclude", (2,)), held)  # which checks it against the whole review

    assert batch.table.rows[1].status is RowStatus.EXISTING
    assert batch.table.rows[1].existing == ExistingUser(ANN, UserStatus.EXPIRED)
    assert batch.counts == ReviewCounts(valid=0, invalid=0, excluded=1, existing=1)


# ---------------------------------------------------------------- choosing actions


def reviewed(*existing: UserStatus) -> ImportBatch:
    batch = ImportBatch(filename="people.csv", created_by="admin")
    results = [
        RowResult(RowStatus.EXISTING, (), None, ExistingUser(uuid4(), status))
        for status in existing
    ]
    rows = [RowInput("Ann", "Lee", f"ann{n}@acme.com") for n in range(1, len(results) + 1)]
    batch.record_rows(1, [*rows, RowInput("Cy", "Ng", "cy@acme.com")], [*results, VALID])
    batch.finish_review(batch.recorded_counts())
    batch.collect_events()
    return batch


VALID = RowResult(RowStatus.VALID, (), None)


def test_an_action_that_fits_every_row_is_recorded() -> None:
    batch = reviewed(UserStatus.PENDING, UserStatus.EXPIRED)

    batch.choose_row_action(
        A.RESEND_INVITATION, {1: UserStatus.PENDING, 2: UserStatus.EXPIRED}, actor="a"
    )

    [event] = batch.collect_events()
    assert isinstance(event, ImportBatch.RowActionsChosen)
    assert (event.action, event.row_numbers) == ("RESEND_INVITATION", [1, 2])


def test_an_action_that_does_not_fit_is_refused_whole_naming_the_rows() -> None:
    batch = reviewed(UserStatus.DEACTIVATED, UserStatus.ACTIVE, UserStatus.PENDING)

    with pytest.raises(InvalidStateError) as refused:
        batch.choose_row_action(
            A.REACTIVATE,
            {1: UserStatus.DEACTIVATED, 2: UserStatus.ACTIVE, 3: UserStatus.PENDING},
            actor="a",
        )

    assert "rows 2 and 3" in str(refused.value)
    assert "DEACTIVATED, BLOCKED, DISABLED" in str(refused.value)
    assert batch.collect_events() == []


def test_an_action_for_a_row_that_is_not_existing_is_refused() -> None:
    batch = reviewed(UserStatus.ACTIVE)

    with pytest.raises(InvalidStateError, match="row 2 is not"):
        batch.choose_row_action(A.SKIP, {1: UserStatus.ACTIVE, 2: None}, actor="a")
    assert batch.collect_events() == []


def test_existing_rows_count_with_the_others_and_do_not_block_the_commit() -> None:
    batch = reviewed(UserStatus.ACTIVE)
    batch.choose_access(AccessMode.CUSTOMIZE, actor="a", rows={})

    assert (batch.valid, batch.existing, batch.invalid) == (1, 1, 0)
    assert batch.start_commit(exclude_invalid=False, actor="a")


# ---------------------------------------------------------------- carrying them out


def invitation() -> Invitation:
    now = datetime.now(UTC)
    return Invitation(id=uuid4(), token_hash="h", issued_at=now, expires_at=now + timedelta(days=7))


def user(status: UserStatus, *, accepted: bool = False) -> User:
    created = User(
        first_name="Ann",
        last_name="Lee",
        email="ann@acme.com",
        username="ann",
        group_ids=[],
        permissions=[],
        invitation=None,
        status=status,
        source=StatusChangeSource.LEGACY_MIGRATION,
        actor="system",
        reason=None,
        import_batch_id=None,
    )
    created.has_accepted = accepted
    created.collect_events()
    return created


def stored(number: int, person: User, reviewed_as: UserStatus, action: A | None) -> StoredRow:
    return StoredRow(
        number,
        RowInput("Ann", "Lee", "ann@acme.com"),
        RowStatus.EXISTING,
        (),
        ("ann@acme.com", None),
        ExistingUser(person.id, reviewed_as),
        action,
    )


ORDERS = Orders(
    actor="admin",
    filename="people.csv",
    access=lambda number: ([UUID(int=9)], ["users.read"]),
    new_invitation=invitation,
)


def test_each_action_is_carried_out_on_its_user_by_the_import() -> None:
    expired, blocked, active, left = (
        user(UserStatus.EXPIRED),
        user(UserStatus.BLOCKED, accepted=True),
        user(UserStatus.ACTIVE),
        user(UserStatus.ACTIVE),
    )
    rows = [
        stored(1, expired, UserStatus.EXPIRED, A.RESEND_INVITATION),
        stored(2, blocked, UserStatus.BLOCKED, A.REACTIVATE),
        stored(3, active, UserStatus.ACTIVE, A.UPDATE_ACCESS),
        stored(4, left, UserStatus.ACTIVE, None),
    ]
    users = {u.id: u for u in (expired, blocked, active, left)}

    outcome = carry_out(rows, users, ORDERS)

    assert (outcome.updated, outcome.skipped, outcome.failed) == ([1, 2, 3], [4], {})
    assert [u.id for u in outcome.users] == [expired.id, blocked.id, active.id]
    assert (expired.status, blocked.status) == (UserStatus.PENDING, UserStatus.PENDING)
    assert blocked.invitation is not None  # reactivated by an import: invited again
    assert (active.group_ids, active.permissions) == ([UUID(int=9)], ["users.read"])
    sources = {getattr(e, "source", None) for u in outcome.users for e in u.collect_events()}
    assert sources == {StatusChangeSource.IMPORT}


def test_an_action_that_no_longer_fits_the_user_fails_the_row_and_changes_nothing() -> None:
    accepted = user(UserStatus.ACTIVE)  # PENDING when reviewed, accepted since

    outcome = carry_out(
        [stored(1, accepted, UserStatus.PENDING, A.RESEND_INVITATION)],
        {accepted.id: accepted},
        ORDERS,
    )

    assert (outcome.updated, outcome.users) == ([], [])
    [error] = outcome.failed[1]
    assert error.code == "USER_STATUS_CHANGED"
    assert "ACTIVE now" in error.message
    assert accepted.collect_events() == []
