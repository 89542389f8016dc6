"""Rules for the values people type: names, access emails, usernames, permissions.

Each `parse_*` function returns the value as it will be kept, or raises
InvalidInputError naming the field.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from email_validator import EmailNotValidError, validate_email

from domain.errors import InvalidInputError

MAX_NAME_LENGTH = 100
MAX_DERIVED_USERNAMES = 9_999
MAX_USERNAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_PERMISSION_LENGTH = 200
MAX_PERMISSIONS = 500

# str.strip() covers no-break and other Unicode spaces; these two are invisible too.
_INVISIBLE = "\u200b\ufeff"
_USERNAME = re.compile(r"^[\w.@+-]+$")
_PERMISSION = re.compile(r"^[A-Za-z0-9_.:*/-]+$")


def clean(value: str) -> str:
    """Trimmed (every kind of space) and NFC-normalised."""
    return unicodedata.normalize("NFC", value.strip().strip(_INVISIBLE).strip())


# Joiners are format characters that Persian, Indic and emoji text needs.
_JOINERS = frozenset("\u200c\u200d")


def has_control_characters(value: str) -> bool:
    """Control and format characters (bidi overrides and the like), but not joiners."""
    if value.isascii():
        return not value.isprintable()  # ASCII's only Cc/Cf characters are its controls
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in _JOINERS for ch in value)


def parse_name(value: str, *, field: str) -> str:
    name = clean(value)
    if not name:
        raise InvalidInputError(f"Enter the {_label(field)}.", field=field, code="REQUIRED")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"Shorten the {_label(field)} to at most {MAX_NAME_LENGTH} characters.",
            field=field,
            code="TOO_LONG",
        )
    if has_control_characters(name):
        raise InvalidInputError(
            f"Remove the control characters from the {_label(field)}.",
            field=field,
            code="UNSAFE_VALUE",
        )
    return name


#: A local part that email-validator takes as it is (RFC 5321 dot-atom, a safe subset).
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*\Z")
_MAX_LOCAL_LENGTH = 64


def parse_email(value: str, *, field: str = "email") -> str:
    """The email as given (trimmed, NFC); its syntax checked without any DNS look-up."""
    email = clean(value)
    if not email:
        raise InvalidInputError("Enter the access email.", field=field, code="REQUIRED")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInputError(
            f"Use an email of at most {MAX_EMAIL_LENGTH} characters.", field=field, code="TOO_LONG"
        )
    try:
        _check_syntax(email)
    except EmailNotValidError as error:
        raise InvalidInputError(
            f"Correct the access email '{email}': {error}", field=field, code="INVALID_EMAIL"
        ) from None
    return email


def email_key(email: str) -> str:
    """The form under which two emails are the same address: compared case-insensitively."""
    if email.isascii() and '"' not in email:
        return email.lower()  # what normalising would give, without validating again
    return _normalized(email).lower()


def _check_syntax(email: str) -> None:
    """email-validator's verdict on the email. Most addresses have a plain local part
    (letters, digits, `_ % + -`, single dots) that the validator accepts as it is; for
    those only the domain needs its rules (IDNA and all), and a file of a million rows
    has few domains: each is validated once. Anything else is validated whole."""
    local, at, domain = email.rpartition("@")
    if at and len(local) <= _MAX_LOCAL_LENGTH and _PLAIN_LOCAL.match(local) and domain.isascii():
        _check_domain(domain.lower())
    else:
        _normalized(email)


@functools.lru_cache(maxsize=4096)
def _check_domain(domain: str) -> None:
    validate_email(f"a@{domain}", check_deliverability=False)


@functools.lru_cache(maxsize=4096)
def _normalized(email: str) -> str:
    # Imports and reviews check each address more than once: validate it once.
    return validate_email(email, check_deliverability=False).normalized


def parse_username(value: str, *, field: str = "username") -> str:
    username = clean(value)
    if not username:
        raise InvalidInputError("Enter a username or leave it out.", field=field, code="REQUIRED")
    if len(username) > MAX_USERNAME_LENGTH:
        raise InvalidInputError(
            f"Shorten the username to at most {MAX_USERNAME_LENGTH} characters.",
            field=field,
            code="TOO_LONG",
        )
    if not _USERNAME.match(username):
        raise InvalidInputError(
            "Use only letters, digits and . _ - + @ in the username.",
            field=field,
            code="INVALID_USERNAME",
        )
    return username


def username_key(username: str) -> str:
    return username.lower()


def username_base(email: str) -> str:
    """The username derived from an email's local part: lower case, [a-z0-9._-] only."""
    local = email.rsplit("@", 1)[0]
    ascii_local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9._-]", "", ascii_local.lower()).strip(".-_")
    return base[: MAX_USERNAME_LENGTH - 8] or "user"


def username_candidates(email: str) -> Iterator[str]:
    """Derived usernames in the order they are tried: base, base-2, base-3, ..."""
    base = username_base(email)
    yield base
    for n in range(2, MAX_DERIVED_USERNAMES + 1):
        yield f"{base}-{n}"


def parse_permissions(values: list[str], *, field: str = "permissions") -> list[str]:
    """Permissions kept sorted and without repeats."""
    if len(values) > MAX_PERMISSIONS:
        raise InvalidInputError(
            f"Give at most {MAX_PERMISSIONS} permissions.", field=field, code="TOO_MANY"
        )
    permissions = [clean(value) for value in values]
    for index, permission in enumerate(permissions):
        if (
            not permission
            or len(permission) > MAX_PERMISSION_LENGTH
            or not _PERMISSION.match(permission)
        ):
            raise InvalidInputError(
                f"Permission '{permission}' is not valid: use 1 to {MAX_PERMISSION_LENGTH} of "
                "letters, digits and _ . : * / -.",
                field=f"{field}[{index}]",
                code="INVALID_PERMISSION",
            )
    return sorted(set(permissions))


def parse_group_name(value: str, *, field: str = "name") -> str:
    return parse_name(value, field=field)


def group_name_key(name: str) -> str:
    return name.casefold()


def _label(field: str) -> str:
    return {"firstName": "first name", "lastName": "last name"}.get(field, field)


MAX_REASON_LENGTH = 500


def parse_reason(value: str | None, *, field: str = "reason") -> str | None:
    if value is None:
        return None
    reason = clean(value)
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInputError(
            f"Shorten the reason to at most {MAX_REASON_LENGTH} characters.",
            field=field,
            code="TOO_LONG",
        )
    if has_control_characters(reason.replace("\n", "")):
        raise InvalidInputError(
            "Remove the control characters from the reason.", field=field, code="UNSAFE_VALUE"
        )
    return reason or None
