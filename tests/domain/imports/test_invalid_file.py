"""A file that cannot be used: one error, a reason from the contract, a message to act on."""

from __future__ import annotations

import re

import pytest

from domain.errors import DomainError
from domain.imports.reading import InvalidFileError, InvalidFileReason
from tests.domain.imports.uploads import HEADER, refusal, upload

#: For each reason, a file that has it, and the limits it is read with.
SAMPLES: dict[InvalidFileReason, tuple[bytes, dict[str, int]]] = {
    InvalidFileReason.NOT_CSV: (b"PK\x03\x04\x14\x00\x06\x00", {}),
    InvalidFileReason.EMPTY: (b"", {}),
    InvalidFileReason.TOO_LARGE: (upload(HEADER, "Ann,Lee,a@x.org"), {"max_bytes": 20}),
    InvalidFileReason.TOO_MANY_ROWS: (
        upload(HEADER, "Ann,Lee,a@x", "Bob,Ray,b@x"),
        {"max_rows": 1},
    ),
    InvalidFileReason.UNREADABLE_ENCODING: (upload(HEADER) + b"\x81\x8d\x8f\x90\x9d" * 20, {}),
    InvalidFileReason.MALFORMED: (upload(HEADER, 'Ann,"Lee,a@x.org'), {}),
    InvalidFileReason.MISSING_COLUMNS: (upload("first_name,last_name", "Ann,Lee"), {}),
    InvalidFileReason.UNEXPECTED_COLUMNS: (upload(HEADER + ",phone", "Ann,Lee,a@x.org,5"), {}),
}


def test_the_reasons_are_those_of_the_contract() -> None:
    assert [reason.value for reason in InvalidFileReason] == [
        "NOT_CSV",
        "EMPTY",
        "TOO_LARGE",
        "TOO_MANY_ROWS",
        "UNREADABLE_ENCODING",
        "MALFORMED",
        "MISSING_COLUMNS",
        "UNEXPECTED_COLUMNS",
    ]


def test_an_invalid_file_is_a_domain_error_with_code_invalid_file() -> None:
    error = InvalidFileError(InvalidFileReason.EMPTY, "Add a row and upload the file again.")

    assert isinstance(error, DomainError)
    assert (error.code, error.reason, error.message) == (
        "INVALID_FILE",
        InvalidFileReason.EMPTY,
        "Add a row and upload the file again.",
    )


def test_an_invalid_file_lists_no_columns_unless_given() -> None:
    error = InvalidFileError(InvalidFileReason.EMPTY, "Add a row.")
    error.missing_columns.append("email")

    assert InvalidFileError(InvalidFileReason.EMPTY, "Add a row.").missing_columns == []
    assert error.unexpected_columns == []


@pytest.mark.parametrize("reason", list(InvalidFileReason), ids=str)
def test_each_reason_has_a_file_that_gives_it(reason: InvalidFileReason) -> None:
    data, limits = SAMPLES[reason]

    assert refusal(data, **limits).reason is reason


@pytest.mark.parametrize("reason", list(InvalidFileReason), ids=str)
def test_each_message_is_one_sentence_that_says_what_to_do(reason: InvalidFileReason) -> None:
    data, limits = SAMPLES[reason]

    message = refusal(data, **limits).message

    assert re.fullmatch(r"[A-Z][^\n]*\.", message)
    assert ". " not in message
    assert re.search(r"\b(upload|save)\b", message)


def test_a_malformed_file_names_the_line_in_its_message_and_its_fields() -> None:
    data, _ = SAMPLES[InvalidFileReason.MALFORMED]

    refused = refusal(data)

    assert (refused.line, refused.message.startswith("Line 2 ")) == (2, True)
