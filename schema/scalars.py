from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from domain.errors import InvalidInputError
from schema.errors import bad_user_input


def serialize_moment(value: datetime) -> str:
    """A DateTime as the API gives it (UTC), for the API and the CSV files alike."""
    return value.astimezone(UTC).isoformat()


def parse_moment(value: str, *, field: str | None = None) -> datetime:
    """A DateTime as the API takes it: ISO-8601 with an offset (InvalidInputError if not)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"'{value}' is not an ISO-8601 date and time.", field=field
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError(f"'{value}' has no offset; add one, e.g. Z or +02:00.", field=field)
    return moment


def _parse(value: object) -> datetime:
    # Coded GraphQL errors: graphql-core passes any other exception from a value written in
    # the document itself on as unexpected, and CodedErrors would mask the message.
    if not isinstance(value, str):
        raise bad_user_input("DateTime values are ISO-8601 strings with an offset.")
    try:
        return parse_moment(value)
    except InvalidInputError as error:
        raise bad_user_input(error.message) from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601, always with an offset; the server emits UTC",
    serialize=serialize_moment,
    parse_value=_parse,
)
