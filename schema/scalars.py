from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from schema.errors import bad_user_input


def _serialize(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse(value: object) -> datetime:
    # Coded GraphQL errors: graphql-core passes any other exception from a value written in
    # the document itself on as unexpected, and CodedErrors would mask the message.
    if not isinstance(value, str):
        raise bad_user_input("DateTime values are ISO-8601 strings with an offset.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_user_input(f"'{value}' is not an ISO-8601 date and time.") from None
    if moment.tzinfo is None:
        raise bad_user_input(f"'{value}' has no offset; add one, e.g. Z or +02:00.")
    return moment


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601, always with an offset; the server emits UTC",
    serialize=_serialize,
    parse_value=_parse,
)
