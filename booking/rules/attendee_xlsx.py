"""Reading the first sheet of an uploaded ``.xlsx`` with hard limits, before any full parse.

An ``.xlsx`` is a zip of XML parts, so a small upload can unpack into gigabytes (a zip bomb),
declare a million cells in one row, carry a huge shared-strings table, or hold XML entities
that expand without end. openpyxl reads whole parts into memory, so it is not used for
uploads. Instead:

1. the zip's directory is inspected first: member count, declared uncompressed sizes and
   compression ratio of the parts we read;
2. the parts are streamed in chunks through expat with a target that counts rows, columns,
   cells and shared strings as they arrive and stops at the first limit;
3. any DOCTYPE (and so any entity declaration) ends the parse;
4. CPU time is checked as it goes.

Everything over a limit is a :class:`~booking.errors.BookingError` on the upload field.
"""
from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from xml.etree.ElementTree import ParseError, XMLParser

from flask_babel import lazy_gettext as _l

from booking.errors import BookingError

MAX_MEMBERS = 200
MAX_PART_BYTES = 8 * 1024 * 1024      # uncompressed, per part read
MAX_RATIO = 200                        # uncompressed / compressed, per part read
MAX_COLUMNS = 50
MAX_CELLS = 40_000
MAX_SHARED_STRINGS = 20_000
MAX_SHARED_CHARS = 1_000_000
MAX_CELL_CHARS = 1_000
MAX_CPU_SECONDS = 1.5
CHUNK = 64 * 1024

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})\d*$")


class _Refused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def refuse(message) -> BookingError:
    return BookingError("attendee_file", message, status=422, field="attendee_file")


def _unreadable() -> BookingError:
    return refuse(_l("无法读取该 Excel 文件，请确认是 .xlsx 格式。"))


class _Budget:
    """CPU time allowed for one file."""

    def __init__(self):
        self.started = time.process_time()

    def check(self) -> None:
        if time.process_time() - self.started > MAX_CPU_SECONDS:
            raise _Refused(_l("文件过于复杂，无法在限定时间内读取。"))


class _Target:
    """Base expat target: any DOCTYPE ends the parse before an entity is declared."""

    def doctype(self, name, pubid, system):
        raise _Refused(_l("Excel 文件中含有不允许的 XML 声明（DTD）。"))

    def close(self):
        return None


class _SharedStrings(_Target):
    def __init__(self):
        self.strings: list[str] = []
        self.chars = 0
        self._text: list[str] | None = None

    def start(self, tag, attrs):
        if tag == _MAIN + "si":
            if len(self.strings) >= MAX_SHARED_STRINGS:
                raise _Refused(_l("Excel 文件中的文字过多。"))
            self._text = []

    def data(self, text):
        if self._text is not None:
            self.chars += len(text)
            if self.chars > MAX_SHARED_CHARS:
                raise _Refused(_l("Excel 文件中的文字过多。"))
            self._text.append(text)

    def end(self, tag):
        if tag == _MAIN + "si" and self._text is not None:
            self.strings.append("".join(self._text)[:MAX_CELL_CHARS])
            self._text = None


