"""Invitation tokens: derived from the invitation id with the server key, so that only
their hash is stored, and checked before anything is looked up."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.invitations import InvitationTokens

TOKENS = InvitationTokens(b"k" * 32)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def tampered(token: str, index: int) -> str:
    """The token with one bit of its decoded byte `index` flipped, encoded again."""
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_a_token_names_the_invitation_it_was_made_for() -> None:
    invitation_id = uuid4()
    assert TOKENS.invitation_id_of(TOKENS.token_for(invitation_id)) == invitation_id


def test_an_issued_invitation_is_found_from_its_token() -> None:
    invitation = TOKENS.issue(NOW, timedelta(days=7))
    assert TOKENS.invitation_id_of(TOKENS.token_for(invitation.id)) == invitation.id
    assert invitation.expires_at - invitation.issued_at == timedelta(days=7)


def test_surrounding_spaces_of_a_copied_token_are_ignored() -> None:
    invitation_id = uuid4()
    assert TOKENS.invitation_id_of(f"  {TOKENS.token_for(invitation_id)}\n") == invitation_id


def test_a_token_made_with_another_key_is_not_ours() -> None:
    other = InvitationTokens(b"o" * 32)
    assert TOKENS.invitation_id_of(other.token_for(uuid4())) is None


@pytest.mark.parametrize(
    "index",
    [0, 15, 16, 47],
    ids=["first id byte", "last id byte", "first mac byte", "last mac byte"],
)
def test_a_token_with_a_changed_byte_is_not_ours(index: int) -> None:
    assert TOKENS.invitation_id_of(tampered(TOKENS.token_for(uuid4()), index)) is None


def test_a_token_with_the_mac_of_another_invitation_is_not_ours() -> None:
    first, second = TOKENS.token_for(uuid4()), TOKENS.token_for(uuid4())
    spliced = (
        base64.urlsafe_b64decode(first + "==")[:16] + base64.urlsafe_b64decode(second + "==")[16:]
    )
    assert TOKENS.invitation_id_of(base64.urlsafe_b64encode(spliced).decode()) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "x" * 64,
        "!" * 64,
        "=" * 64,
        "A" * 10_000,
        "é" * 64,
        "\u0000" * 64,
    ],
    ids=["empty", "blank", "short", "letters", "punctuation", "padding", "10 kB", "accents", "nul"],
)
def test_garbage_is_not_a_token(text: str) -> None:
    assert TOKENS.invitation_id_of(text) is None


def test_a_truncated_or_lengthened_token_is_not_ours() -> None:
    token = TOKENS.token_for(uuid4())
    assert TOKENS.invitation_id_of(token[:-1]) is None
    assert TOKENS.invitation_id_of(token[:-4]) is None
    assert TOKENS.invitation_id_of(token + "AAAA") is None


def test_a_token_with_a_non_ascii_character_is_not_ours() -> None:
    token = TOKENS.token_for(uuid4())
    assert TOKENS.invitation_id_of(token[:-1] + "é") is None


def test_a_token_of_the_right_length_without_a_valid_mac_is_not_ours() -> None:
    raw = uuid4().bytes + bytes(32)
    assert TOKENS.invitation_id_of(base64.urlsafe_b64encode(raw).decode()) is None


def test_tokens_are_url_safe_without_padding() -> None:
    for _ in range(200):
        assert re.fullmatch(r"[A-Za-z0-9_-]{64}", TOKENS.token_for(uuid4()))


def test_tokens_of_different_invitations_are_distinct() -> None:
    tokens = {TOKENS.token_for(uuid4()) for _ in range(1_000)}
    assert len(tokens) == 1_000


def test_the_same_invitation_has_the_same_token_but_another_key_gives_another() -> None:
    invitation_id = UUID("6f1c1f2e-9a4b-4c37-8d55-0a7b3f1e2d90")
    assert TOKENS.token_for(invitation_id) == TOKENS.token_for(invitation_id)
    assert InvitationTokens(b"o" * 32).token_for(invitation_id) != TOKENS.token_for(invitation_id)


def test_the_stored_hash_is_not_the_token() -> None:
    invitation = TOKENS.issue(NOW, timedelta(days=7))
    token = TOKENS.token_for(invitation.id)
    assert invitation.token_hash == InvitationTokens.hash(token)
    assert token not in invitation.token_hash
    assert token not in str(invitation.as_event_data())


def test_a_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        InvitationTokens(b"k" * 31)


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token[:10] + "!" + token[10:],
        lambda token: token + "==",
        lambda token: token[:20] + " \n" + token[20:],
        lambda token: (
            token.replace("-", "+").replace("_", "/")
            if "-" in token or "_" in token
            else token[:-1] + "+"
        ),
    ],
    ids=["inner symbol", "padding", "inner space", "standard alphabet"],
)
def test_a_token_written_otherwise_than_issued_is_not_ours(alter: Callable[[str], str]) -> None:
    token = TOKENS.token_for(uuid4())
    assert TOKENS.invitation_id_of(alter(token)) is None
