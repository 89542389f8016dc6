"""Ids that sort in the order they were made.

Every table that a new user touches has an index on an id: the event store's key
(originator id, version), the user list's id, group memberships, invitations, status
history, mail deliveries. With random ids (UUID4), each new user lands on its own page
of each such index: once an index outgrows the page cache, a write of 2,000 users
dirties about 2,000 pages of each, and the cost of registering a user grows with the
number already registered (a million-row import slowed fourfold from its start to its
end). Ids that follow time append at the end of those indexes instead.

- `time_ordered_id`: a UUIDv7 (RFC 9562: milliseconds since the epoch, then 74 random
  bits); Python has `uuid.uuid7` only from 3.14. Nothing depends on an id being
  unguessable: invitation tokens carry a MAC (see `domain.invitations`).
- `row_user_id`: the user of an import row, derived from its batch's id so that a
  commit is exactly once (see `ImportBatch.user_id_for`): a batch's users get
  consecutive ids, in file order.
"""

from __future__ import annotations

import os
import time
from uuid import UUID

#: Rows whose user ids a batch can derive: the row number takes the id's low 24 bits.
MAX_ROW_IDS = (1 << 24) - 1
_ROW_BITS = (1 << 24) - 1
_VERSION = 0xF << 76


def time_ordered_id() -> UUID:
    """A UUIDv7."""
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    rand_a, rand_b = random >> 68, random & ((1 << 62) - 1)
    return UUID(int=(milliseconds << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)


def row_user_id(batch_id: UUID, row_number: int) -> UUID:
    """A UUIDv8 of the batch's UUIDv7 time and its random bits but the low 24, which hold
    the row number: ids of different batches differ unless both were made in the same
    millisecond with the same 50 random bits."""
    if batch_id.version != 7:
        raise ValueError("Row user ids derive from a time-ordered (UUIDv7) batch id.")
    if not 0 < row_number <= MAX_ROW_IDS:
        raise ValueError(f"Row numbers run from 1 to {MAX_ROW_IDS:,}, not {row_number}.")
    return UUID(int=(batch_id.int & ~_VERSION & ~_ROW_BITS) | (0x8 << 76) | row_number)
