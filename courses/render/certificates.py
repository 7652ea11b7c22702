"""Attendance certificates (学习证明 / 研学证明 / 参观证明) as PDF.

A pure renderer: plain :class:`CertificateData` in, PDF bytes out; no Flask, no
database. One A4-landscape page per certificate.

Speed matters (a study tour can mean thousands of certificates in one PDF), so
what many pages share -- the border, a title, an issuing unit's seal, drawn by
:mod:`courses.render.certificate_artwork` -- is drawn once per document as a Form XObject
and placed with ``doForm``, and the QR code is one filled path of merged module runs.
"""
from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfgen import canvas as pdfcanvas

from booking.render.fonts import (
    KAI,
    SANS,
    draw_text,
    register_fonts,
    run_width,
    split_runs,
    text_width,
)
from courses.render.certificate_artwork import (
    GOLD,
    PAGE_H,
    PAGE_W,
    SEAL_R,
    SEAL_X,
    SEAL_Y,
    TITLE_EN,
    draw_border,
    draw_seal,
    draw_title,
)
from courses.render.qr import QR_EC, QR_MASK, qr_codewords, qr_matrix

# The QR names are re-exported for callers that imported them from here before courses.render.qr.
__all__ = ["CertificateData", "CertificateEnglish", "render_certificate", "render_certificates", "programme_line",
           "TITLE_EN", "QR_EC", "QR_MASK", "qr_codewords", "qr_matrix"]

INK = HexColor("#262220")
MUTED = HexColor("#6E6259")

BODY_LEFT, BODY_RIGHT = 118.0, PAGE_W - 118.0
BODY_SIZE, BODY_LEADING = 16.0, 31.0
QR_X, QR_Y, QR_SIZE = BODY_LEFT, 60.0, 76.0


