"""From an upload's bytes to text: refusing what is not text, and finding the encoding.

People upload what their spreadsheet saved: UTF-8 with or without a BOM (Excel's "CSV
UTF-8", LibreOffice, Google Sheets), UTF-16 with a BOM (Excel's "Unicode Text"), or a
legacy single-byte code page (Excel's plain "CSV": cp1252 in Western locales).

The encoding is decided once, from the first bytes that need it:

1. a BOM names it: UTF-8, UTF-16 LE or UTF-16 BE;
2. while every byte is ASCII nothing needs deciding: ASCII reads the same in each;
3. the first chunk with other bytes is UTF-8 if it decodes as strict UTF-8 (text in a
   code page almost never does),
4. or else the likeliest single-byte code page for charset-normalizer, cp1252 whenever
   it is as likely as the likeliest: on names alone cp1252, cp1250 and MacRoman often
   score the same, and cp1252 is what Excel saves in most of the world.

Every later chunk is decoded strictly with the encoding decided: bytes it cannot read
(a file that mixes UTF-8 and cp1252, a truncated UTF-16 file) make the file unreadable.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from domain.imports.invalid_file import InvalidFileError, InvalidFileReason

#: The code pages a file without BOM that is not UTF-8 may be in.
SINGLE_BYTE_ENCODINGS = (
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "mac_roman",
)
#: Taken whenever it is as likely as charset-normalizer's first choice.
PREFERRED_ENCODING = "cp1252"
#: How much more chaos (charset-normalizer's measure of mess, 0 to 1) counts as as likely.
_CHAOS_TIE = 0.01

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: How the files people upload by mistake begin.
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)
_BINARY = "made of binary data"
_SAVE_AS_CSV = "save the sheet as CSV (comma- or semicolon-separated) and upload it again."
_SAVE_AS_UTF8 = "save it from your spreadsheet as 'CSV UTF-8' and upload it again."


class Decoder:
    """Decodes one upload chunk by chunk, in order; `encoding` is "ascii" until decided."""

    def __init__(self) -> None:
        self.encoding = "ascii"
        self._decoder: codecs.IncrementalDecoder | None = None
        self._started = False
        self._lines = _LineCount()

    def decode(self, chunk: bytes, *, final: bool = False) -> str:
        """The text of the next chunk; `final` for the last one (even when empty)."""
        if not self._started:
            self._started = True
            chunk = self._begin(chunk)
        if self._decoder is None and chunk.isascii():
            text = chunk.decode("ascii")
        else:
            text = self._decoded(chunk, final)
        if "\x00" in text:
            raise _not_text(_BINARY)
        self._lines.add(text)
        return text

    def _begin(self, chunk: bytes) -> bytes:
        """The first chunk without its BOM; refused if it starts like a known binary file."""
        for signature, kind in _SIGNATURES:
            if chunk.startswith(signature):
                raise _not_text(kind)
        for bom, encoding in _BOMS:
            if chunk.startswith(bom):
                self._choose(encoding)
                return chunk[len(bom) :]
        return chunk

    def _decoded(self, chunk: bytes, final: bool) -> str:
        decoder = self._decoder or self._choose(_encoding_of_text(chunk, final))
        pending = decoder.getstate()[0]
        try:
            return decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            raise self._unreadable(pending + chunk, error) from None

    def _choose(self, encoding: str) -> codecs.IncrementalDecoder:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()
        return self._decoder

    def _unreadable(self, data: bytes, error: UnicodeDecodeError) -> InvalidFileError:
        before = data[: error.start].decode(self.encoding, errors="replace")
        line = self._lines.count + _LineCount.ends(before) + 1
        return InvalidFileError(
            InvalidFileReason.UNREADABLE_ENCODING,
            f"Line {line} has characters that cannot be read as {self.encoding}, the encoding "
            f"of the lines before it: {_SAVE_AS_UTF8}",
            line=line,
        )


def _encoding_of_text(chunk: bytes, final: bool) -> str:
    if b"\x00" in chunk:  # binary data rather than text in an encoding to find
        raise _not_text(_BINARY)
    return detect_encoding(chunk, final=final)


def detect_encoding(sample: bytes, *, final: bool) -> str:
    """The encoding of a file without BOM whose first chunk that is not all ASCII is `sample`
    (`final` when nothing follows it)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final)
    except UnicodeDecodeError:
        return _single_byte_encoding(sample)
    return "utf-8"


def _single_byte_encoding(sample: bytes) -> str:
    matches = from_bytes(_lines_not_ascii(sample), cp_isolation=list(SINGLE_BYTE_ENCODINGS))
    best = matches.best()
    if best is None:
        raise InvalidFileError(
            InvalidFileReason.UNREADABLE_ENCODING,
            f"The file's characters cannot be read in any known encoding: {_SAVE_AS_UTF8}",
        )
    as_likely = (match for match in matches if match.chaos <= best.chaos + _CHAOS_TIE)
    if any(PREFERRED_ENCODING in match.could_be_from_charset for match in as_likely):
        return PREFERRED_ENCODING
    return best.encoding


def _lines_not_ascii(sample: bytes) -> bytes:
    """What tells code pages apart; charset-normalizer samples only parts of its input. Lines
    end in CR, LF or CRLF: a file of CR line ends is not one long line."""
    return b"\n".join(line for line in sample.splitlines() if not line.isascii())


def _not_text(kind: str) -> InvalidFileError:
    return InvalidFileError(
        InvalidFileReason.NOT_CSV, f"The file is {kind}, not a CSV file: {_SAVE_AS_CSV}"
    )


class _LineCount:
    """Line ends (CR, LF or CRLF) in the text decoded so far, to name a line at fault."""

    def __init__(self) -> None:
        self.count = 0
        self._after_cr = False

    def add(self, text: str) -> None:
        self.count += self.ends(text)
        if self._after_cr and text.startswith("\n"):
            self.count -= 1  # a CRLF split between two chunks
        if text:
            self._after_cr = text.endswith("\r")

    @staticmethod
    def ends(text: str) -> int:
        return text.count("\n") + text.count("\r") - text.count("\r\n")
