"""How values are kept in the read model: the same text forms on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import msgspec


def iso(moment: datetime) -> str:
    """UTC with microseconds: the fixed width makes text order the order in time."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "\u0131": "i",  # dotless i
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "Þ": "th",
    }
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form for search: "Müller" and "MULLER" fold alike,
    and so do "Łukasz" and "lukasz"."""
    if text.isascii():
        return text.lower()  # what the steps below give for ASCII, at a fraction of the cost
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.casefold())


_JSON = msgspec.json.Encoder(order="sorted")


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys (UTF-8 text, non-ASCII characters as they are)."""
    return _JSON.encode(value).decode()


def from_json(text: str) -> Any:
    return msgspec.json.decode(text)
