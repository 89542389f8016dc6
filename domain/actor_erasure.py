"""Erasing an actor: a token subject recorded as actor or uploader reads as its stable
pseudonym (`domain.personal.pseudonym`) everywhere, for good.

The events keep every actor sealed under the subject's own key (domain/personal.py):
destroying the key makes each of them read as the pseudonym. The read models and the
work tables that copied the subject out of the events are rewritten in the same
transaction as the key is destroyed (`ActorRecords.erase`), so that they equal what a
rebuild gives. The erasure itself is an event (`ActorErasure.Recorded`), recorded first
and once: its id is derived from the key's, so an erasure cut short by a crash is
finished by asking again, and never recorded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain import values
from domain.application import Roster, Saved
from domain.errors import InvalidInputError, NotFoundError
from domain.personal import actors, pseudonym
from domain.saving import last_position


class ActorErasure(Aggregate):
    """One actor's erasure, for the audit trail: whose key (`key_id`), what they read as
    now (`pseudonym`), who erased them (`actor`) and why. Never the subject erased."""

    class Recorded(Aggregate.Created):
        __personal__ = (actors("actor"),)

        key_id: UUID
        pseudonym: str
        actor: str
        reason: str

    @staticmethod
    def create_id(key_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/actor-erasures/{key_id}")

    @event(Recorded)
    def __init__(self, key_id: UUID, pseudonym: str, actor: str, reason: str) -> None:
        self.key_id = key_id
        self.pseudonym = pseudonym
        self.actor = actor
        self.reason = reason


class ActorRecords(Protocol):
    """Where Roster keeps actors outside the events: their keys, the read models and the
    work tables."""

    def key_id(self, subject: str) -> UUID | None:
        """The id of the subject's key: None when they never acted, or were erased."""
        ...

    def erase(self, subject: str, key_id: UUID, pseudonym: str) -> None:
        """Writes the pseudonym wherever the subject was kept, and destroys the key, in one
        transaction; doing it again changes nothing."""
        ...


@dataclass(frozen=True)
class ActorErased(Saved):
    """What an erasure saved (the erasure's id), and what the actor reads as now."""

    pseudonym: str


class ActorErasures:
    def __init__(self, roster: Roster, records: ActorRecords) -> None:
        self.roster = roster
        self.records = records

    def erase(self, subject: str, *, actor: str, reason: str) -> ActorErased:
        """Records the erasure of `subject` (once), then erases them from the read models
        and destroys their key."""
        self.roster.require_erasable()
        given = values.parse_reason(reason)
        if given is None:
            raise InvalidInputError(
                "Say why the actor is erased (their request's reference, say): the audit "
                "trail keeps it.",
                field="reason",
                code="REQUIRED",
            )
        key_id = self.records.key_id(subject)
        if key_id is None:
            raise NotFoundError(
                "No actions are recorded for this subject: they never acted, or they were "
                "erased already. Check the subject's spelling (it is compared exactly).",
                code="NOT_FOUND",
            )
        erasure = ActorErasure(
            key_id=key_id, pseudonym=pseudonym(key_id), actor=actor, reason=given
        )
        try:
            position = last_position(self.roster.save(erasure))
        except IntegrityError:
            position = 0  # recorded by an erasure that a crash cut short: finish it
        self.records.erase(subject, key_id, erasure.pseudonym)
        return ActorErased(erasure.id, position, erasure.pseudonym)