class _Sheet(_Target):
    def __init__(self, shared: list[str], max_rows: int):
        self.shared = shared
        self.max_rows = max_rows
        self.rows: list[list[str]] = []
        self.cells = 0
        self._row: list[str] | None = None
        self._cell: tuple[int, str] | None = None
        self._value: list[str] | None = None

    def start(self, tag, attrs):
        if tag == _MAIN + "row":
            if len(self.rows) >= self.max_rows:
                raise _Refused(_l("文件行数过多（上限 %(n)s 行）。", n=self.max_rows - 1))
            self._row = []
        elif tag == _MAIN + "c" and self._row is not None:
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise _Refused(_l("Excel 文件中的单元格过多。"))
            column = _column_index(attrs.get("r"), len(self._row))
            if column >= MAX_COLUMNS:
                raise _Refused(_l("Excel 文件的列数过多（上限 %(n)s 列）。", n=MAX_COLUMNS))
            self._cell = (column, attrs.get("t", "n"))
        elif tag in (_MAIN + "v", _MAIN + "t") and self._cell is not None:
            self._value = []

    def data(self, text):
        if self._value is not None and sum(map(len, self._value)) < MAX_CELL_CHARS:
            self._value.append(text)

    def end(self, tag):
        if tag in (_MAIN + "v", _MAIN + "t") and self._cell is not None and self._value is not None:
            column, kind = self._cell
            text = "".join(self._value)[:MAX_CELL_CHARS]
            if kind == "s":
                index = int(text) if text.isdigit() else -1
                text = self.shared[index] if 0 <= index < len(self.shared) else ""
            while len(self._row) <= column:
                self._row.append("")
            self._row[column] += text
            self._value = None
        elif tag == _MAIN + "c":
            self._cell = None
        elif tag == _MAIN + "row" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def _column_index(ref: str | None, default: int) -> int:
    match = _CELL_REF.match(ref or "")
    if not match:
        return default
    index = 0
    for letter in match.group(1):
        index = index * 26 + (ord(letter) - 64)
    return index - 1


def _stream(archive: zipfile.ZipFile, name: str, target: _Target, budget: _Budget) -> None:
    info = archive.getinfo(name)
    if info.file_size > MAX_PART_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise _Refused(_l("Excel 文件解压后过大。"))
    parser = XMLParser(target=target)
    read = 0
    with archive.open(info) as part:
        while chunk := part.read(CHUNK):
            read += len(chunk)
            if read > MAX_PART_BYTES:    # the directory may lie about sizes
                raise _Refused(_l("Excel 文件解压后过大。"))
            parser.feed(chunk)
            budget.check()
    parser.close()


class _Relations(_Target):
    def __init__(self, tag: str):
        self.tag = tag
        self.found: list[dict] = []

    def start(self, tag, attrs):
        if tag == self.tag and len(self.found) < MAX_MEMBERS:
            self.found.append(dict(attrs))

    def data(self, text):
        pass

    def end(self, tag):
        pass


def _first_sheet_path(archive: zipfile.ZipFile, budget: _Budget) -> str:
    names = set(archive.namelist())
    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        sheets = _Relations(_MAIN + "sheet")
        _stream(archive, "xl/workbook.xml", sheets, budget)
        relations = _Relations(_PKG_REL + "Relationship")
        _stream(archive, "xl/_rels/workbook.xml.rels", relations, budget)
        if sheets.found:
            wanted = sheets.found[0].get(_REL + "id")
            for relation in relations.found:
                if relation.get("Id") == wanted:
                    target = relation.get("Target", "").lstrip("/")
                    path = target if target.startswith("xl/") else "xl/" + target
                    if path in names:
                        return path
    if "xl/worksheets/sheet1.xml" in names:
        return "xl/worksheets/sheet1.xml"
    raise _unreadable()


def read_xlsx_rows(data: bytes, max_rows: int) -> list[list[str]]:
    """The first sheet's rows as text, refusing the file at the first limit it passes."""
    budget = _Budget()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if len(archive.infolist()) > MAX_MEMBERS:
                raise _Refused(_l("Excel 文件结构异常。"))
            shared = _SharedStrings()
            if "xl/sharedStrings.xml" in archive.namelist():
                _stream(archive, "xl/sharedStrings.xml", shared, budget)
            sheet = _Sheet(shared.strings, max_rows + 1)
            _stream(archive, _first_sheet_path(archive, budget), sheet, budget)
            return sheet.rows
    except _Refused as refused:
        raise refuse(refused.message) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ParseError, KeyError, ValueError,
            NotImplementedError, RuntimeError, EOFError, OSError, zlib.error):
        raise _unreadable() from None
