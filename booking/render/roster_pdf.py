"""The daily roster (每日接待安排) as a printable PDF for museum staff.

A pure renderer: plain :class:`RosterDay` in, PDF bytes out; no Flask, no
database. A4 portrait: the day's totals, then per session a header line and a
table of its groups with a blank tick column for paper check-in. Phone numbers
are printed in full -- this is a staff document -- and the footer says so.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from booking.render.fonts import (
    KAI,
    SANS,
    draw_text,
    ensure_font,
    paragraph_markup,
    register_fonts,
    split_runs,
)


@dataclass
class RosterGroup:
    """One booking on the roster: who comes, how many, and what state it is in."""

    reference: str
    organisation: str
    contact_name: str
    contact_phone: str          # in full: the roster is for staff only
    party_size: int
    arrived: int | None         # None until checked in: left blank to fill in by hand
    state: str                  # display text, e.g. 已确认
    notes: str = ""
    adults: int | None = None   # a study tour's adults and minors (None elsewhere)
    minors: int | None = None

    @property
    def makeup_text(self) -> str:
        """``3+22`` (adults+minors) for a study tour, else empty."""
        if self.adults is None or self.minors is None:
            return ""
        return f"{self.adults}+{self.minors}"


@dataclass
class RosterSession:
    """One slot of the day with the groups booked into it."""

    starts_at_text: str         # 09:00
    ends_at_text: str           # 10:30
    title: str
    room: str
    lecturer: str
    equipment: list[str] = field(default_factory=list)
    capacity: int = 0
    seats_taken: int = 0
    groups: list[RosterGroup] = field(default_factory=list)


@dataclass
class RosterDay:
    """A venue's day: totals against the daily cap, and its sessions in order."""

    venue: str
    date_text: str
    daily_cap: int
    booked_total: int
    arrived_total: int
    sessions: list[RosterSession] = field(default_factory=list)
    generated_at_text: str = ""


PAGE_W, PAGE_H = A4
MARGIN = 14 * mm
RED = colors.HexColor("#A5161C")
HEAD_BG = colors.HexColor("#F3E6E0")
SESSION_BG = colors.HexColor("#A5161C")
GRID = colors.HexColor("#B9AEA8")
ZEBRA = colors.HexColor("#FAF7F4")
MUTED = colors.HexColor("#6E6259")
SEP = "&nbsp;" * 4    # Paragraph collapses runs of spaces, U+3000 included

CELL = ParagraphStyle("cell", fontName=SANS, fontSize=8.5, leading=11)
CELL_CENTRE = ParagraphStyle("cell_centre", parent=CELL, alignment=TA_CENTER)
HEAD = ParagraphStyle("head", parent=CELL, fontSize=7.5, leading=9.5, alignment=TA_CENTER)
SESSION = ParagraphStyle("session", parent=CELL, fontSize=9.5, leading=13,
                         textColor=colors.white)
INFO = ParagraphStyle("info", parent=CELL, fontSize=9.5, leading=14)

# (header, width in points); the widths add up to the frame width.
COLUMNS = [
    ("编号<br/>Ref.", 58), ("单位<br/>Organisation", 122), ("联系人<br/>Contact", 62),
    ("电话<br/>Phone", 66), ("人数<br/>Size", 30), ("已到<br/>Arrived", 34),
    ("状态<br/>State", 42), ("备注<br/>Notes", 73), ("签到<br/>✓", 28),
]


class TickBox(Flowable):
    """An empty square to tick on paper when the group arrives."""

    def __init__(self, size: float = 9.0):
        super().__init__()
        self.width = self.height = size

    def draw(self) -> None:
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)


def render_roster_pdf(day: RosterDay) -> bytes:
    """The day's roster as A4-portrait PDF bytes."""
    register_fonts()
    ensure_font(KAI)  # the title cell names it directly
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm, title=f"每日接待安排 {day.venue} {day.date_text}",
        author=day.venue, creator="Liu Bocheng Memorial Hall / Kaizhou Museum booking")
    story = _heading(day)
    for i, session in enumerate(day.sessions):
        if i:   # between tables only: a trailing spacer can spill onto a blank page
            story.append(Spacer(1, 5 * mm))
        story.append(_session_table(session))
    if not day.sessions:
        story.append(Paragraph("当日无场次。No sessions on this day.", INFO))
    footer = f"{day.venue} · {day.date_text} · 内部资料，含联系人电话，请妥善保管 Staff only"

    def canvasmaker(*args, **kwargs):
        return _NumberedCanvas(*args, footer=footer, **kwargs)
    doc.build(story, canvasmaker=canvasmaker)
    return buf.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)


def _m(value) -> str:
    """Paragraph markup for a data value, with per-character font fallback."""
    return paragraph_markup(_text(value), SANS)


