"""The annual report (年度接待工作报告) a museum sends its supervising office, as PDF.

A pure renderer: plain :class:`AnnualReport` in (every word already in the reader's language),
PDF bytes out; no Flask, no database. A4 portrait: a cover, the year's totals with the year
before, the monthly trend as a bar chart (last year's bars beside), the top programmes, then a
chart and a table per breakdown. Fonts are embedded (subset) by reportlab; bars are drawn
with reportlab graphics.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from booking.render.fonts import KAI, SANS, draw_text, paragraph_markup, register_fonts
from booking.render.tables import Table as DataTable

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
FRAME_W = PAGE_W - 2 * MARGIN
RED = colors.HexColor("#A5161C")
GOLD = colors.HexColor("#C9A063")
HEAD_BG = colors.HexColor("#F3E6E0")
GRID = colors.HexColor("#B9AEA8")
ZEBRA = colors.HexColor("#FAF7F4")
MUTED = colors.HexColor("#6E6259")
PREVIOUS = colors.HexColor("#CFC6BE")

BODY = ParagraphStyle("body", fontName=SANS, fontSize=10, leading=16)
CELL = ParagraphStyle("cell", fontName=SANS, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=CELL, fontSize=7.5, leading=9.5, alignment=TA_CENTER)
H1 = ParagraphStyle("h1", fontName=KAI, fontSize=16, leading=22, textColor=RED, spaceBefore=4,
                    spaceAfter=6)
H2 = ParagraphStyle("h2", fontName=SANS, fontSize=11.5, leading=16, textColor=RED,
                    spaceBefore=6, spaceAfter=4)
FIGURE = ParagraphStyle("figure", fontName=SANS, fontSize=18, leading=22, textColor=RED,
                        alignment=TA_CENTER)
FIGURE_LABEL = ParagraphStyle("figure_label", fontName=SANS, fontSize=8.5, leading=11,
                              alignment=TA_CENTER, textColor=MUTED)


@dataclass
class BarSeries:
    """A bar chart: labelled values, optionally last year's values beside them."""

    title: str
    points: list[tuple[str, int]]
    previous: list[int] | None = None
    legend: tuple[str, str] = ("", "")   # (this year, last year)
    vertical: bool = False               # months run left to right


@dataclass
class Highlight:
    label: str
    value: str
    note: str = ""                       # e.g. "上年 4,120，同比 +9.2%"


@dataclass
class Section:
    """A titled part of the report: paragraphs, then charts, then tables."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[BarSeries] = field(default_factory=list)
    tables: list[DataTable] = field(default_factory=list)


@dataclass
class AnnualReport:
    title: str                           # 2025 年度红色教育接待工作报告
    subtitle: str                        # the venues
    period: str                          # 2025-01-01 – 2025-12-31
    issuer: str                          # the issuing unit(s)
    generated: str                       # when and by what, for the cover and footer
    highlights: list[Highlight]
    sections: list[Section]
    footer: str = ""


def render_annual_report(report: AnnualReport) -> bytes:
    """The report as A4-portrait PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 6 * mm, title=report.title,
                            initialFontName=SANS,
                            author=report.issuer, subject=report.subtitle,
                            creator="Liu Bocheng Memorial Hall / Kaizhou Museum booking")
    story = _cover(report) + [PageBreak()] + _highlights(report)
    for section in report.sections:
        story += _section(section)

    def on_page(canvas, doc_) -> None:
        if doc_.page == 1:
            return
        canvas.saveState()
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, MARGIN, PAGE_W - MARGIN, MARGIN)
        canvas.setFillColor(MUTED)
        draw_text(canvas, MARGIN, MARGIN - 11, report.footer or report.title, SANS, 7.5)
        draw_text(canvas, PAGE_W - MARGIN, MARGIN - 11, f"— {doc_.page} —", SANS, 8, "right")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _m(text) -> str:
    return paragraph_markup("" if text is None else str(text), SANS)


def _cover(report: AnnualReport) -> list:
    title = ParagraphStyle("cover_title", fontName=KAI, fontSize=26, leading=36,
                           alignment=TA_CENTER, textColor=RED)
    line = ParagraphStyle("cover_line", fontName=SANS, fontSize=13, leading=20,
                          alignment=TA_CENTER)
    small = ParagraphStyle("cover_small", parent=line, fontSize=10, textColor=MUTED)
    rule = Drawing(FRAME_W, 6)
    rule.initialFontName = SANS
    rule.add(Rect(FRAME_W * 0.2, 2, FRAME_W * 0.6, 2, fillColor=GOLD, strokeColor=None))
    return [Spacer(1, 62 * mm), Paragraph(paragraph_markup(report.title, KAI), title),
            Spacer(1, 6 * mm), rule, Spacer(1, 8 * mm),
            Paragraph(_m(report.subtitle), line), Spacer(1, 3 * mm),
            Paragraph(_m(report.period), line), Spacer(1, 70 * mm),
            Paragraph(_m(report.issuer), line), Spacer(1, 2 * mm),
            Paragraph(_m(report.generated), small)]


def _highlights(report: AnnualReport) -> list:
    per_row = 3
    cells = [[Paragraph(_m(h.value), FIGURE), Paragraph(_m(h.label), FIGURE_LABEL),
              Paragraph(_m(h.note), FIGURE_LABEL)] for h in report.highlights]
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    for row in rows:
        row += [""] * (per_row - len(row))
    if not rows:
        return []
    table = Table(rows, colWidths=[FRAME_W / per_row] * per_row)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS, 8),
        ("BOX", (0, 0), (-1, -1), 0.8, RED), ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7)]))
    return [Paragraph(paragraph_markup(report.title, KAI), H1), table, Spacer(1, 4 * mm)]


