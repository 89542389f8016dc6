"""The few pieces of MIME an invitation mail needs, written out directly.

The standard library's `email` package parses every header it is given and folds it
again through a general tree of tokens: about 3 ms a mail, most of a sender's time.
An invitation is always the same shape (a few headers, a text and an HTML part), so
its bytes are written here as RFC 5322, 2045 and 2047 describe them, and read back by
any mail program as the package would have written them: plain ASCII as it is, every
other header text in UTF-8 encoded words, both parts in quoted-printable (7-bit clean,
so any mail server takes them). Lines end in CRLF, as SMTP sends them.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable

CRLF = "\r\n"
#: Header lines are kept to this length where they can be (RFC 5322's SHOULD).
LINE = 78
#: An encoded word is at most 75 characters (RFC 2047): its UTF-8 and Q prefix and
#: its end take 12 of them.
WORD = 75 - len("=?utf-8?q??=")
#: Characters a Q-encoded word may hold as they are, even in a display name
#: (RFC 2047 section 5(3)); a space is written "_", anything else =XX.
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
#: Text that goes out as it is: printable ASCII words, one space between them, none
#: of them starting an encoded word ("=?"), none too long to fold.
_PLAIN = re.compile(r"(?!.*=\?)[!-~]{1,70}(?: [!-~]{1,70})*")
#: A display name of atoms (RFC 5322 atext) one space apart, written as it is; and one
#: of other printable ASCII, written in quotes; both short enough for a line, and
#: without anything that reads as an encoded word.
_ATOMS = re.compile(
    r"(?!.*=\?)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
_QUOTABLE = re.compile(r"(?!.*=\?)[ -~]*")
_LONGEST_PHRASE = 900


def _q(character: str) -> str:
    if character in _Q_SAFE:
        return character
    if character == " ":
        return "_"
    return "".join(f"={byte:02X}" for byte in character.encode("utf-8"))


def encoded_words(text: str) -> list[str]:
    """The text as UTF-8 Q-encoded words, each whole characters and short enough for a
    line of its own; a reader joins them back without the spaces between them."""
    words, current = [], ""
    for character in text:
        token = _q(character)
        if len(current) + len(token) > WORD:
            words.append(f"=?utf-8?q?{current}?=")
            current = ""
        current += token
    words.append(f"=?utf-8?q?{current}?=")
    return words


def folded(name: str, pieces: Iterable[str]) -> str:
    """`Name: piece piece …` with CRLF, each space between pieces a place where the line
    may break (the next line starting with that space) to keep lines within LINE."""
    lines, line = [], f"{name}:"
    for piece in pieces:
        if len(line) + 1 + len(piece) > LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {piece}"
    lines.append(line)
    return CRLF.join(lines) + CRLF


def unstructured(name: str, text: str) -> str:
    """A header of free text (Subject): as it is when it is plain ASCII, else encoded."""
    if _PLAIN.fullmatch(text):
        return folded(name, text.split(" "))
    return folded(name, encoded_words(text))


def mailbox(name: str, display: str, addr_spec: str) -> str:
    """A header of one address with its display name (To): atoms as they are, other
    ASCII in quotes, anything else (or longer than a line can hold) in encoded words."""
    if not display:
        return folded(name, [addr_spec])
    if len(display) > _LONGEST_PHRASE:
        phrase = encoded_words(display)
    elif _ATOMS.fullmatch(display):
        phrase = display.split(" ")
    elif _QUOTABLE.fullmatch(display):
        phrase = ['"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"']
    else:
        phrase = encoded_words(display)
    return folded(name, [*phrase, f"<{addr_spec}>"])


def quoted_printable(text: str) -> bytes:
    """The text in UTF-8 as a quoted-printable body with CRLF line ends; its lines are
    the lines of bytes.splitlines (CR, LF or CRLF), as the email package splits them."""
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\r\n".join(lines) + b"\r\n", istext=True)


def alternative(headers: str, boundary: str, text: str, html: str) -> bytes:
    """A multipart/alternative message of a text and an HTML part after the headers
    given. The boundary holds "=_", which quoted-printable never writes, so no part
    can contain it."""
    head = (
        f"{headers}MIME-Version: 1.0{CRLF}"
        f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
    )
    parts = [head.encode("utf-8")]
    for subtype, content in (("plain", text), ("html", html)):
        parts.append(
            f"--{boundary}{CRLF}"
            f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}".encode("ascii")
        )
        parts.append(quoted_printable(content))
    parts.append(f"--{boundary}--{CRLF}".encode("ascii"))
    return b"".join(parts)
