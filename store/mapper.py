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
"""

from __future__ import annotations

import types
import typing
import zlib
from collections.abc import Hashable
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

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        if self.decoder(cls) is None:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
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
        cls = resolve_topic(stored_event.topic)
        try:
            state = self._state(cls, stored_event.state)
        except Exception as error:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {error}"
            ) from error
        if "class_version" in state:  # the library's upcasting, which typed classes skip
            return super().to_domain_event(stored_event)
        convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        state["originator_id"] = convert(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[UUID], domain_event)

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
            if getattr(cls, "class_version", 1) == 1 and not any(map(_loose, fields.values())):
                shape = TypedDict(f"{cls.__qualname__}State", fields, total=False)  # type: ignore[misc]
                decoder = msgspec.json.Decoder(shape)
            self._decoders[cls] = decoder
            return decoder


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
