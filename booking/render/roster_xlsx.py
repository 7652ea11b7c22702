"""The daily roster as an Excel workbook, for staff who sort, filter or forward it.

A pure renderer: the same plain :class:`~booking.render.roster_pdf.RosterDay` as the PDF
in, ``.xlsx`` bytes out; no Flask, no database. One sheet: a few header rows with
the day's totals, then one row per group carrying its session's columns, with
frozen, filterable column headers.
"""
from __future__ import annotations

import io

from booking.render.cells import safe_cell
from booking.render.roster_pdf import RosterDay

# (header, width in characters)
COLUMNS = [
    ("时间 Time", 13), ("场次 Session", 30), ("教室 Room", 12), ("讲解 Guide", 11),
    ("设备 Equipment", 16), ("座位 Seats", 10), ("编号 Ref.", 13), ("单位 Organisation", 34),
    ("联系人 Contact", 12), ("电话 Phone", 14), ("人数 Size", 8),
    ("成人+学生 Adults+minors", 10), ("已到 Arrived", 9),
    ("状态 State", 10), ("备注 Notes", 30), ("签到 ✓", 7),
]
HEADER_ROW = 5


def render_roster_xlsx(day: RosterDay) -> bytes:
    """The day's roster as ``.xlsx`` bytes: one sheet, one row per group."""
    # openpyxl (and the numpy it pulls in) is imported when a workbook is asked for, not
    # when a worker starts: ~19 MB of RSS that most workers never need.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F3E6E0")
    thin = Side(style="thin", color="B9AEA8")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    book = Workbook()
    sheet = book.active
    sheet.title = "接待安排 Roster"

    sheet["A1"] = "每日接待安排 Daily roster"
    sheet["A1"].font = Font(bold=True, size=14, color="A5161C")
    sheet["A2"] = safe_cell(f"{day.venue}  {day.date_text}")
    sheet["A2"].font = bold
    sheet["A3"] = (f"已预约 Booked {day.booked_total} / 日限额 Daily cap {day.daily_cap}；"
                   f"已到 Arrived {day.arrived_total}；生成时间 Generated {day.generated_at_text}")

    for col, (header, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=header)
        cell.font, cell.fill, cell.border = bold, head_fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(col)].width = width

    row = HEADER_ROW
    for session in day.sessions:
        session_cells = [
            f"{session.starts_at_text}–{session.ends_at_text}", session.title or "",
            session.room or "", session.lecturer or "",
            "、".join(e for e in session.equipment if e),
            f"{session.seats_taken}/{session.capacity}",
        ]
        groups = session.groups or [None]       # an empty session still gets its row
        for group in groups:
            row += 1
            if group is None:
                values = session_cells + ["", "暂无预约 No bookings"] + [""] * 8
            else:
                values = session_cells + [
                    group.reference, group.organisation, group.contact_name,
                    group.contact_phone or "",    # text, so no leading digit is lost
                    group.party_size, group.makeup_text, group.arrived, group.state,
                    group.notes or "", "",
                ]
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row, column=col, value=safe_cell(value))
                cell.border = border
                cell.alignment = Alignment(vertical="top", wrap_text=col in (2, 8, 15))
            sheet.cell(row=row, column=10).number_format = "@"

    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    last_column = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{max(row, HEADER_ROW)}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
