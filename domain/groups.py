"""Groups bundle permissions; users receive a group's permissions by membership."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from domain.ids import time_ordered_id
from domain.personal import actors


class Group(Aggregate):
    """A named set of permissions. The name is unique, compared case-insensitively."""

    create_id = staticmethod(time_ordered_id)

    class Created(Aggregate.Created):
        name: str
        permissions: list[str]
        actor: str

        __personal__ = (actors("actor"),)

    class PermissionsChanged(Aggregate.Event):
        __personal__ = (actors("actor"),)

        permissions: list[str]
        actor: str

    @event(Created)
    def __init__(self, name: str, permissions: list[str], actor: str) -> None:
        self.name = name
        self.permissions = permissions

    def set_permissions(self, permissions: list[str], actor: str) -> None:
        if permissions != self.permissions:
            self._permissions_changed(permissions=permissions, actor=actor)

    @event(PermissionsChanged)
    def _permissions_changed(self, permissions: list[str], actor: str) -> None:
        self.permissions = permissions
