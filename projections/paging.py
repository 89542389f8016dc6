"""Keyset pages with opaque cursors: a cursor names the last row seen, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class InvalidCursorError(ValueError):
    pass


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, arity: int) -> list[Any]:
    """The key of a cursor made by `encode_cursor(kind, ...)`; anything else is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursorError("The cursor is not one this server gave out.") from None
    if not isinstance(decoded, list) or len(decoded) != arity + 1 or decoded[0] != kind:
        raise InvalidCursorError(
            "The cursor belongs to another list or another sort order; start again without 'after'."
        )
    return decoded[1:]


def page_of(rows: list[T], first: int, cursor_of: Any) -> Page[T]:
    """`rows` holds up to first + 1 rows: the extra one only tells that more follow."""
    shown = rows[:first]
    return Page([(cursor_of(row), row) for row in shown], has_next_page=len(rows) > first)
