"""The offline-visit import template: a header row, example rows and a sheet of instructions.
Plain data in, XLSX bytes out (no Flask)."""
from __future__ import annotations

import io


def render_offline_template(headers: list[str], examples: list[list], instructions: list[str],
                            choices: dict[int, list[str]]) -> bytes:
    """``choices`` maps a column index to the values a drop-down offers in that column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "visits"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F4EEE4")
    for row in examples:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for column in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 14 if column != 3 else 28
    for column, values in choices.items():
        letter = get_column_letter(column + 1)
        text = ",".join(values)
        if len(text) <= 250:  # Excel's limit for a literal list
            rule = DataValidation(type="list", formula1=f'"{text}"', allow_blank=True)
            rule.add(f"{letter}2:{letter}5001")
            sheet.add_data_validation(rule)
    notes = workbook.create_sheet("说明 notes")
    for line in instructions:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
