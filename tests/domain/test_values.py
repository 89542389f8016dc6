"""Rules for the values people type: names, emails, usernames, permissions, reasons."""

from __future__ import annotations

import itertools
import re

import pytest

from domain import values
from domain.errors import InvalidInputError

# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "typed",
    [" Ann ", "\u00a0Ann\u00a0", "\tAnn\n", "\u2003Ann\u3000", "\u200bAnn\ufeff"],
    ids=["space", "no-break-space", "tab-newline", "em-ideographic-space", "zero-width"],
)
def test_a_name_is_trimmed(typed: str) -> None:
    assert values.parse_name(typed, field="firstName") == "Ann"


def test_a_name_is_nfc_normalised() -> None:
    assert values.parse_name("Jose\u0301", field="firstName") == "Jos\u00e9"


def test_inner_spaces_of_a_name_are_kept() -> None:
    assert values.parse_name("  Mary  Ann ", field="firstName") == "Mary  Ann"


@pytest.mark.parametrize("typed", ["", "   ", "\u00a0\u00a0"], ids=["empty", "spaces", "nbsp"])
def test_a_blank_name_is_required(typed: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_name(typed, field="lastName")

    assert (refused.value.code, refused.value.field) == ("REQUIRED", "lastName")


def test_a_required_name_error_names_the_field_in_words() -> None:
    with pytest.raises(InvalidInputError, match=r"^Enter the last name\.$"):
        values.parse_name("", field="lastName")


def test_a_name_of_100_characters_is_kept() -> None:
    assert values.parse_name("a" * 100, field="firstName") == "a" * 100


def test_a_name_of_101_characters_is_too_long() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_name("a" * 101, field="firstName")

    assert (refused.value.code, refused.value.field) == ("TOO_LONG", "firstName")


def test_a_name_is_measured_after_normalising() -> None:
    decomposed = "e\u0301" * 100

    assert values.parse_name(decomposed, field="firstName") == "\u00e9" * 100


@pytest.mark.parametrize(
    "typed",
    ["Ann\x00", "Ann\x07Lee", "Ann\nLee", "Ann\x7f", "Ann\u202eLee"],
    ids=["nul", "bell", "newline-inside", "delete", "right-to-left-override"],
)
def test_a_name_with_control_characters_is_unsafe(typed: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_name(typed, field="firstName")

    assert (refused.value.code, refused.value.field) == ("UNSAFE_VALUE", "firstName")


def test_a_group_name_follows_the_name_rules() -> None:
    assert values.parse_group_name("\u00a0Ope\u0301rations ") == "Op\u00e9rations"


def test_group_name_keys_ignore_case() -> None:
    assert values.group_name_key("Operations") == values.group_name_key("OPERATIONS")


# ---------------------------------------------------------------- emails


def test_an_email_is_kept_as_given() -> None:
    assert values.parse_email("Ann.Lee@Acme.COM") == "Ann.Lee@Acme.COM"


def test_an_email_is_trimmed() -> None:
    assert values.parse_email("\u00a0ann@acme.com ") == "ann@acme.com"


@pytest.mark.parametrize(
    "typed", ["ann", "ann@", "@acme.com", "ann@@acme.com", "ann lee@acme.com", "ann@acme"]
)
def test_an_invalid_email_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_email(typed)

    assert (refused.value.code, refused.value.field) == ("INVALID_EMAIL", "email")


def test_an_invalid_email_error_names_the_field_given() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_email("ann", field="rows[3].email")

    assert refused.value.field == "rows[3].email"


def test_a_blank_email_is_required() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_email("  ")

    assert refused.value.code == "REQUIRED"


def test_an_email_over_254_characters_is_too_long() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_email("a" * 64 + "@" + "b" * 186 + ".com")

    assert refused.value.code == "TOO_LONG"


def test_email_keys_ignore_case() -> None:
    assert values.email_key("Ann.Lee@ACME.com") == values.email_key("ann.lee@acme.com")


def test_an_email_key_is_lower_case() -> None:
    assert values.email_key("Ann.Lee@Acme.com") == "ann.lee@acme.com"


def test_different_addresses_have_different_keys() -> None:
    assert values.email_key("ann@acme.com") != values.email_key("anne@acme.com")


# ---------------------------------------------------------------- usernames


def test_a_username_derived_from_an_email_is_lower_ascii() -> None:
    base = values.username_base("Jos\u00e9.P\u00e9rez+x@acme.com")

    assert (base, bool(re.fullmatch(r"[a-z0-9._-]+", base))) == ("jose.perezx", True)


def test_a_derived_username_drops_leading_and_trailing_punctuation() -> None:
    assert values.username_base("-.ann._@acme.com") == "ann"


@pytest.mark.parametrize("email", ["+++@acme.com", "\u5f20\u4f1f@acme.com"])
def test_an_email_with_nothing_usable_derives_user(email: str) -> None:
    assert values.username_base(email) == "user"


def test_a_derived_username_leaves_room_for_a_suffix() -> None:
    assert len(values.username_base("a" * 64 + "@acme.com")) <= values.MAX_USERNAME_LENGTH - 8


def test_derived_usernames_are_tried_as_base_then_numbered() -> None:
    assert list(itertools.islice(values.username_candidates("ann@acme.com"), 3)) == [
        "ann",
        "ann-2",
        "ann-3",
    ]


def test_a_given_username_is_trimmed() -> None:
    assert values.parse_username(" ann.lee ") == "ann.lee"


def test_a_given_username_with_a_space_is_invalid() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_username("ann lee")

    assert (refused.value.code, refused.value.field) == ("INVALID_USERNAME", "username")


def test_username_keys_ignore_case() -> None:
    assert values.username_key("Ann.Lee") == values.username_key("ann.lee")


# ---------------------------------------------------------------- permissions


def test_permissions_are_sorted_and_without_repeats() -> None:
    permissions = ["users:write", "groups:read", "users:write", "groups:read"]

    assert values.parse_permissions(permissions) == ["groups:read", "users:write"]


def test_permissions_are_trimmed_before_repeats_are_removed() -> None:
    assert values.parse_permissions([" users:read", "users:read\u00a0"]) == ["users:read"]


def test_no_permissions_are_no_permissions() -> None:
    assert values.parse_permissions([]) == []


@pytest.mark.parametrize("bad", ["users read", "", "users;drop", "p" * 201])
def test_an_invalid_permission_is_refused_by_its_index(bad: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_permissions([bad])

    assert (refused.value.code, refused.value.field) == ("INVALID_PERMISSION", "permissions[0]")


def test_an_invalid_permission_index_is_under_the_field_given() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_permissions(["users read"], field="access.permissions")

    assert refused.value.field == "access.permissions[0]"


def test_an_invalid_permission_is_named_by_its_position_in_the_input() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_permissions(["users:read", "users:read", "bad permission"])

    assert refused.value.field == "permissions[2]"


def test_more_than_500_permissions_are_too_many() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_permissions([f"p{n}" for n in range(501)])

    assert (refused.value.code, refused.value.field) == ("TOO_MANY", "permissions")


# ---------------------------------------------------------------- reasons


def test_no_reason_stays_none() -> None:
    assert values.parse_reason(None) is None


def test_a_blank_reason_is_none() -> None:
    assert values.parse_reason(" \u00a0 ") is None


def test_a_reason_may_span_lines() -> None:
    assert values.parse_reason(" Left.\nReturned equipment. ") == "Left.\nReturned equipment."


def test_a_reason_with_other_control_characters_is_unsafe() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_reason("Left.\x00")

    assert (refused.value.code, refused.value.field) == ("UNSAFE_VALUE", "reason")


def test_a_reason_over_500_characters_is_too_long() -> None:
    with pytest.raises(InvalidInputError) as refused:
        values.parse_reason("r" * 501)

    assert refused.value.code == "TOO_LONG"
