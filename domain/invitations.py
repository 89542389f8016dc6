"""Invitations to the portal, sent to a user's access email.

Tokens are derived from the invitation id with a server key (HMAC), so the event
store keeps only a hash of each token and never the token itself, and the mailer
can derive the token again when it sends the invitation. A token is the invitation's
id (a time-ordered UUIDv7: 74 random bits) and its 256-bit MAC: it cannot be guessed
or forged without the key, and it names the invitation it is for, so accepting it
needs no scan of anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, TypedDict
from uuid import UUID

from domain.ids import time_ordered_id


class InvitationData(TypedDict):
    """An invitation as the events that issue it carry it."""

    id: UUID
    issued_at: datetime
    expires_at: datetime
    token_hash: str


@dataclass(frozen=True)
class Invitation:
    id: UUID
    issued_at: datetime
    expires_at: datetime
    token_hash: str
    sent_at: datetime | None = None
    accepted_at: datetime | None = None

    def as_event_data(self) -> InvitationData:
        return {
            "id": self.id,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "token_hash": self.token_hash,
        }

    @classmethod
    def from_event_data(cls, data: InvitationData) -> Invitation:
        return cls(
            id=data["id"],
            issued_at=data["issued_at"],
            expires_at=data["expires_at"],
            token_hash=data["token_hash"],
        )

    def accepted(self, at: datetime) -> Invitation:
        return replace(self, accepted_at=at)

    def sent(self, at: datetime) -> Invitation:
        return replace(self, sent_at=at)


#: 48 bytes (id and MAC) in unpadded URL-safe base64.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{64}")


class InvitationTokens:
    """Derives invitation tokens from a server key; hashes them for storage and look-up."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("The invitation key needs at least 32 bytes.")
        self._key = key

    def issue(self, now: datetime, ttl: timedelta) -> Invitation:
        invitation_id = time_ordered_id()
        return Invitation(
            id=invitation_id,
            issued_at=now,
            expires_at=now + ttl,
            token_hash=self.hash(self.token_for(invitation_id)),
        )

    def token_for(self, invitation_id: UUID) -> str:
        mac = hmac.new(self._key, invitation_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(invitation_id.bytes + mac).rstrip(b"=").decode()

    def invitation_id_of(self, token: str) -> UUID | None:
        """The invitation a token is for, if the token is one of ours; None otherwise.
        The MAC is compared in constant time."""
        text = token.strip()
        if not _TOKEN.fullmatch(text):  # exactly what token_for gives: nothing else decodes
            return None
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        invitation_id = UUID(bytes=raw[:16])
        expected = hmac.new(self._key, raw[:16], hashlib.sha256).digest()
        return invitation_id if hmac.compare_digest(raw[16:], expected) else None

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class InvitationOwners(Protocol):
    def user_of(self, invitation_id: UUID) -> UUID | None:
        """The user an invitation was issued to, current or replaced; None if unknown."""
        ...
