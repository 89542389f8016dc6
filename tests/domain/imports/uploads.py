"""Uploads for the reader's tests: files as spreadsheets save them, and streams that count."""

from __future__ import annotations

import io

import pytest

from domain.imports.reading import MAX_BYTES, MAX_ROWS, CsvRow, InvalidFileError, open_csv

HEADER = "first_name,last_name,email"


def upload(*lines: str, encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    """A file of these lines, each ended by `newline`."""
    return "".join(line + newline for line in lines).encode(encoding)


def read(data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> list[CsvRow]:
    return list(open_csv(io.BytesIO(data), max_bytes=max_bytes, max_rows=max_rows))


def values(data: bytes) -> list[dict[str, str]]:
    return [row.values for row in read(data)]


def refusal(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> InvalidFileError:
    """Why the file is refused, whether at its start or further into it."""
    with pytest.raises(InvalidFileError) as refused:
        read(data, max_bytes=max_bytes, max_rows=max_rows)
    return refused.value


class CountingStream(io.BytesIO):
    """An upload that counts the bytes read from it; it cannot tell its size unless
    `seekable`."""

    def __init__(self, data: bytes, *, seekable: bool = False) -> None:
        super().__init__(data)
        self.bytes_read = 0
        self._seekable = seekable

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def seekable(self) -> bool:
        return self._seekable
