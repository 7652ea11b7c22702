"""Plain tables to spreadsheets: CSV (UTF-8 with BOM, for Excel) and XLSX. No Flask."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from booking.render.cells import safe_cell


@dataclass
class Table:
    """A titled table of plain values, ready for a spreadsheet."""

    title: str
    headers: list[str]
    rows: list[list[str | int]]


def render_csv(tables: list[Table]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly.

    Tables follow each other, each under its title and separated by an empty line.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([table.title])
        writer.writerow([safe_cell(h) for h in table.headers])
        writer.writerows([[safe_cell(v) for v in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(tables: list[Table]) -> bytes:
    """One worksheet per table, bold frozen header row, readable column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = workbook.create_sheet(title)
        sheet.append([safe_cell(h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F4EEE4")
        for row in table.rows:
            sheet.append([safe_cell(v) for v in row])
        sheet.freeze_panes = "A2"
        widths: dict[int, int] = defaultdict(int)
        for row in [table.headers, *table.rows]:
            for column, value in enumerate(row, start=1):
                text = str(value)
                # CJK characters are about twice as wide as Latin ones.
                widths[column] = max(widths[column],
                                     sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = min(60, width + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        candidate, n = f"{clean}{n}", n + 1
    used.add(candidate)
    return candidate
