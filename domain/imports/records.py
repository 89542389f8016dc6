"""The records of a CSV text, each with the physical line where it starts.

The text is cut into physical lines (ending in CR, LF or CRLF, as csv.reader wants them
and as a text editor numbers them), which csv.reader reads, strict about quoting: a
quoted cell may hold delimiters, doubled quotes and line breaks. What breaks the rules
is MALFORMED, naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain

from domain.imports.invalid_file import InvalidFileError, InvalidFileReason

#: A longer line is no row of names (and a file without line ends is no CSV file).
MAX_LINE_CHARS = 1024 * 1024

#: The physical line where a record starts, and its cells.
Record = tuple[int, list[str]]


class Lines(Iterator[str]):
    """The physical lines of the text, each with its line end, as csv.reader reads them;
    `count` is how many were read, so the number of the last one."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.count = 0
        self._lines = _split_lines(texts)

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        return line


def _split_lines(texts: Iterable[str]) -> Iterator[str]:
    # A line that is cut by the end of a chunk, or may be (it ends in CR and the next
    # chunk may start with LF), waits for the next chunk.
    rest = ""
    split = 0
    for text in texts:
        lines = io.StringIO(rest + text, newline="").readlines()
        rest = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        split += len(lines)
        if len(rest) > MAX_LINE_CHARS:
            raise _line_too_long(split + 1)
        yield from lines
    if rest:
        yield rest


def records(lines: Lines, first_line: str, delimiter: str) -> Iterator[Record]:
    """Each record with the line where it starts: the first from `first_line`, which was
    the last line read from `lines`, the others from `lines`."""
    reader = csv.reader(chain([first_line], lines), delimiter=delimiter, strict=True)
    start = lines.count
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _malformed(error, start, lines.count) from None
        yield start, cells
        start = lines.count + 1


def _malformed(error: csv.Error, start: int, line: int) -> InvalidFileError:
    detail = str(error)
    if "expected after" in detail:
        message = (
            f"Line {line} has a quote inside a quoted cell that is not doubled: write it as "
            'two quotes ("") or save the sheet as CSV again, and upload the file again.'
        )
    elif "end of data" in detail:
        line = start
        message = (
            f"Line {line} opens a quoted cell that is never closed: add the closing quote "
            '(") where the cell ends, and upload the file again.'
        )
    elif "field limit" in detail:
        line = start
        message = (
            f"Line {line} has a cell over {csv.field_size_limit():,} characters long, most "
            "likely after a quote that is never closed: correct it and upload the file again."
        )
    else:
        message = f"Line {line} is not valid CSV ({detail}): correct it and upload the file again."
    return InvalidFileError(InvalidFileReason.MALFORMED, message, line=line)


def _line_too_long(line: int) -> InvalidFileError:
    return InvalidFileError(
        InvalidFileReason.MALFORMED,
        f"Line {line} is over {MAX_LINE_CHARS:,} characters long, which no row of the "
        "template is: save the sheet as CSV again and upload it.",
        line=line,
    )
