from __future__ import annotations

from datetime import UTC, datetime

import strawberry


def _serialize(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime values are ISO-8601 strings with an offset.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO-8601 date and time.") from None
    if moment.tzinfo is None:
        raise ValueError(f"'{value}' has no offset; add one, e.g. Z or +02:00.")
    return moment


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601, always with an offset; the server emits UTC",
    serialize=_serialize,
    parse_value=_parse,
)
