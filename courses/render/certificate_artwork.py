"""The static artwork of a certificate page: the paper with its border and ornaments, the
title, and the issuing unit's seal. :mod:`courses.render.certificates` draws each once per document
as a form and places it on every page that shares it; nothing here may use transparency or
blend modes (see ``courses.render.certificates._form``).
"""
from __future__ import annotations

import io
import math

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics

from booking.render.fonts import KAI, SANS, draw_text, split_runs, text_width

PAGE_W, PAGE_H = landscape(A4)
RED = HexColor("#B3151B")
SEAL_RED = HexColor("#D0141C")
GOLD = HexColor("#C29A4B")
PAPER = HexColor("#FFFCF3")

# English lines under the known titles; any other title simply has none.
TITLE_EN = {"学习证明": "CERTIFICATE OF STUDY", "研学证明": "CERTIFICATE OF STUDY TOUR",
            "参观证明": "CERTIFICATE OF VISIT"}

SEAL_X, SEAL_Y, SEAL_R = PAGE_W - 196.0, 140.0, 52.0


def draw_border(c) -> None:
    c.setFillColor(PAPER)
    c.rect(0, 0, PAGE_W, PAGE_H, stroke=0, fill=1)
    c.setStrokeColor(RED)
    c.setLineWidth(5)
    c.rect(22, 22, PAGE_W - 44, PAGE_H - 44, stroke=1, fill=0)
    c.setStrokeColor(GOLD)
    c.setLineWidth(1.3)
    c.rect(30, 30, PAGE_W - 60, PAGE_H - 60, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.rect(34, 34, PAGE_W - 68, PAGE_H - 68, stroke=1, fill=0)
    _rosette(c, PAGE_W / 2, PAGE_H / 2 - 20, 135.0)
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        c.saveState()
        c.translate(PAGE_W / 2 - sx * (PAGE_W / 2 - 34), PAGE_H / 2 - sy * (PAGE_H / 2 - 34))
        c.scale(sx, sy)
        _corner_fret(c)
        c.restoreState()


def _rosette(c, cx: float, cy: float, r: float) -> None:
    """A faint guilloche rosette behind the text, as on security-printed paper."""
    c.setStrokeColor(HexColor("#F3E9D2"))
    c.setLineWidth(0.4)
    p = c.beginPath()
    for k in range(24):
        phase = k * math.pi / 12
        for i in range(0, 361, 2):
            t = math.radians(i)
            rad = r * (0.78 + 0.22 * math.sin(9 * t + phase))
            (p.moveTo if i == 0 else p.lineTo)(cx + rad * math.cos(t), cy + rad * math.sin(t))
    c.drawPath(p, stroke=1, fill=0)


def _corner_fret(c) -> None:
    """A 回纹 (key-fret) corner ornament in red, inside the gold rule."""
    c.setStrokeColor(RED)
    c.setLineWidth(1.6)
    p = c.beginPath()
    spiral = ((18, 12), (18, 36), (36, 36), (36, 18), (24, 18), (24, 30), (30, 30), (30, 24))
    for points in (((6, 70), (6, 6), (70, 6)), ((12, 52), (12, 12), (52, 12)), spiral):
        p.moveTo(*points[0])
        for pt in points[1:]:
            p.lineTo(*pt)
    c.drawPath(p, stroke=1, fill=0)
    c.setFillColor(GOLD)
    for x, y in ((70, 6), (6, 70)):
        _diamond(c, x, y, 3, 3)


def _diamond(c, x: float, y: float, w: float, h: float) -> None:
    p = c.beginPath()
    p.moveTo(x - w, y); p.lineTo(x, y + h); p.lineTo(x + w, y); p.lineTo(x, y - h); p.close()
    c.drawPath(p, stroke=0, fill=1)


def draw_title(c, title: str) -> None:
    size, spacing, y = 42.0, 22.0, PAGE_H - 132
    c.setFillColor(RED)
    c.setStrokeColor(RED)
    c.setLineWidth(0.7)
    # Kai has no bold face: fill and stroke the outline (text render mode 2).
    tx = c.beginText(PAGE_W / 2 - (text_width(title, KAI, size, spacing) - spacing) / 2, y)
    tx.setTextRenderMode(2)
    tx.setCharSpace(spacing)
    for name, run in split_runs(title, KAI):
        tx.setFont(name, size)
        tx.textOut(run)
    c.drawText(tx)
    english = TITLE_EN.get(title.replace(" ", ""))
    if english:
        c.setFillColor(GOLD)
        draw_text(c, PAGE_W / 2, y - 26, english, SANS, 9, "centre", char_space=3)
    c.setStrokeColor(GOLD)
    c.setFillColor(GOLD)
    c.setLineWidth(0.8)
    for sign in (-1, 1):
        c.line(PAGE_W / 2 + sign * 14, y - 40, PAGE_W / 2 + sign * 150, y - 40)
    _diamond(c, PAGE_W / 2, y - 40, 6, 4)


def draw_seal(c, issuing_unit: str, seal: bytes | None) -> None:
    """The unit's seal (PNG) when given, else a red seal drawn from the unit's name."""
    if seal:
        c.drawImage(ImageReader(io.BytesIO(seal)), SEAL_X - SEAL_R, SEAL_Y - SEAL_R,
                    2 * SEAL_R, 2 * SEAL_R, mask="auto", preserveAspectRatio=True)
        return
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setLineWidth(3.4)
    c.circle(SEAL_X, SEAL_Y, SEAL_R, stroke=1, fill=0)
    # Five-pointed star in the middle.
    p = c.beginPath()
    for k in range(10):
        rad, a = (19 if k % 2 == 0 else 19 * 0.382), math.radians(90 + 36 * k)
        (p.moveTo if k == 0 else p.lineTo)(SEAL_X + rad * math.cos(a), SEAL_Y + rad * math.sin(a))
    p.close()
    c.drawPath(p, stroke=0, fill=1)
    # The unit's name along the upper arc, left to right, each glyph upright to the centre.
    chars = [ch for ch in issuing_unit if not ch.isspace()]
    step = min(40.0, 220.0 / max(len(chars) - 1, 1))
    size = min(15.0, max(7.0, 0.8 * (SEAL_R - 16) * math.radians(step)))
    c.setLineWidth(0.3)   # a touch of stroke makes the glyphs read as carved
    for i, ch in enumerate(chars):
        c.saveState()
        c.translate(SEAL_X, SEAL_Y)
        c.rotate(step * (len(chars) - 1) / 2 - i * step)
        tx = c.beginText()
        tx.setTextRenderMode(2)
        for name, run in split_runs(ch, SANS):
            tx.setFont(name, size)
            tx.setTextOrigin(-pdfmetrics.stringWidth(run, name, size) / 2, SEAL_R - 7 - size)
            tx.textOut(run)
        c.drawText(tx)
        c.restoreState()
