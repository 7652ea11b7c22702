"""Reading an attendee list from an uploaded CSV or XLSX file.

Organisations keep their lists in Excel or export them as CSV from WPS or Excel, so CSVs
arrive as UTF-8 (often with a BOM) or GBK. The names are taken from the column headed
姓名 / name, else from the first column; blank lines and the header row are skipped.
Pure parsing: bytes in, names out, a BookingError on anything it cannot read.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import PurePath

from flask_babel import lazy_gettext as _l

from booking.errors import BookingError
from booking.rules.attendee_xlsx import MAX_COLUMNS, read_xlsx_rows, refuse

MAX_FILE_BYTES = 512 * 1024
MAX_ROWS = 2000  # far more than any group; stops a crafted sheet from running on
MAX_CSV_LINE = 4096
NAME_HEADERS = frozenset({"姓名", "名字", "参加人员", "参会人员", "学员姓名", "name", "names",
                          "full name", "attendee", "attendees"})
ALLOWED_SUFFIXES = (".csv", ".xlsx")


def _refuse(message) -> BookingError:
    return refuse(message)


def parse_attendee_file(filename: str, data: bytes) -> list[str]:
    """The attendee names in an uploaded ``.csv`` or ``.xlsx`` file, in file order."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise _refuse(_l("只支持 CSV 或 Excel（.xlsx）文件；旧版 .xls 请另存为 .xlsx 后再上传。"))
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(_l("文件过大（上限 %(kb)s KB），请只保留姓名一列后再上传。",
                         kb=MAX_FILE_BYTES // 1024))
    if not data.strip():
        raise _refuse(_l("上传的文件是空的。"))
    rows = read_xlsx_rows(data, MAX_ROWS) if suffix == ".xlsx" else _csv_rows(data)
    return names_from_rows(rows)


def names_from_rows(rows: Iterable[list[str]]) -> list[str]:
    """Pick the name column (headed 姓名/name, else the first) and skip blanks and the header."""
    column = 0
    names: list[str] = []
    header_seen = False
    for count, row in enumerate(rows):
        if count >= MAX_ROWS:
            raise _refuse(_l("文件行数过多（上限 %(n)s 行）。", n=MAX_ROWS))
        cells = [" ".join(str(cell or "").split()) for cell in row]
        if not any(cells):
            continue
        if not header_seen and not names:
            header_seen = True
            headers = [cell.lower() for cell in cells]
            matches = [i for i, cell in enumerate(headers) if cell in NAME_HEADERS]
            if matches:
                column = matches[0]
                continue
        name = cells[column] if column < len(cells) else ""
        if name:
            names.append(name)
    return names


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(_l("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV。"))


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    text = _decode_csv(data)
    if "\x00" in text:
        raise _refuse(_l("这不是有效的 CSV 文件。"))
    lines = text.splitlines()
    if len(lines) > MAX_ROWS + 1:
        raise _refuse(_l("文件行数过多（上限 %(n)s 行）。", n=MAX_ROWS))
    if any(len(line) > MAX_CSV_LINE for line in lines):
        raise _refuse(_l("文件中有一行过长（上限 %(n)s 个字符），请只保留姓名一列。",
                         n=MAX_CSV_LINE))
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row[:MAX_COLUMNS] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error:
        raise _refuse(_l("这不是有效的 CSV 文件。")) from None
