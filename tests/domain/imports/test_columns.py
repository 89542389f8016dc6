"""The template, the delimiters, and how a file's header is matched to the template."""

from __future__ import annotations

import io

import pytest

from domain.imports.columns import detect_delimiter
from domain.imports.reading import (
    MANDATORY_COLUMNS,
    TEMPLATE_COLUMNS,
    InvalidFileReason,
    open_csv,
    template_bytes,
)
from tests.domain.imports.uploads import refusal, upload, values

# ---------------------------------------------------------------- the template


def test_the_template_columns_come_in_order() -> None:
    assert TEMPLATE_COLUMNS == ("first_name", "last_name", "email", "username")


def test_every_template_column_but_username_is_mandatory() -> None:
    assert MANDATORY_COLUMNS == ("first_name", "last_name", "email")


def test_the_template_is_the_header_alone_in_utf8_with_bom_and_crlf() -> None:
    assert template_bytes() == b"\xef\xbb\xbffirst_name,last_name,email,username\r\n"


def test_the_template_as_downloaded_is_a_file_without_users() -> None:
    assert refusal(template_bytes()).reason is InvalidFileReason.EMPTY


def test_the_template_filled_in_is_read() -> None:
    data = template_bytes() + upload("Zoë,Ærø,zoe@x.org,zoe")

    assert values(data)[0] == {
        "first_name": "Zoë",
        "last_name": "Ærø",
        "email": "zoe@x.org",
        "username": "zoe",
    }


# ---------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_each_delimiter_is_found_from_the_header(delimiter: str) -> None:
    data = upload(delimiter.join(TEMPLATE_COLUMNS), delimiter.join(["Ann", "Lee", "a@x.org", "al"]))

    assert values(data)[0] == {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "a@x.org",
        "username": "al",
    }


def test_a_comma_in_a_semicolon_file_is_part_of_a_cell() -> None:
    data = upload("first_name;last_name;email", "Lee, Ann;Lee;ann@x.org")

    assert values(data)[0]["first_name"] == "Lee, Ann"


def test_delimiters_inside_quotes_are_not_counted() -> None:
    assert detect_delimiter('"a,b,c,d";"e,f"\r\n') == ";"


def test_the_delimiter_that_splits_the_header_into_template_columns_wins() -> None:
    assert detect_delimiter("first_name;last_name,x,y,z;email\r\n") == ";"


def test_the_delimiter_found_more_often_wins_when_both_split_as_well() -> None:
    assert detect_delimiter("a;b;c,d\r\n") == ";"


def test_a_header_without_any_delimiter_is_read_as_comma_separated() -> None:
    refused = refusal(upload("first_name", "Ann"))

    assert refused.missing_columns == ["last_name", "email"]


# ---------------------------------------------------------------- headings


@pytest.mark.parametrize(
    "heading",
    ["first_name", "First Name", "first-name", " FIRST_NAME ", "FirstName", "first  _-name"],
)
def test_a_heading_matches_its_column_whatever_its_form(heading: str) -> None:
    data = upload(f'"{heading}",last_name,email', "Ann,Lee,ann@x.org")

    assert values(data)[0]["first_name"] == "Ann"


def test_a_bom_inside_the_first_heading_does_not_break_matching() -> None:
    data = upload("\ufeff\ufefffirst_name,last_name,email", "Ann,Lee,ann@x.org")

    assert values(data)[0]["first_name"] == "Ann"


def test_columns_may_come_in_any_order() -> None:
    data = upload("username,Email,Last Name,First Name", "al,a@x.org,Lee,Ann")

    assert values(data)[0] == {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "a@x.org",
        "username": "al",
    }


def test_the_username_column_may_be_left_out() -> None:
    assert values(upload("first_name,last_name,email", "Ann,Lee,a@x.org"))[0]["username"] == ""


def test_the_columns_of_the_file_are_told() -> None:
    opened = open_csv(io.BytesIO(upload("E-Mail;Last Name;First Name", "a@x.org;Lee;Ann")))

    assert opened.columns == ("email", "last_name", "first_name")


def test_a_missing_mandatory_column_is_listed() -> None:
    refused = refusal(upload("first_name,email", "Ann,a@x.org"))

    assert (refused.reason, refused.missing_columns) == (
        InvalidFileReason.MISSING_COLUMNS,
        ["last_name"],
    )


def test_missing_columns_are_listed_in_template_order() -> None:
    refused = refusal(upload("username,phone", "al,555"))

    assert refused.missing_columns == ["first_name", "last_name", "email"]


def test_a_column_the_template_does_not_have_is_listed_as_headed() -> None:
    refused = refusal(upload("first_name,last_name,email, Phone Number ", "Ann,Lee,a@x.org,5"))

    assert (refused.reason, refused.unexpected_columns) == (
        InvalidFileReason.UNEXPECTED_COLUMNS,
        ["Phone Number"],
    )


def test_a_heading_close_to_a_template_column_is_not_guessed() -> None:
    refused = refusal(upload("first_name,last_name,email,e-mail address", "Ann,Lee,a@x,a@x"))

    assert refused.unexpected_columns == ["e-mail address"]


def test_a_column_given_twice_is_unexpected() -> None:
    refused = refusal(upload("first_name,last_name,email,Email", "Ann,Lee,a@x.org,b@x.org"))

    assert (refused.reason, refused.unexpected_columns) == (
        InvalidFileReason.UNEXPECTED_COLUMNS,
        ["Email"],
    )


def test_missing_and_unexpected_columns_are_both_listed() -> None:
    refused = refusal(upload("first_name,surname,email", "Ann,Lee,a@x.org"))

    assert (refused.reason, refused.missing_columns, refused.unexpected_columns) == (
        InvalidFileReason.MISSING_COLUMNS,
        ["last_name"],
        ["surname"],
    )


def test_the_message_for_missing_and_unexpected_columns_says_both_what_to_add_and_remove() -> None:
    refused = refusal(upload("first_name,surname,email", "Ann,Lee,a@x.org"))

    assert refused.message.startswith(
        "Add the last_name column to the first line of the file and remove the 'surname' column"
    )


def test_empty_trailing_headings_are_ignored() -> None:
    opened = open_csv(io.BytesIO(upload("first_name;last_name;email;;;", "Ann;Lee;a@x.org;;;")))

    assert opened.columns == ("first_name", "last_name", "email")