def _heading(day: RosterDay) -> list:
    title = Table([["每日接待安排", "Daily roster"]], colWidths=[None, None], hAlign="LEFT")
    title.setStyle(TableStyle([
        ("FONT", (0, 0), (0, 0), KAI, 20), ("TEXTCOLOR", (0, 0), (0, 0), RED),
        ("FONT", (1, 0), (1, 0), SANS, 11), ("TEXTCOLOR", (1, 0), (1, 0), MUTED),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, 0), 0),
    ]))
    left = day.daily_cap - day.booked_total
    room = f"余 {left} remaining" if left >= 0 else f'<font color="#A5161C">超出 {-left} over</font>'
    info = (f'<font color="#A5161C">{_m(day.venue)}</font>{SEP}{_m(day.date_text)}<br/>'
            f'已预约 Booked <font color="#A5161C">{day.booked_total}</font>'
            f" / 日限额 Daily cap {day.daily_cap}（{room}）{SEP}"
            f'已到 Arrived <font color="#A5161C">{day.arrived_total}</font>{SEP}'
            f"场次 Sessions {len(day.sessions)}{SEP}"
            f"团体 Groups {sum(len(s.groups) for s in day.sessions)}")
    generated = Paragraph(f"生成时间 Generated {_m(day.generated_at_text)}",
                          ParagraphStyle("gen", parent=CELL, fontSize=7.5, textColor=MUTED))
    return [title, Spacer(1, 2 * mm), Paragraph(info, INFO), generated, Spacer(1, 4 * mm)]


def _cell(text, style: ParagraphStyle = CELL, wrap: bool = False):
    """A plain string where the cell font draws every character and no wrapping is
    needed (cheap); otherwise a Paragraph with per-character font fallback."""
    text = _text(text)
    if not wrap and all(font == SANS for font, _ in split_runs(text, SANS)):
        return text
    return Paragraph(paragraph_markup(text, SANS), style)


def _size(group: RosterGroup):
    if not group.makeup_text:
        return str(group.party_size)
    return Paragraph(f'{group.party_size}<br/><font size="6.5">{group.makeup_text}</font>',
                     CELL_CENTRE)


def _session_table(session: RosterSession) -> Table:
    equipment = "、".join(e for e in session.equipment or () if e) or "—"
    header = (f"{_m(session.starts_at_text)}–{_m(session.ends_at_text)}{SEP}{_m(session.title)}"
              f"{SEP}教室 Room: {_m(session.room or '—')}"
              f"{SEP}讲解 Guide: {_m(session.lecturer or '—')}<br/>"
              f"设备 Equipment: {_m(equipment)}"
              f"{SEP}座位 Seats: {session.seats_taken}/{session.capacity}"
              f"（{len(session.groups)} 团体 groups）")
    if any(g.makeup_text for g in session.groups):
        header += f"{SEP}人数下注 成人+学生 Size below: adults+minors"
    rows: list[list] = [[Paragraph(header, SESSION)] + [""] * (len(COLUMNS) - 1),
                        [Paragraph(h, HEAD) for h, _ in COLUMNS]]
    for g in session.groups:
        rows.append([
            _cell(g.reference), _cell(g.organisation, wrap=True), _cell(g.contact_name, wrap=True),
            _cell(g.contact_phone), _size(g), _text(g.arrived), _cell(g.state),
            _cell(g.notes, wrap=True) if g.notes else "", TickBox(),
        ])
    style = [
        ("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 0), (-1, 0), SESSION_BG),
        ("BACKGROUND", (0, 1), (-1, 1), HEAD_BG),
        ("FONT", (0, 2), (-1, -1), SANS, 8.5),
        ("GRID", (0, 1), (-1, -1), 0.4, GRID),
        ("BOX", (0, 0), (-1, -1), 0.8, RED),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (4, 2), (5, -1), "CENTER"), ("ALIGN", (8, 2), (8, -1), "CENTER"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if not session.groups:
        rows.append([Paragraph("暂无预约 No bookings", CELL_CENTRE)] + [""] * (len(COLUMNS) - 1))
        style.append(("SPAN", (0, 2), (-1, 2)))
    style += [("BACKGROUND", (0, r), (-1, r), ZEBRA) for r in range(3, len(rows), 2)]
    # The session line and the column headers repeat when the table breaks a page.
    table = Table(rows, colWidths=[w for _, w in COLUMNS], repeatRows=2, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


class _NumberedCanvas(pdfcanvas.Canvas):
    """Defers each page so the footer can say 第 x 页 / 共 y 页."""

    def __init__(self, *args, footer: str = "", **kwargs):
        kwargs.setdefault("initialFontName", SANS)
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFillColor(MUTED)
            self.setStrokeColor(GRID)
            self.setLineWidth(0.4)
            self.line(MARGIN, MARGIN, PAGE_W - MARGIN, MARGIN)
            draw_text(self, MARGIN, MARGIN - 11, self._footer, SANS, 7.5)
            draw_text(self, PAGE_W - MARGIN, MARGIN - 11, f"第 {number} 页 / 共 {total} 页",
                      SANS, 8, "right")
            super().showPage()
        super().save()
