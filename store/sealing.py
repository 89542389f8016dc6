"""Sealing and opening the personal fields an event class declares (domain/personal.py).

`Sealing.seal` replaces each personal value of an event's state by its sealed form
under its person's key, making the keys it needs; `Sealing.open` puts the values back
for the events of a read, with one look-up of their keys, and the erased value where
a key is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping, MutableSequence, Sequence
from copy import deepcopy
from typing import TYPE_CHECKING, Any
from uuid import UUID
from weakref import WeakValueDictionary

import msgspec

from domain.personal import About, Actor, ByRow, Declaration, Rows, pseudonym
from store.keyring import is_sealed, open_sealed, seal, sealed_key_id

if TYPE_CHECKING:
    from store.keyring import Keyring

#: What a sealed value too damaged to name its key is taken to be sealed with: no key.
UNREADABLE = UUID(int=0)
#: Where a personal value sits: its container and its key or index there.
Slot = tuple[Any, Any]
_encode = msgspec.json.encode
_decode = msgspec.json.decode


def declarations(cls: type) -> tuple[Declaration, ...]:
    return tuple(getattr(cls, "__personal__", ()))


def row_fields(cls: type) -> set[str]:
    """The fields whose items are each sealed: read as plain JSON, then opened."""
    return {d.field for d in declarations(cls) if isinstance(d, Rows | ByRow)}


class Sealing:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        #: Events (by id) sealed in part for nobody, as long as they are in memory.
        self._erased_on_arrival: WeakValueDictionary[int, Any] = WeakValueDictionary()

    def prepare(self, events: Iterable[Any]) -> None:
        """Looks up (or makes) the keys these events will be sealed with, all at once: a
        write of a thousand new users makes their keys in one statement, not one each
        (sealing each event then finds its keys in the keyring's cache)."""
        people: set[UUID] = set()
        acting: set[str] = set()
        for event in events:
            cls = type(event)
            about, actors = _to_seal(cls, declarations(cls), vars(event), event.originator_id)
            people.update(subject for _, subject in about)
            acting.update(name for _, name in actors)
        self.keyring.keys(people, create=True)
        self.keyring.actor_keys(acting)

    def seal_event(self, event: Any, state: dict[str, Any]) -> dict[str, Any]:
        """`seal`, remembering an event that said something about a destroyed person."""
        sealed, nowhere = self.seal(type(event), state, event.originator_id)
        if nowhere:
            self._erased_on_arrival[id(event)] = event
        return sealed

    def erased_on_arrival(self, event: Any) -> bool:
        """Whether the event as stored says less than in memory: part of it was about a
        person erased already, sealed under a key kept nowhere. Read back, not taken from
        memory, it gives what a rebuild gives."""
        return self._erased_on_arrival.get(id(event)) is event

    def seal(
        self, cls: type, state: dict[str, Any], originator_id: UUID
    ) -> tuple[dict[str, Any], set[UUID]]:
        """The state with its personal values sealed (a copy where anything changed), and
        the people among them whose keys were destroyed."""
        declared = declarations(cls)
        if not declared:
            return state, set()
        state = _copied(declared, state)
        people, acting = _to_seal(cls, declared, state, originator_id)
        keys, nowhere = self.keyring.sealing_keys({subject for _, subject in people})
        for (container, index), subject in people:
            container[index] = seal(subject, keys[subject], _encode(container[index]))
        actor_keys = self.keyring.actor_keys(name for _, name in acting)
        for (container, index), name in acting:
            key_id, key = actor_keys[name]
            container[index] = seal(key_id, key, _encode(name))
        return state, nowhere

    def open(self, events: Sequence[tuple[type, dict[str, Any], UUID]]) -> None:
        """Opens the sealed values of these events' states in place."""
        found: list[tuple[Declaration, Slot, UUID]] = []
        for cls, state, originator_id in events:
            for declaration, slot, _ in _slots(cls, declarations(cls), state, originator_id):
                value = slot[0][slot[1]]
                if is_sealed(value):
                    found.append((declaration, slot, _key_id(value)))
        if not found:
            return
        keys = self.keyring.keys({key_id for _, _, key_id in found})
        for declaration, (container, index), key_id in found:
            key = keys.get(key_id)
            value = None
            if key is not None:
                try:
                    value = _decode(open_sealed(container[index], key))
                except ValueError:
                    key = None  # a value altered since it was sealed
            if key is None:
                value = (
                    pseudonym(key_id)
                    if isinstance(declaration, Actor)
                    else deepcopy(declaration.erased)
                )
            container[index] = value


def _to_seal(
    cls: type, declared: Sequence[Declaration], state: dict[str, Any], originator_id: UUID
) -> tuple[list[tuple[Slot, UUID]], list[tuple[Slot, str]]]:
    """The personal values still to seal: each about a person (with whom), and each an
    actor (with their subject). Nothing to seal in None, an empty list or a sealed value."""
    people: list[tuple[Slot, UUID]] = []
    acting: list[tuple[Slot, str]] = []
    for declaration, slot, subject in _slots(cls, declared, state, originator_id):
        value = slot[0][slot[1]]
        if value is None or is_sealed(value) or value == []:
            continue
        if isinstance(declaration, Actor):
            acting.append((slot, value))
        else:
            people.append((slot, subject))
    return people, acting


def _key_id(value: str) -> UUID:
    """The id of the key a value was sealed with; for a value too damaged to name one,
    an id no key has (it reads as erased)."""
    try:
        return sealed_key_id(value)
    except ValueError:
        return UNREADABLE


def _copied(declared: Sequence[Declaration], state: dict[str, Any]) -> dict[str, Any]:
    """The state with fresh containers wherever a personal value sits: the event in
    memory keeps its values in the clear."""
    state = dict(state)
    for declaration in declared:
        if isinstance(declaration, About | Actor):
            for name in declaration.fields:
                parent = name.split(".")[0]
                if parent != name and isinstance(state.get(parent), dict):
                    state[parent] = dict(state[parent])
            continue
        items = state.get(declaration.field)
        part = declaration.part is not None
        if isinstance(items, list):
            state[declaration.field] = [
                dict(i) if part and isinstance(i, dict) else i for i in items
            ]
        elif isinstance(items, dict):
            state[declaration.field] = {
                n: dict(i) if part and isinstance(i, dict) else i for n, i in items.items()
            }
    return state


def _slots(
    cls: type, declared: Sequence[Declaration], state: dict[str, Any], originator_id: UUID
) -> Iterator[tuple[Declaration, Slot, UUID]]:
    """Each personal value's declaration, slot, and the person it is about (for actors,
    the originator: their key is found by the value)."""
    # A row's person, worked out once for the several fields about the row.
    people: dict[int, UUID] = {}
    for declaration in declared:
        if isinstance(declaration, About | Actor):
            for name in declaration.fields:
                container, index = _path(state, name)
                if container is not None:
                    yield declaration, (container, index), originator_id
            continue
        items = state.get(declaration.field)
        if not items:
            continue
        subject: Callable[[UUID, int], UUID] = cls.__row_subject__  # type: ignore[attr-defined]
        pairs: Iterator[tuple[int, Any, Any]]
        if isinstance(declaration, Rows):
            start = int(state[declaration.start])
            assert isinstance(items, MutableSequence)
            pairs = ((start + i, items, i) for i in range(len(items)))
        else:
            assert isinstance(items, MutableMapping)
            pairs = ((int(number), items, number) for number in items)
        for row_number, container, index in pairs:
            if declaration.part is not None:
                container, index = container[index], declaration.part
                if not isinstance(container, dict) or index not in container:
                    continue
            person = people.get(row_number)
            if person is None:
                person = people[row_number] = subject(originator_id, row_number)
            yield declaration, (container, index), person


def _path(state: dict[str, Any], name: str) -> tuple[Any, str]:
    """The container and key of a dotted field name; (None, name) when absent."""
    container: Any = state
    *parents, last = name.split(".")
    for parent in parents:
        container = container.get(parent) if isinstance(container, dict) else None
    if not isinstance(container, dict) or last not in container:
        return None, last
    return container, last
