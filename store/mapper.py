"""How events are kept: typed JSON, written and read by msgspec.

The library's `JSONTranscoder` tags every UUID and datetime as an object
(`{"_type_": "uuid_hex", "_data_": ...}`) so that it can restore them without knowing
the event's class, and walks each decoded object in Python to find the tags. An event
class says what its fields are, so `EventMapper` writes plain JSON (a UUID as its
string, a datetime as RFC 3339) and reads it back against the class's annotations:
msgspec restores UUIDs, datetimes and enums in C. Payloads are about a quarter smaller,
and encoding and decoding several times faster.

- A class whose annotations leave anything to `Any` cannot be read back this way (a
  UUID inside would come back a string): its events keep the library's tagged JSON.
- Events written before, in tagged JSON, are still read: against the annotations they
  fail (every event has a `timestamp`, tagged as an object), and are then read by the
  library's transcoder, as they always were.
- A large state (an import's chunk of rows) is compressed with zlib, which a reader
  tells from JSON by its first byte (and the follower, budgeting a pass by stored
  bytes, counts as COMPRESSED_STATE_SIZE).
- The library's own compressor and cipher, when configured, still apply on top.
- Personal fields (domain/personal.py) are sealed one by one under their person's key
  (store/sealing.py) before the state is written, and opened after it is read: a read
  of many events (`to_domain_events`) looks their keys up once.
"""

from __future__ import annotations

import types
import typing
import zlib
from collections.abc import Hashable, Sequence
from typing import Any, TypedDict, cast, get_args, get_type_hints, is_typeddict
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from store.sealing import Sealing, row_fields

#: States of at least this many bytes are compressed (chunks of import rows): small
#: ones gain little and would pay zlib's set-up for each event.
COMPRESS_FROM = 4096
#: What a compressed state counts for when a reader budgets its memory: the most an
#: event of this application holds (an import's chunk of rows is cut at 768 KiB).
COMPRESSED_STATE_SIZE = 1024 * 1024
_ZLIB = b"x"  # the first byte of a zlib stream at every level; JSON starts with "{"
#: Given by the event store's columns, not the state.
_POSITION = frozenset({"originator_id", "originator_version"})


class EventMapper(Mapper[UUID]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = msgspec.json.Encoder()
        self._decoders: dict[type, msgspec.json.Decoder[Any] | None] = {}
        #: Seals and opens personal fields; None leaves them in the clear (an application
        #: without a keyring: some tests, tools reading events).
        self.sealing: Sealing | None = None

    def prepare(self, domain_events: Sequence[DomainEventProtocol[UUID]]) -> None:
        """Finds the keys a write of these events will seal with, in one look-up."""
        if self.sealing is not None:
            self.sealing.prepare(domain_events)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if self.sealing is not None:
            state = self.sealing.seal_event(domain_event, state)
        if self.decoder(cls) is None:
            class_version = getattr(cls, "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            data = self.transcoder.encode(state)
        else:
            data = self._encoder.encode(state)
            if len(data) >= COMPRESS_FROM:
                data = zlib.compress(data, 1)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(cls),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.to_domain_events([stored_event])[0]

    def to_domain_events(
        self, stored_events: Sequence[StoredEvent]
    ) -> list[DomainEventProtocol[UUID]]:
        """The events of a read, their personal values opened with one look-up of keys."""
        read = []
        for stored_event in stored_events:
            cls = resolve_topic(stored_event.topic)
            try:
                state = self._state(cls, stored_event.state)
            except Exception as error:
                raise MapperDeserialisationError(
                    f"Failed to deserialise state of stored event with topic "
                    f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' "
                    f"and originator_version {stored_event.originator_version}: {error}"
                ) from error
            convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
            state["originator_id"] = convert(stored_event.originator_id)
            state["originator_version"] = stored_event.originator_version
            read.append((cls, state))
        if self.sealing is not None:
            self.sealing.open([(cls, state, state["originator_id"]) for cls, state in read])
        return [_event(cls, state) for cls, state in read]

    def _state(self, cls: type, data: bytes) -> dict[str, Any]:
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        if data[:1] == _ZLIB:
            data = zlib.decompress(data)
        decoder = self.decoder(cls)
        if decoder is not None:
            try:
                return cast(dict[str, Any], decoder.decode(data))
            except msgspec.ValidationError:
                pass  # written in tagged JSON, before this mapper
        return cast(dict[str, Any], self.transcoder.decode(data))

    def decoder(self, cls: type) -> msgspec.json.Decoder[Any] | None:
        """The typed reader of a class's events; None for a class whose events keep the
        library's tagged JSON (a field typed `Any`, or upcasting by class version)."""
        try:
            return self._decoders[cls]
        except KeyError:
            decoder = None
            fields = {
                name: hint
                for name, hint in get_type_hints(cls).items()
                if name not in _POSITION and typing.get_origin(hint) is not typing.ClassVar
            }
            # Items sealed one by one are read as plain JSON (they are JSON values only),
            # then opened.
            fields.update(dict.fromkeys(row_fields(cls), Any))
            typed = [hint for name, hint in fields.items() if name not in row_fields(cls)]
            if getattr(cls, "class_version", 1) == 1 and not any(map(_loose, typed)):
                shape = TypedDict(f"{cls.__qualname__}State", fields, total=False)  # type: ignore[misc]
                decoder = msgspec.json.Decoder(shape)
            self._decoders[cls] = decoder
            return decoder


def _event(cls: type, state: dict[str, Any]) -> DomainEventProtocol[UUID]:
    """The event of a state, upcast first if it was written by an earlier class version
    (the library's upcasting)."""
    class_version = getattr(cls, "class_version", 1)
    from_version = state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    domain_event: Any = object.__new__(cls)
    object.__setattr__(domain_event, "__dict__", state)
    return cast(DomainEventProtocol[UUID], domain_event)


def _loose(hint: Any) -> bool:
    """Whether a type leaves any part of a value to `Any` (or to a bare container)."""
    if hint is Any or hint in (dict, list, tuple, set, object):
        return True
    if is_typeddict(hint):
        return any(map(_loose, get_type_hints(hint).values()))
    origin = typing.get_origin(hint)
    args = get_args(hint)
    if origin in (dict, list, set, tuple, typing.Union, types.UnionType) and not args:
        return True
    return any(_loose(arg) for arg in args if arg is not Ellipsis)