def _section(section: Section) -> list:
    story: list = [CondPageBreak(60 * mm), Paragraph(_m(section.title), H1)]
    story += [Paragraph(_m(text), BODY) for text in section.paragraphs]
    for chart in section.charts:
        story.append(KeepTogether([Paragraph(_m(chart.title), H2), _chart(chart)]))
    for table in section.tables:
        story += [Paragraph(_m(table.title), H2), _table(table), Spacer(1, 3 * mm)]
    return story


def _nice_top(value: int) -> int:
    top, step = max(1, value), 1
    while step * 10 < top:
        step *= 10
    for factor in (1, 2, 3, 4, 5, 6, 8, 10):  # a quarter of each is a round tick
        if factor * step >= top:
            return factor * step
    return 10 * step


def _chart(series: BarSeries) -> Drawing:
    drawing = _vertical_chart(series) if series.vertical else _horizontal_chart(series)
    drawing.initialFontName = SANS  # else the renderer selects (unembedded) Helvetica first
    return drawing


def _horizontal_chart(series: BarSeries) -> Drawing:
    row, label_w = 16, 150
    height = row * max(1, len(series.points)) + 14
    drawing = Drawing(FRAME_W, height)
    top = _nice_top(max([v for _, v in series.points] + (series.previous or []), default=0))
    plot_w = FRAME_W - label_w - 50
    for i in range(5):
        x = label_w + plot_w * i / 4
        drawing.add(Line(x, 10, x, height, strokeColor=GRID, strokeWidth=0.3))
        drawing.add(String(x, 0, f"{top * i // 4:,}", fontName=SANS, fontSize=6.5,
                           fillColor=MUTED, textAnchor="middle"))
    for index, (label, value) in enumerate(series.points):
        y = height - (index + 1) * row
        text = label if len(label) <= 18 else label[:17] + "…"
        drawing.add(String(label_w - 4, y + 4, text, fontName=SANS, fontSize=7.5,
                           textAnchor="end"))
        drawing.add(Rect(label_w, y + 2, plot_w * value / top, row - 5, fillColor=RED,
                         strokeColor=None))
        drawing.add(String(label_w + plot_w * value / top + 3, y + 4, f"{value:,}",
                           fontName=SANS, fontSize=7.5, fillColor=RED))
    return drawing


def _vertical_chart(series: BarSeries) -> Drawing:
    height, bottom, left = 150, 26, 34
    drawing = Drawing(FRAME_W, height)
    values = [v for _, v in series.points]
    previous = series.previous or []
    top = _nice_top(max(values + previous, default=0))
    plot_h, plot_w = height - bottom - 14, FRAME_W - left
    slot = plot_w / max(1, len(values))
    for i in range(5):
        y = bottom + plot_h * i / 4
        drawing.add(Line(left, y, FRAME_W, y, strokeColor=GRID, strokeWidth=0.3))
        drawing.add(String(left - 3, y - 2, f"{top * i // 4:,}", fontName=SANS, fontSize=6.5,
                           fillColor=MUTED, textAnchor="end"))
    bar = slot * (0.36 if previous else 0.6)
    for index, (label, value) in enumerate(series.points):
        x = left + slot * index + slot * 0.5
        if previous:
            before = previous[index] if index < len(previous) else 0
            drawing.add(Rect(x - bar, bottom, bar, plot_h * before / top, fillColor=PREVIOUS,
                             strokeColor=None))
            drawing.add(Rect(x, bottom, bar, plot_h * value / top, fillColor=RED,
                             strokeColor=None))
            value_x = x + bar / 2
        else:
            drawing.add(Rect(x - bar / 2, bottom, bar, plot_h * value / top, fillColor=RED,
                             strokeColor=None))
            value_x = x
        drawing.add(String(value_x, bottom + plot_h * value / top + 2, f"{value:,}",
                           fontName=SANS, fontSize=6, fillColor=RED, textAnchor="middle"))
        drawing.add(String(x, bottom - 10, label, fontName=SANS, fontSize=7,
                           textAnchor="middle"))
    if previous and any(series.legend):
        drawing.add(Rect(left, 2, 8, 6, fillColor=RED, strokeColor=None))
        drawing.add(String(left + 11, 2, series.legend[0], fontName=SANS, fontSize=7))
        drawing.add(Rect(left + 90, 2, 8, 6, fillColor=PREVIOUS, strokeColor=None))
        drawing.add(String(left + 101, 2, series.legend[1], fontName=SANS, fontSize=7))
    return drawing


def _cell_text(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "" if value is None else str(value)


def _table(table: DataTable) -> Table:
    columns = len(table.headers)
    first = min(150.0, FRAME_W * 0.34) if columns > 4 else FRAME_W / columns
    rest = (FRAME_W - first) / max(1, columns - 1)
    rows: list[list] = [[Paragraph(_m(h), HEAD) for h in table.headers]]
    for row in table.rows:
        rows.append([Paragraph(_m(_cell_text(row[0])), CELL)]
                    + [_cell_text(v) for v in row[1:]])
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("FONT", (0, 0), (-1, -1), SANS, 8),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BOX", (0, 0), (-1, -1), 0.8, RED),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), ZEBRA) for r in range(2, len(rows), 2)]
    result = Table(rows, colWidths=[first] + [rest] * (columns - 1), repeatRows=1,
                   hAlign="LEFT")
    result.setStyle(TableStyle(style))
    return result
