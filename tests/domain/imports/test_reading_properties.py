"""Properties of the reader over generated files: any bytes give rows or InvalidFileError,
and rows written as spreadsheets save them read back as they were written.

The examples are derandomized (the profile in tests/conftest.py): every run tries the same
ones, so a failure is reproducible and CI is never flaky; `--hypothesis-profile=explore`
tries new ones.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.imports.columns import DELIMITERS, MANDATORY_COLUMNS, TEMPLATE_COLUMNS
from domain.imports.reading import CHUNK_BYTES, CsvRow, InvalidFileError, open_csv
from tests.domain.imports.uploads import CountingStream

# ---------------------------------------------------------------- any bytes

HEADERS = [b"", b"first_name,last_name,email\r\n", b"email;username;first_name;last_name\n"]
BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]
#: Bytes that steer the reader into its corners: quotes, delimiters, line ends, NUL,
#: UTF-8 lead and continuation bytes, cp1252 letters, and a BOM's bytes.
CSV_BYTES = b'"",;\t\r\n \x00aZ@.\xc3\xa9\xe2\x80\x99\xe9\xfc\x81\xff\xfe\xef\xbb\xbf'


@st.composite
def uploads(draw: st.DrawFn) -> bytes:
    """Bytes of any kind, often after a BOM, or a header the reader accepts, or both."""
    body = draw(
        st.one_of(
            st.binary(max_size=2000),
            st.lists(st.sampled_from([bytes([b]) for b in CSV_BYTES]), max_size=400).map(b"".join),
        )
    )
    return draw(st.sampled_from(BOMS)) + draw(st.sampled_from(HEADERS)) + body


@given(
    data=uploads(),
    max_rows=st.integers(min_value=1, max_value=20),
    max_bytes=st.sampled_from([50, 500, CHUNK_BYTES]),
    seekable=st.booleans(),
)
def test_any_bytes_give_rows_or_an_invalid_file_error(
    data: bytes, max_rows: int, max_bytes: int, seekable: bool
) -> None:
    stream = CountingStream(data, seekable=seekable)
    rows: list[CsvRow] = []
    refusal = ""
    try:
        rows.extend(open_csv(stream, max_bytes=max_bytes, max_rows=max_rows))
    except InvalidFileError as error:
        refusal = error.message

    assert refusal or 0 < len(rows) <= max_rows
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))


# ---------------------------------------------------------------- round trip

#: How spreadsheets save: (encoding as Python names it, BOM written before the text).
ENCODINGS = {
    "utf-8": ("utf-8", b""),
    "utf-8-bom": ("utf-8", codecs.BOM_UTF8),
    "utf-16-le-bom": ("utf-16-le", codecs.BOM_UTF16_LE),
    "utf-16-be-bom": ("utf-16-be", codecs.BOM_UTF16_BE),
    "cp1252": ("cp1252", b""),
}
LINE_ENDS = ["\r\n", "\n", "\r"]
#: What cells hold besides letters: what must be quoted, and what must not be trimmed.
SPECIAL = ",;\t\"\r\n '-.@"
#: Names as written in Western Europe, whose letters cp1252 has, and its typographic marks.
CP1252_NAMES = """José Zoë Müller Ærø François Renée Chloé Léa Hélène Jürgen Björn Søren Zoltán
Ágnes Iñaki Núria Óscar Thérèse Gaëlle Anaïs Jörg Günter Åsa Märta Ólafur Siobhán Seán Ciarán
Dorothée
Ömer Inês João Sebastián Álvaro Ramón Mónica Raúl García Martínez Weiß Groß Schäfer Böhm Krüger
Lefèvre Bérénger Sørensen Jørgensen Åberg Öberg Fernández Gonçalves Magalhães Araújo Šmid Žák
Œuvray Ÿvette O’Brien “Ren” Smith–Jones Ann Lee""".split()  # noqa: SIM905


#: How people write a heading: "first_name", "First Name", "first-name", " FIRST_NAME ".
HEADING_FORMS = [
    lambda words: "_".join(words),
    lambda words: " ".join(word.capitalize() for word in words),
    lambda words: "-".join(words),
    lambda words: f" {'_'.join(words).upper()} ",
]


@dataclass(frozen=True)
class Sheet:
    """Rows as a person typed them, and how the spreadsheet saved them: `columns` are the
    template columns in the file's order, `headings` how the header names them."""

    encoding: str
    delimiter: str
    line_end: str
    columns: tuple[str, ...]
    headings: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def text(self, filler: int) -> str:
        """The file's text; `filler` characters of a first row push the rows after it
        across the end of the first chunk the reader decodes."""
        return self.head(filler) + "".join(map(self._line, self.rows))

    def head(self, filler: int) -> str:
        """The text before the generated rows: the header, and the filler row if any."""
        return "".join(map(self._line, [self.headings, *self._filler(filler)]))

    def _filler(self, filler: int) -> list[tuple[str, ...]]:
        if not filler:
            return []
        return [tuple("f" * filler if column == "email" else "x" for column in self.columns)]

    def _line(self, cells: Sequence[str]) -> str:
        return self.delimiter.join(map(self._cell, cells)) + self.line_end

    def _cell(self, cell: str) -> str:
        # As Excel and LibreOffice quote: a cell holding the delimiter, a quote or a line
        # break (csv.writer quotes only the line breaks of its own line terminator).
        if any(mark in cell for mark in (self.delimiter, '"', "\r", "\n")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    def expected(self, filler: int) -> list[CsvRow]:
        """The rows the reader must give: every cell as written ("" for a username the
        file has no column for), numbered, with the physical line (CR, LF or CRLF ending
        one) where each starts."""
        line = 2
        rows = []
        for number, cells in enumerate([*self._filler(filler), *self.rows], 1):
            given = dict(zip(self.columns, cells, strict=True))
            rows.append(CsvRow(number, line, dict.fromkeys(TEMPLATE_COLUMNS, "") | given))
            text = self._line(cells)
            line += text.count("\n") + text.count("\r") - text.count("\r\n")
        return rows


def _cells(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Words, each followed by a mark (a space, a quote, a delimiter, a line end...)."""
    marked = st.tuples(words, st.sampled_from(SPECIAL)).map("".join)
    return st.lists(marked, max_size=4).map("".join)


@st.composite
def sheets(draw: st.DrawFn) -> Sheet:
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    # Detecting a code page is a guess from what text looks like: random letters would be
    # as likely in several code pages; names from the list are what cp1252 files hold.
    words = (
        st.sampled_from(CP1252_NAMES)
        if encoding == "cp1252"
        else st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=3
        )
    )
    optional = draw(st.sampled_from([(), ("username",)]))
    columns = tuple(draw(st.permutations([*MANDATORY_COLUMNS, *optional])))
    form = draw(st.sampled_from(HEADING_FORMS))
    row = st.tuples(*[_cells(words)] * len(columns))
    # A row of spaces only is an empty row (read as empty cells, dropped at the end).
    rows = draw(st.lists(row.filter(lambda cells: any(c.strip() for c in cells)), min_size=1))
    return Sheet(
        encoding,
        draw(st.sampled_from(DELIMITERS)),
        draw(st.sampled_from(LINE_ENDS)),
        columns,
        tuple(form(column.split("_")) for column in columns),
        rows,
    )


def read_back(data: bytes) -> list[CsvRow]:
    return list(open_csv(io.BytesIO(data)))


def _first_chunk_with_other_bytes(data: bytes) -> bytes:
    return next(
        (
            chunk
            for i in range(0, len(data), CHUNK_BYTES)
            if not (chunk := data[i : i + CHUNK_BYTES]).isascii()
        ),
        b"",
    )


def _reads_as_utf8(chunk: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(chunk)
    except UnicodeDecodeError:
        return False
    return True


@given(sheet=sheets(), crosses_a_chunk=st.booleans(), shift=st.integers(0, 400))
def test_rows_written_by_a_spreadsheet_read_back_as_written(
    sheet: Sheet, crosses_a_chunk: bool, shift: int
) -> None:
    name, bom = ENCODINGS[sheet.encoding]
    filler = 0
    if crosses_a_chunk:  # the first chunk ends about `shift` bytes into the generated rows
        unit = len("f".encode(name))
        head = len(bom) + len(sheet.head(1).encode(name))
        filler = 1 + (CHUNK_BYTES - shift - head) // unit
    data = bom + sheet.text(filler).encode(name)
    if sheet.encoding == "cp1252":
        # By design the encoding is decided from the first chunk that is not ASCII: a
        # code page's bytes that also read as UTF-8 are read as UTF-8.
        assume(not _reads_as_utf8(_first_chunk_with_other_bytes(data)))

    assert read_back(data) == sheet.expected(filler)