@dataclass(frozen=True)
class CertificateEnglish:
    """The English lines of a certificate issued for a booking made in English."""

    programme: str              # Learning the Party's Century-Long History ...
    date_text: str              # 3 December 2026, 09:00–10:30
    venue: str                  # Liu Bocheng Memorial Hall
    issuing_unit: str           # blank: the Chinese issuer only
    issue_date: str             # 3 December 2026


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, already formatted for display."""

    title: str                  # 学习证明 / 研学证明 / 参观证明
    serial: str                 # LBC-2026-000123
    name: str
    organisation: str
    programme: str              # 学习百年党史 感悟刘帅精神 (《》 added when missing)
    programme_kind: str         # 专题党课 / 红色主题党日 / 青少年研学 / 展览参观
    date_text: str              # 2026年12月3日 09:00–10:30
    venue: str
    training_hours: str         # "1.5"; blank for none
    lecturer: str
    issuing_unit: str
    issue_date: date
    verification_code: str
    verify_url: str
    seal: bytes | None = None   # PNG; None draws a red seal from issuing_unit
    status: str | None = None   # e.g. 已撤销 REVOKED / 样张 SPECIMEN, as a watermark
    salutation: str | None = None  # 同志 / 同学; by default from the title
    english: CertificateEnglish | None = None  # English values in the details, issuer, date


def render_certificate(cert: CertificateData) -> bytes:
    """One certificate as a one-page PDF."""
    return render_certificates([cert])


def render_certificates(certs: Iterable[CertificateData]) -> bytes:
    """All certificates in one PDF, one A4-landscape page each, in order."""
    register_fonts()
    buf = io.BytesIO()
    c = pdfcanvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), pageCompression=1, initialFontName=SANS)
    c.setTitle("证书 Certificates")
    c.setCreator("Liu Bocheng Memorial Hall / Kaizhou Museum booking")
    forms: dict[tuple, str] = {}
    for cert in certs:
        _draw_page(c, cert, forms)
        c.showPage()
    if not forms:
        raise ValueError("no certificates to render")
    c.save()
    return buf.getvalue()


@cache
def _fill_op(color: Color) -> str:
    return "%.4f %.4f %.4f rg" % color.rgb()


def _fill(c, color: Color) -> None:
    """Set an opaque fill colour. reportlab's setFillColor spends ~10 us on colour
    bookkeeping, and text colour changes ~15 times a page; nothing of ours reads
    that bookkeeping back (draw_text writes its own text operators)."""
    c.addLiteral(_fill_op(color))


def _form(c, forms: dict, key: tuple, draw) -> None:
    """Place the form for ``key``, recording it with ``draw(c)`` on first use.

    reportlab gives forms no ExtGState resources, so nothing inside a form may
    use transparency or blend modes; set those on the page around ``doForm``.
    """
    name = forms.get(key)
    if name is None:
        name = forms[key] = f"F{len(forms)}"
        c.beginForm(name, lowerx=0, lowery=0, upperx=PAGE_W, uppery=PAGE_H)
        draw(c)
        c.endForm()
    c.doForm(name)


def _draw_page(c, cert: CertificateData, forms: dict) -> None:
    _form(c, forms, ("border",), draw_border)
    _form(c, forms, ("title", cert.title), lambda c: draw_title(c, cert.title))
    if cert.status:
        _draw_status(c, cert.status)
    _fill(c, MUTED)
    draw_text(c, BODY_RIGHT, PAGE_H - 78, f"证书编号 No. {cert.serial}", SANS, 9.5, "right")

    # Salutation: the name in large Kai on a gold rule, then 同志：
    salutation = cert.salutation or ("同学" if "研学" in cert.title else "同志")
    y = 370.0
    _fill(c, INK)
    size = 36.0
    while size > 18 and text_width(cert.name, KAI, size) > BODY_RIGHT - BODY_LEFT - 90:
        size -= 2     # long transliterated names, e.g. 买买提·艾力·阿不都热合曼
    name_w = max(draw_text(c, BODY_LEFT + 8, y, cert.name, KAI, size) + 16, 120)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.8)
    c.line(BODY_LEFT, y - 8, BODY_LEFT + name_w, y - 8)
    draw_text(c, BODY_LEFT + name_w + 6, y, f"{salutation}：", SANS, BODY_SIZE)

    # Body: an indented paragraph, then 特发此证。 on its own indented line.
    y -= 46
    indent = 2 * BODY_SIZE
    lines = _wrap(_body_sentence(cert), BODY_RIGHT - BODY_LEFT, indent)
    for i, line in enumerate(lines):
        x = BODY_LEFT + (indent if i == 0 else 0)
        spread = 0.0
        if i < len(lines) - 1 and len(line) > 1:   # justify all but the last line
            slack = BODY_RIGHT - x - text_width(line, SANS, BODY_SIZE)
            spread = max(0.0, slack / (len(line) - 1))
        draw_text(c, x, y, line, SANS, BODY_SIZE, char_space=min(spread, 4.0))
        y -= BODY_LEADING
    draw_text(c, BODY_LEFT + indent, y, "特发此证。", SANS, BODY_SIZE)

    _draw_details(c, cert, min(y - 40, 212.0))
    _draw_verification(c, cert)

    # Issuing unit and date, then the seal over both, blended as stamped ink.
    _fill(c, INK)
    draw_text(c, SEAL_X, SEAL_Y - 30, cert.issuing_unit, SANS, 14, "centre")
    d = cert.issue_date
    draw_text(c, SEAL_X, SEAL_Y - 54, f"{d.year}年{d.month}月{d.day}日", SANS, 13, "centre")
    if cert.english is not None:
        _fill(c, MUTED)
        english_issuer = " · ".join(part for part in (cert.english.issuing_unit,
                                                      cert.english.issue_date) if part)
        draw_text(c, SEAL_X, SEAL_Y - 72, english_issuer, SANS, 8.5, "centre")
    c.saveState()
    c.setBlendMode("Multiply")
    seal_key = hashlib.sha1(cert.seal).hexdigest() if cert.seal else None
    _form(c, forms, ("seal", cert.issuing_unit, seal_key),
          lambda c: draw_seal(c, cert.issuing_unit, cert.seal))
    c.restoreState()


def _body_sentence(cert: CertificateData) -> str:
    programme = cert.programme.strip()
    if not programme.startswith("《"):
        programme = f"《{programme}》"
    kind = cert.programme_kind.strip()
    hours = f"，计 {cert.training_hours.strip()} 学时" if cert.training_hours.strip() else ""
    if kind.endswith("参观"):   # an exhibition is visited: 参观《红色开州 百年锦绣》特展
        return f"于 {cert.date_text} 在{cert.venue}参观{programme}{hours}。"
    if kind and kind in programme:   # the title already says what it is: no 研学…研学
        kind = "活动"
    elif not kind.endswith(("学习", "活动")):
        kind += "活动" if ("研学" in kind or "党日" in kind) else "学习"
    return f"于 {cert.date_text} 在{cert.venue}参加{programme}{kind}{hours}。"


def programme_line(programme: str, kind: str) -> str:
    """学习百年党史 感悟刘帅精神（专题党课）; the kind is left out when the title names it."""
    programme, kind = programme.strip(), kind.strip()
    return programme if not kind or kind in programme else f"{programme}（{kind}）"


_NO_LINE_START = set("，。、；：？！）》」』”’…%")


def _wrap(text: str, width: float, first_indent: float) -> list[str]:
    """Greedy CJK line breaking in the body font: break anywhere, but never start
    a line with closing punctuation (it hangs into the margin instead)."""
    lines, line, used, limit = [], [], 0.0, width - first_indent
    for fname, run in split_runs(text, SANS):
        for ch in run:
            w = run_width(fname, ch, BODY_SIZE)
            if line and used + w > limit and ch not in _NO_LINE_START:
                lines.append("".join(line).rstrip())
                line, used, limit = [], 0.0, width
                if ch == " ":
                    continue
            line.append(ch)
            used += w
    if line:
        lines.append("".join(line))
    return lines


def _draw_details(c, cert: CertificateData, top: float) -> None:
    """A small record under the body: who, what, when, where, how long, with whom."""
    mid = BODY_LEFT + 290
    english = cert.english
    programme = programme_line(cert.programme, cert.programme_kind)
    if english is not None and english.programme.strip() != cert.programme.strip():
        programme = f"{programme} · {english.programme}"
    rows = [
        [("工作单位 Organisation", cert.organisation, BODY_RIGHT)],
        [("学习项目 Programme", programme, BODY_RIGHT)],
        [("时间 Date", english.date_text if english else cert.date_text, mid - 12),
         ("地点 Venue", english.venue if english else cert.venue, SEAL_X - SEAL_R - 8)],
        [("学时 Hours", cert.training_hours.strip() or "—", mid - 12),
         ("主讲 Lecturer", cert.lecturer or "—", SEAL_X - SEAL_R - 8)],
    ]
    y = top
    for row in rows:
        for x, (label, value, right) in zip((BODY_LEFT + 4, mid), row):
            _fill(c, MUTED)
            vx = x + max(draw_text(c, x, y, label, SANS, 8.5) + 8, 104 if x < mid else 70)
            size = 11.0
            while size > 6.5 and text_width(value, SANS, size) > right - vx:
                size -= 0.5
            _fill(c, INK)
            draw_text(c, vx, y, value, SANS, size)
        y -= 17


def _draw_verification(c, cert: CertificateData) -> None:
    """QR code of the verification URL, with the code and URL beside it."""
    n, rows = qr_matrix(cert.verify_url)
    m = QR_SIZE / n
    _fill(c, INK)
    c.saveState()
    c.addLiteral(f"{m:.4f} 0 0 {m:.4f} {QR_X:.2f} {QR_Y:.2f} cm\n{_qr_path(n, rows)}\nf")
    c.restoreState()
    x = QR_X + QR_SIZE + 12
    _fill(c, MUTED)
    draw_text(c, x, QR_Y + 62, "验证码 Verification code", SANS, 8)
    _fill(c, INK)
    draw_text(c, x, QR_Y + 42, cert.verification_code, SANS, 13, char_space=1)
    _fill(c, MUTED)
    draw_text(c, x, QR_Y + 22, "扫码或访问网址核验真伪 Scan or visit to verify", SANS, 7.5)
    draw_text(c, x, QR_Y + 8, cert.verify_url, SANS, 7)


def _byte_runs(v: int) -> tuple[tuple[int, int], ...]:
    """(offset, length) of the runs of set bits in byte ``v``, high bit first."""
    bits = format(v, "08b")
    return tuple((m.start(), m.end() - m.start()) for m in re.finditer("1+", bits))


_BYTE_RUNS = tuple(_byte_runs(v) for v in range(256))
_qr_ops: dict[tuple[int, int, int], str] = {}


def _qr_path(n: int, rows: bytes) -> str:
    """Path operators, in module units, for the dark modules: one rectangle per
    run within each 8-module chunk of a row. Being one path filled once, abutting
    rectangles leave no seams. The text for a (chunk, byte) is cached, since
    formatting numbers is most of the cost and the same chunks recur."""
    chunks = (n + 7) // 8
    parts = []
    for i, v in enumerate(rows):
        if v:
            ops = _qr_ops.get((n, i, v))
            if ops is None:
                if len(_qr_ops) > 200_000:
                    _qr_ops.clear()
                r, k = divmod(i, chunks)
                ops = _qr_ops[n, i, v] = " ".join(
                    f"{8 * k + o} {n - 1 - r} {length} 1 re" for o, length in _BYTE_RUNS[v])
            parts.append(ops)
    return "\n".join(parts)


def _draw_status(c, status: str) -> None:
    c.saveState()
    c.setFillColor(Color(0.75, 0.08, 0.1, alpha=0.14))
    c.translate(PAGE_W / 2, PAGE_H / 2 - 30)
    c.rotate(20)
    draw_text(c, 0, 0, status, SANS, 66, "centre")
    c.restoreState()
