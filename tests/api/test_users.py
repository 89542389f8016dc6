"""Registering users with createUser, and finding one by id or by email."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.api.operations import USER, Administrator, event_count
from tests.support import AUDITOR, ThreadedServer, token

BY_EMAIL = f"query($email: String!) {{ userByEmail(email: $email) {{ ...UserFields }} }} {USER}"


@pytest.fixture
def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_created_user_is_pending(admin: Administrator) -> None:
    user = admin.create_user("Ana", "Silva", "ana.silva@acme.com")
    assert user["__typename"] == "User"
    assert user["status"] == "PENDING"
    assert (user["firstName"], user["lastName"], user["name"]) == ("Ana", "Silva", "Ana Silva")
    assert user["email"] == "ana.silva@acme.com"
    assert user["statusChangedAt"] == user["createdAt"]


def test_a_created_user_gets_an_invitation_valid_for_seven_days(admin: Administrator) -> None:
    invitation = admin.register("Ana", "Silva", "ana@acme.com")["invitation"]
    issued, expires = moment(invitation["issuedAt"]), moment(invitation["expiresAt"])
    assert expires - issued == timedelta(days=7)
    assert issued.utcoffset() == timedelta(0)
    assert (invitation["sentAt"], invitation["acceptedAt"]) == (None, None)


def test_the_username_is_derived_from_the_email(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "Ana.Silva@acme.com")
    assert user["username"] == "ana.silva"


def test_a_taken_derived_username_gets_a_numeric_suffix(admin: Administrator) -> None:
    admin.register("Ana", "Silva", "ana@acme.com")
    second = admin.register("Ana", "Souza", "ana@other.org")
    third = admin.register("Ana", "Santos", "ANA@third.org")
    assert (second["username"], third["username"]) == ("ana-2", "ana-3")


def test_a_username_derived_from_an_accented_email_is_ascii(admin: Administrator) -> None:
    user = admin.register("José", "Pérez", "José.Pérez@acme.com")
    assert (user["username"], user["email"]) == ("jose.perez", "José.Pérez@acme.com")


def test_an_email_without_latin_letters_gives_the_username_user(admin: Administrator) -> None:
    assert admin.register("Li", "Wei", "李@acme.com")["username"] == "user"


def test_the_email_is_kept_without_surrounding_spaces(admin: Administrator) -> None:
    assert admin.register("Ana", "Silva", "  ana@acme.com ")["email"] == "ana@acme.com"


def test_a_given_username_is_kept(admin: Administrator) -> None:
    assert admin.register("Ana", "Silva", "ana@acme.com", username="asilva")["username"] == "asilva"


def test_an_email_registered_in_another_case_is_a_conflict(admin: Administrator) -> None:
    admin.register("Ana", "Silva", "Ana@Acme.com")
    again = admin.create_user("Ana", "Other", "ana@ACME.COM")
    assert (again["__typename"], again["code"]) == ("Conflict", "EMAIL_TAKEN")


def test_a_taken_username_in_another_case_is_a_conflict(admin: Administrator) -> None:
    admin.register("Ana", "Silva", "ana@acme.com", username="asilva")
    again = admin.create_user("Alex", "Silva", "alex@acme.com", username="ASilva")
    assert (again["__typename"], again["code"]) == ("Conflict", "USERNAME_TAKEN")


INVALID = {
    "bad email": ({"email": "not-an-email"}, "email", "INVALID_EMAIL"),
    "empty first name": ({"firstName": "   "}, "firstName", "REQUIRED"),
    "empty last name": ({"lastName": ""}, "lastName", "REQUIRED"),
    "unknown group": ({"groupIds": [str(uuid.uuid4())]}, "groupIds[0]", "UNKNOWN_GROUP"),
    "non-UUID group id": ({"groupIds": ["sales"]}, "groupIds[0]", "INVALID_ID"),
    "first name too long": ({"firstName": "A" * 101}, "firstName", "TOO_LONG"),
    "control characters in a name": ({"lastName": "Silva\u202e"}, "lastName", "UNSAFE_VALUE"),
    "username with a space": ({"username": "ana silva"}, "username", "INVALID_USERNAME"),
    "bad permission": (
        {"permissions": ["ok", "no spaces"]},
        "permissions[1]",
        "INVALID_PERMISSION",
    ),
}


@pytest.mark.parametrize(("given", "field", "code"), INVALID.values(), ids=INVALID)
def test_invalid_input_names_the_field(
    admin: Administrator, given: dict[str, object], field: str, code: str
) -> None:
    fields = {"firstName": "Ana", "lastName": "Silva", "email": "ana@acme.com", **given}
    first, last, email = fields.pop("firstName"), fields.pop("lastName"), fields.pop("email")
    outcome = admin.create_user(str(first), str(last), str(email), **fields)
    assert (outcome["__typename"], outcome["field"], outcome["code"]) == (
        "InvalidInput",
        field,
        code,
    )
    assert outcome["message"]


def test_a_refused_registration_writes_no_event(
    server: ThreadedServer, admin: Administrator
) -> None:
    admin.register("Ana", "Silva", "ana@acme.com")
    before = event_count(server.api)
    assert admin.create_user("Ana", "Again", "ANA@acme.com")["__typename"] == "Conflict"
    assert admin.create_user("", "Silva", "new@acme.com")["__typename"] == "InvalidInput"
    assert event_count(server.api) == before


def test_a_user_is_found_by_id(admin: Administrator) -> None:
    created = admin.register("Ana", "Silva", "ana@acme.com")
    assert admin.user(created["id"]) == {k: v for k, v in created.items() if k != "__typename"}


def test_an_unknown_id_finds_no_user(admin: Administrator) -> None:
    admin.register("Ana", "Silva", "ana@acme.com")
    assert admin.find_user(str(uuid.uuid4())) is None


def test_a_user_is_found_by_email_in_any_case(server: ThreadedServer, admin: Administrator) -> None:
    created = admin.register("Ana", "Silva", "Ana.Silva@Acme.com")
    found = server.api.data(BY_EMAIL, {"email": "ANA.SILVA@acme.COM"}, as_=token(AUDITOR))
    assert found["userByEmail"]["id"] == created["id"]


def test_an_unknown_email_finds_no_user(server: ThreadedServer, admin: Administrator) -> None:
    admin.register("Ana", "Silva", "ana@acme.com")
    found = server.api.data(BY_EMAIL, {"email": "bruno@acme.com"}, as_=admin.token)
    assert found["userByEmail"] is None


def test_status_definitions_mark_blocked_and_disabled_as_legacy(server: ThreadedServer) -> None:
    rows = server.api.data("{ statusDefinitions { status meaning legacy assignable } }")
    table = {row["status"]: (row["legacy"], row["assignable"]) for row in rows["statusDefinitions"]}
    assert table == {
        "PENDING": (False, True),
        "ACTIVE": (False, True),
        "EXPIRED": (False, True),
        "DEACTIVATED": (False, True),
        "BLOCKED": (True, False),
        "DISABLED": (True, False),
        "ERASED": (False, False),
    }
    assert all(row["meaning"] for row in rows["statusDefinitions"])
