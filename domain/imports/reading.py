"""Reading an uploaded CSV file as rows of the template's columns (step 3 of an import).

The design is one streaming pass. `open_csv` judges at once everything the start of the
file tells: its size (when the stream can tell it), binary content, a BOM, the
delimiter, the header, and that a first data row exists. The `CsvFile` it returns then
gives the rows one at a time as it is iterated; what only the rest of the file can show
(broken quoting, more rows than allowed, more bytes than allowed from a stream that
cannot tell its size, bytes the encoding cannot read) raises `InvalidFileError` during
the iteration, after the rows before it were given. A caller that must refuse such a
file before it keeps anything reads it twice: once to the end keeping nothing, then
again from the start (an upload is a seekable spooled file).

The pipeline, each stage pulling from the one before:

    bytes   CHUNK_BYTES at a time, never more than max_bytes + 1 in all
    text    decoding.Decoder: the encoding decided from the first bytes that need it
    lines   records.Lines: physical lines (CR, LF or CRLF), counted for line numbers
    records records.records: csv.reader, strict, over those lines
    rows    columns.Header: the cells by template column, numbered

Only one chunk (its bytes, text and lines) and one row are held at a time, whatever the
size of the file; the rows are not kept. Empty rows are held back as line numbers until
a filled row shows they are not the file's trailing empty rows, which are dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import IO

from domain.imports.columns import (
    MANDATORY_COLUMNS,
    TEMPLATE,
    TEMPLATE_COLUMNS,
    ColumnSet,
    Header,
    detect_delimiter,
    template_bytes,
)
from domain.imports.decoding import Decoder
from domain.imports.invalid_file import InvalidFileError, InvalidFileReason
from domain.imports.records import MAX_LINE_CHARS, Lines, Record, records

__all__ = [
    "CHUNK_BYTES",
    "MANDATORY_COLUMNS",
    "MAX_BYTES",
    "MAX_LINE_CHARS",
    "MAX_ROWS",
    "TEMPLATE_COLUMNS",
    "CsvFile",
    "CsvRow",
    "InvalidFileError",
    "InvalidFileReason",
    "open_csv",
    "read_rows",
    "template_bytes",
]

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
CHUNK_BYTES = 64 * 1024

_MIB = 1024 * 1024
#: What a line holds before the header that is not the header: spaces and delimiters.
_NOT_HEADINGS = " \t\r\n,;"


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row as found in the file.

    `number` counts the data rows from 1 (the header is not counted); `line` is the
    physical line where the row starts, as a text editor shows it. `values` has every
    template column: the cell's text untouched (trimming and NFC are the validator's
    job), or "" when the row or the file lacks that cell.
    """

    number: int
    line: int
    values: dict[str, str]


class CsvFile:
    """An upload whose start was found good: its rows, read as it is iterated, once."""

    def __init__(
        self, header: Header, delimiter: str, decoder: Decoder, rows: Iterator[CsvRow]
    ) -> None:
        self.delimiter = delimiter
        self.columns = tuple(column for column in header.columns if column is not None)
        self._decoder = decoder
        self._rows = rows

    @property
    def encoding(self) -> str:
        """The encoding found so far: "ascii" until a byte needs a decision."""
        return self._decoder.encoding

    def __iter__(self) -> Iterator[CsvRow]:
        return self._rows


def open_csv(
    stream: IO[bytes],
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    columns: ColumnSet = TEMPLATE,
) -> CsvFile:
    """Opens an upload read from its current position; InvalidFileError for any fault
    that its start shows. `columns` are the columns the file may have (the template's)."""
    _refuse_known_size(stream, max_bytes)
    decoder = Decoder()
    lines = Lines(_texts(_chunks(stream, max_bytes), decoder))
    header_line = _header_line(lines)
    delimiter = detect_delimiter(header_line, columns)
    found = records(lines, header_line, delimiter)
    header = Header.match(next(found)[1], columns)
    rows = _rows(found, header, max_rows)
    first = next(rows, None)
    if first is None:
        raise _empty(
            "The file has a header but no users: add a row under it for each user and "
            "upload it again."
        )
    return CsvFile(header, delimiter, decoder, chain([first], rows))


def read_rows(
    stream: IO[bytes], *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Iterator[CsvRow]:
    """The rows of an upload, as `open_csv` gives them (its start is checked at once)."""
    return iter(open_csv(stream, max_bytes=max_bytes, max_rows=max_rows))


def _refuse_known_size(stream: IO[bytes], max_bytes: int) -> None:
    """TOO_LARGE before any reading when the stream can tell its size."""
    if not stream.seekable():
        return
    position = stream.tell()
    size = stream.seek(0, io.SEEK_END) - position
    stream.seek(position)
    if size > max_bytes:
        raise _too_large(max_bytes)


def _chunks(stream: IO[bytes], max_bytes: int) -> Iterator[bytes]:
    """The bytes of the upload; TOO_LARGE as soon as they pass max_bytes, so that at most
    one byte more is ever read."""
    total = 0
    while chunk := stream.read(min(CHUNK_BYTES, max_bytes + 1 - total)):
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes)
        yield chunk


def _texts(chunks: Iterator[bytes], decoder: Decoder) -> Iterator[str]:
    """The text of each chunk; one chunk is read ahead, to tell the decoder the last one."""
    chunk = next(chunks, None)
    while chunk is not None:
        following = next(chunks, None)
        yield decoder.decode(chunk, final=following is None)
        chunk = following


def _header_line(lines: Lines) -> str:
    """The first line that holds more than spaces and delimiters."""
    for line in lines:
        if line.strip(_NOT_HEADINGS):
            return line
    raise _empty("The file is empty: fill in the template, one user a row, and upload it again.")


def _rows(records: Iterator[Record], header: Header, max_rows: int) -> Iterator[CsvRow]:
    """The data rows, numbered; an empty row only once a filled row follows it."""
    number = 0
    empty_lines: list[int] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            if number + len(empty_lines) < max_rows:  # more would be too many anyway
                empty_lines.append(line)
            continue
        if number + len(empty_lines) >= max_rows:
            raise _too_many_rows(max_rows)
        for empty_line in empty_lines:
            number += 1
            yield CsvRow(number, empty_line, dict.fromkeys(header.kind.columns, ""))
        empty_lines.clear()
        number += 1
        yield CsvRow(number, line, header.values(cells, line=line))


def _empty(message: str) -> InvalidFileError:
    return InvalidFileError(InvalidFileReason.EMPTY, message)


def _too_large(max_bytes: int) -> InvalidFileError:
    return InvalidFileError(
        InvalidFileReason.TOO_LARGE,
        f"The file is larger than {_size(max_bytes)}: split it into smaller files and "
        "upload each of them.",
    )


def _too_many_rows(max_rows: int) -> InvalidFileError:
    return InvalidFileError(
        InvalidFileReason.TOO_MANY_ROWS,
        f"The file has more than {max_rows:,} rows: split it into files of at most "
        f"{max_rows:,} rows and upload each of them.",
    )


def _size(count: int) -> str:
    return f"{count / _MIB:g} MB" if count >= _MIB else f"{count:,} bytes"
