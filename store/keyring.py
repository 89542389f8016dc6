"""The keys of personal data, kept apart from the events they decrypt.

Each person has a key of their own: a user (and the row of a file that registered
them: the row's id is the user's), and each token subject who acted. A personal field
of an event is sealed with AES-256-GCM under its person's key (`seal`), the person's
key id bound to the ciphertext as associated data; erasing the person deletes the key
(`destroy`), and the field can never be read again. A destroyed key leaves its id behind
(a tombstone): data that reaches the person afterwards (a late event about them, a file
naming them read on) is sealed under a key nobody keeps, so it is erased on arrival,
and never under a new key that a backup restore or a rebuild would not know to destroy.
The keys live in their own table,
`personal_keys`, which a rebuild never touches, and which backups treat on their own
(README, "Erasure").

Keys are cached for CACHE_SECONDS: an import's million rows are sealed and read back
without a query each. A process that did not erase a person may still read their data
for that long after the erasure; the process that erased them forgets the key at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from projections.database import Cursor, ReadDatabase
    from store.ledger import ErasureLedger

#: How long a key read from the table is used without reading it again.
CACHE_SECONDS = 30.0
#: The most keys kept in memory (about 150 bytes each): a chunk of rows is 2,000.
CACHE_SIZE = 200_000
#: The first character of a sealed value: no name, email or cell of a file has it (the
#: CSV reader refuses NUL), so a value written before sealing is told apart.
SEALED = "\x00"
_NONCE = 12
_ID = 16
_CHUNK = 500  # ids per look-up statement


def seal(key_id: UUID, key: bytes, plaintext: bytes) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, plaintext, key_id.bytes)
    return SEALED + base64.b64encode(key_id.bytes + nonce + sealed).decode("ascii")


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value[:1] == SEALED


def sealed_key_id(value: str) -> UUID:
    return UUID(bytes=base64.b64decode(value[1:])[:_ID])


def open_sealed(value: str, key: bytes) -> bytes:
    """The plaintext; ValueError when the value was not sealed with this key."""
    blob = base64.b64decode(value[1:])
    key_id, nonce, sealed = blob[:_ID], blob[_ID : _ID + _NONCE], blob[_ID + _NONCE :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, key_id)
    except InvalidTag:
        raise ValueError("The value was not sealed with this key.") from None


def marks(values: Collection[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def actor_digest(subject: str) -> bytes:
    return hashlib.sha256(subject.encode("utf-8")).digest()


class Keyring:
    def __init__(self, database: ReadDatabase, ledger: ErasureLedger | None = None) -> None:
        self.database = database
        self.ledger = ledger
        self._lock = threading.Lock()
        #: Keys by id, None for a destroyed one, each with the time it is good until.
        self._keys: OrderedDict[UUID, tuple[bytes | None, float]] = OrderedDict()
        self._actors: dict[str, tuple[UUID, bytes, float]] = {}

    # ------------------------------------------------------------------ persons

    def keys(self, ids: Collection[UUID], *, create: bool = False) -> dict[UUID, bytes]:
        """The key of each of `ids` that has one; with `create`, a key for each, as
        `sealing_keys` gives them."""
        if create:
            return self.sealing_keys(ids)[0]
        return {key_id: key for key_id, key in self._found(ids).items() if key is not None}

    def sealing_keys(self, ids: Collection[UUID]) -> tuple[dict[UUID, bytes], set[UUID]]:
        """A key to seal with for each of `ids`, and those of them kept nowhere: a new key
        for a person's first personal data, a throwaway one for a person whose key was
        destroyed (their data is erased on arrival)."""
        found = self._found(ids)
        if missing := [key_id for key_id in ids if key_id not in found]:
            found.update(self._create(missing))
        nowhere = {key_id for key_id, key in found.items() if key is None}
        keys = {key_id: key or AESGCM.generate_key(bit_length=256) for key_id, key in found.items()}
        return keys, nowhere

    def _found(self, ids: Collection[UUID]) -> dict[UUID, bytes | None]:
        """The keys of `ids` held or destroyed (None), from the cache or the table."""
        found, missing = self._cached(ids)
        if missing:
            found.update(self._read(missing))
        return found

    def _read(self, ids: list[UUID]) -> dict[UUID, bytes | None]:
        read: dict[UUID, bytes | None] = {}
        with self.database.reading() as cursor:
            for start in range(0, len(ids), _CHUNK):
                chunk = [key_id.bytes for key_id in ids[start : start + _CHUNK]]
                cursor.execute(
                    f"SELECT id, key FROM personal_keys WHERE id IN ({marks(chunk)})", chunk
                )
                read.update(
                    (UUID(bytes=bytes(r["id"])), None if r["key"] is None else bytes(r["key"]))
                    for r in cursor.fetchall()
                )
        self._remember(read)
        return read

    def _create(self, ids: list[UUID]) -> dict[UUID, bytes | None]:
        new = [(key_id.bytes, AESGCM.generate_key(bit_length=256)) for key_id in ids]
        with self.database.writing() as cursor:
            # Another process may give the same person a key at the same moment: the
            # first one written is everyone's.
            if self.database.dialect == "postgres":
                # One statement for a chunk's thousands of keys, not one each.
                cursor.execute(
                    "INSERT INTO personal_keys (id, key)"
                    " SELECT * FROM unnest(%s::bytea[], %s::bytea[])"
                    " ON CONFLICT (id) DO NOTHING",
                    ([key_id for key_id, _ in new], [key for _, key in new]),
                )
            else:
                cursor.executemany(
                    "INSERT INTO personal_keys (id, key) VALUES (%s, %s)"
                    " ON CONFLICT (id) DO NOTHING",
                    new,
                )
        return self._read(ids)

    # ------------------------------------------------------------------ actors

    def actor_keys(self, subjects: Iterable[str]) -> dict[str, tuple[UUID, bytes]]:
        """The key of each token subject, made on its first action."""
        now = time.monotonic()
        found: dict[str, tuple[UUID, bytes]] = {}
        missing = []
        with self._lock:
            for subject in set(subjects):
                cached = self._actors.get(subject)
                if cached is not None and cached[2] > now:
                    found[subject] = cached[:2]
                else:
                    missing.append(subject)
        for subject in missing:
            found[subject] = self._actor_key(subject)
        return found

    def _actor_key(self, subject: str) -> tuple[UUID, bytes]:
        digest = actor_digest(subject)
        with self.database.writing() as cursor:
            cursor.execute(
                "INSERT INTO personal_keys (id, key, actor) VALUES (%s, %s, %s)"
                " ON CONFLICT (actor) DO NOTHING",
                (uuid4().bytes, AESGCM.generate_key(bit_length=256), digest),
            )
            cursor.execute("SELECT id, key FROM personal_keys WHERE actor = %s", (digest,))
            row = cursor.fetchone()
        assert row is not None
        key_id, key = UUID(bytes=bytes(row["id"])), bytes(row["key"])
        with self._lock:
            self._actors[subject] = (key_id, key, time.monotonic() + CACHE_SECONDS)
        return key_id, key

    def actor_key_id(self, cursor: Cursor, subject: str) -> UUID | None:
        """The id of a token subject's key, if they have one (their pseudonym's)."""
        cursor.execute("SELECT id FROM personal_keys WHERE actor = %s", (actor_digest(subject),))
        row = cursor.fetchone()
        return UUID(bytes=bytes(row["id"])) if row else None

    # ------------------------------------------------------------------ erasure

    def destroy(self, ids: Collection[UUID], cursor: Cursor | None = None) -> None:
        """Destroys the keys: what they sealed can never be read again. In `cursor`'s
        transaction when given (the same database). The erasure ledger records them, for
        a backup restored later (store/ledger.py)."""
        if not ids:
            return
        if cursor is None:
            with self.database.writing() as writing:
                self._delete(writing, list(ids))
        else:
            self._delete(cursor, list(ids))
        # Forgotten once deleted: a read of this process in between would have cached
        # the key again.
        self.forget(ids)
        if self.ledger is not None:
            self.ledger.record(ids)

    @staticmethod
    def _delete(cursor: Cursor, ids: list[UUID]) -> None:
        """Leaves a tombstone for each id, known or not (a ledger may name a key that a
        restored backup never had)."""
        cursor.executemany(
            "INSERT INTO personal_keys (id, key, actor) VALUES (%s, NULL, NULL)"
            " ON CONFLICT (id) DO UPDATE SET key = NULL, actor = NULL",
            [(key_id.bytes,) for key_id in ids],
        )

    def forget(self, ids: Collection[UUID]) -> None:
        """Drops the keys from this process's memory."""
        gone = set(ids)
        with self._lock:
            for key_id in gone:
                self._keys.pop(key_id, None)
            for subject, (key_id, _, _) in list(self._actors.items()):
                if key_id in gone:
                    del self._actors[subject]

    # ------------------------------------------------------------------ cache

    def _cached(self, ids: Collection[UUID]) -> tuple[dict[UUID, bytes | None], list[UUID]]:
        now = time.monotonic()
        found: dict[UUID, bytes | None] = {}
        missing: list[UUID] = []
        with self._lock:
            for key_id in ids:
                cached = self._keys.get(key_id)
                if cached is not None and cached[1] > now:
                    found[key_id] = cached[0]
                else:
                    missing.append(key_id)
        return found, missing

    def _remember(self, keys: dict[UUID, bytes | None]) -> None:
        until = time.monotonic() + CACHE_SECONDS
        with self._lock:
            for key_id, key in keys.items():
                self._keys[key_id] = (key, until)
                self._keys.move_to_end(key_id)
            while len(self._keys) > CACHE_SIZE:
                self._keys.popitem(last=False)
