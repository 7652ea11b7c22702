"""The booking pass: its QR code (SVG for pages and mail) and the printable confirmation
(预约确认单) a group leader prints or shows on a phone at the door.

A pure renderer: plain :class:`ConfirmationSheet` in (texts already in the reader's
language), bytes out; no Flask, no database. The QR holds only the booking's opaque pass
code, which staff look up at the door; it is not a link and opens nothing by itself.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import qrcode
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas

from booking.render.fonts import KAI, SANS, draw_text, register_fonts

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_modules(text: str) -> list[list[bool]]:
    """The QR matrix for ``text`` (error correction M), without the quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_svg(text: str, size_px: int = 200, label: str = "") -> str:
    """An SVG of the QR code: one path of unit squares, quiet zone included, scalable."""
    modules = qr_modules(text)
    n = len(modules) + 2 * QUIET_ZONE
    path = "".join(f"M{x + QUIET_ZONE},{y + QUIET_ZONE}h1v1h-1z"
                   for y, row in enumerate(modules) for x, dark in enumerate(row) if dark)
    title = f"<title>{_xml(label)}</title>" if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_px}" '
            f'height="{size_px}" shape-rendering="crispEdges" role="img" class="pass-qr">'
            f'{title}<rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path d="{path}" fill="#000"/></svg>')


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class ConfirmationSheet:
    """What the confirmation shows, in the reader's language."""

    title: str                         # 预约确认单
    venue: str
    reference_label: str
    reference: str                     # ABCD-2345
    pass_code: str                     # what the QR holds
    qr_caption: str                    # "show this code at the entrance"
    rows: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    rules_title: str = ""
    rules: list[str] = field(default_factory=list)
    footer: str = ""


def render_confirmation_pdf(sheet: ConfirmationSheet) -> bytes:
    """The confirmation as one A4 page of PDF bytes."""
    register_fonts()
    buf = io.BytesIO()
    canvas = pdfcanvas.Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{sheet.title} {sheet.reference}")
    canvas.setAuthor(sheet.venue)
    width, height = A4
    margin = 20 * mm
    y = height - margin - 8 * mm
    canvas.setFillColor(colors.HexColor("#a31f1f"))
    draw_text(canvas, width / 2, y, sheet.title, KAI, 22, align="centre")
    canvas.setFillColor(colors.black)
    y -= 9 * mm
    draw_text(canvas, width / 2, y, sheet.venue, SANS, 12, align="centre")
    y -= 10 * mm
    draw_text(canvas, width / 2, y, f"{sheet.reference_label} {sheet.reference}", SANS, 16,
              align="centre")
    qr_size = 70 * mm
    y -= qr_size + 6 * mm
    _draw_qr(canvas, sheet.pass_code, (width - qr_size) / 2, y, qr_size)
    y -= 6 * mm
    draw_text(canvas, width / 2, y, sheet.qr_caption, SANS, 10, align="centre")
    y -= 12 * mm
    for label, value in sheet.rows:
        draw_text(canvas, margin, y, label, SANS, 11)
        draw_text(canvas, margin + 35 * mm, y, value, SANS, 11)
        y -= 7.5 * mm
    if sheet.rules:
        y -= 4 * mm
        draw_text(canvas, margin, y, sheet.rules_title, SANS, 12)
        for rule in sheet.rules:
            y -= 6.5 * mm
            draw_text(canvas, margin, y, f"· {rule}", SANS, 9.5)
    canvas.setFillColor(colors.grey)
    draw_text(canvas, width / 2, margin - 6 * mm, sheet.footer, SANS, 8, align="centre")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _draw_qr(canvas, text: str, x: float, y: float, size: float) -> None:
    modules = qr_modules(text)
    n = len(modules) + 2 * QUIET_ZONE
    unit = size / n
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row_index, row in enumerate(modules):
        top = y + size - (row_index + QUIET_ZONE + 1) * unit
        run_start = None
        for col, dark in enumerate([*row, False]):  # draw horizontal runs, not single cells
            if dark and run_start is None:
                run_start = col
            elif not dark and run_start is not None:
                canvas.rect(x + (run_start + QUIET_ZONE) * unit, top,
                            (col - run_start) * unit, unit, stroke=0, fill=1)
                run_start = None
