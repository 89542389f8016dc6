"""Time-ordered ids (`domain.ids`): new ids sort in the order they were made, and an
import row's user id is derived from its batch, consecutive within the batch."""

from __future__ import annotations

import time
from uuid import UUID, uuid4, uuid5

import pytest

from domain.groups import Group
from domain.ids import MAX_ROW_IDS, row_user_id, time_ordered_id
from domain.imports.batch import ImportBatch
from domain.users import User


def test_ids_made_later_sort_later() -> None:
    earlier = time_ordered_id()
    time.sleep(0.002)
    later = time_ordered_id()

    assert earlier.version == later.version == 7
    assert str(earlier) < str(later)
    assert earlier.hex < later.hex  # the event store keys aggregates by the hex form


def test_ids_of_one_millisecond_differ() -> None:
    made = {time_ordered_id() for _ in range(10_000)}

    assert len(made) == 10_000


def test_new_aggregates_get_time_ordered_ids() -> None:
    batch = ImportBatch.started(time_ordered_id(), filename="a.csv", created_by="admin")
    group = Group(name="Sales", permissions=[], actor="admin")

    assert group.id.version == 7
    assert batch.id.version == 7
    assert User.create_id().version == 7


def test_a_batchs_users_get_consecutive_ids_in_file_order() -> None:
    batch_id = time_ordered_id()

    ids = [ImportBatch.user_id_for(batch_id, n) for n in (1, 2, 3, MAX_ROW_IDS)]

    assert [i.int - ids[0].int for i in ids] == [0, 1, 2, MAX_ROW_IDS - 1]
    assert {i.version for i in ids} == {8}
    assert ImportBatch.user_id_for(batch_id, 2) == ids[1]  # the same again after a crash
    assert ids[0].hex[:12] == batch_id.hex[:12]  # the batch's time leads


def test_two_batches_give_their_rows_different_users() -> None:
    first, second = time_ordered_id(), time_ordered_id()

    assert ImportBatch.user_id_for(first, 1) != ImportBatch.user_id_for(second, 1)


def test_a_batch_of_an_earlier_version_keeps_its_derived_ids() -> None:
    """Batches started before time-ordered ids had UUID4 ids; a commit they had begun
    goes on with the ids it began with, so rows registered before are known again."""
    batch_id = uuid4()

    assert ImportBatch.user_id_for(batch_id, 7) == uuid5(batch_id, "7")


@pytest.mark.parametrize("row_number", [0, MAX_ROW_IDS + 1])
def test_row_numbers_outside_the_id_space_are_refused(row_number: int) -> None:
    with pytest.raises(ValueError, match="Row numbers run from 1"):
        row_user_id(time_ordered_id(), row_number)


def test_only_a_time_ordered_batch_id_gives_row_ids() -> None:
    with pytest.raises(ValueError, match="UUIDv7"):
        row_user_id(UUID(int=1), 1)
