"""The PDF and Excel renderers: certificates, the daily roster, and their fonts.

Pure functions, so no app fixtures: plain data in, bytes out, read back with pypdf
and openpyxl. The fonts are the ones shipped in static/fonts, never the system's.
"""
from __future__ import annotations

import io
import re
import time
from dataclasses import replace
from datetime import date

import pytest
import qrcode
from openpyxl import load_workbook
from pypdf import PdfReader
from qrcode import util as qr_util
from reportlab.pdfbase import pdfmetrics, ttfonts

from booking.render import font_files, fonts
from booking.render.roster_pdf import RosterDay, RosterGroup, RosterSession, render_roster_pdf
from booking.render.roster_xlsx import render_roster_xlsx
from courses.render.certificates import (
    QR_EC,
    QR_MASK,
    CertificateData,
    qr_codewords,
    qr_matrix,
    render_certificate,
    render_certificates,
)

RARE_NAMES = ["𠮷", "䶮", "珺", "喆", "阿卜杜拉·艾力", "Anna Müller", "𠮷田䶮珺"]


def make_certificate(**changes) -> CertificateData:
    cert = CertificateData(
        title="学习证明", serial="LBC-2026-000123", name="王晓红",
        organisation="中共重庆市开州区汉丰街道党工委", programme="学习百年党史 感悟刘帅精神",
        programme_kind="专题党课", date_text="2026年12月3日 09:00–10:30", venue="刘伯承同志纪念馆",
        training_hours="1.5", lecturer="陈宣讲员", issuing_unit="刘伯承同志纪念馆",
        issue_date=date(2026, 12, 3), verification_code="7KQ2-M9XD-P4TR",
        verify_url="https://booking.example.cn/verify/LBC-2026-000123?c=7KQ2M9XDP4TR")
    return replace(cert, **changes)


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def compact(text: str) -> str:
    """Extracted text without the line breaks that wrapping puts into it."""
    return re.sub(r"\s+", "", text)


# --- certificates ---------------------------------------------------------------------

def test_certificate_text_reads_back_as_the_data():
    cert = make_certificate()
    (text,) = pdf_pages(render_certificate(cert))
    for value in (cert.name, cert.serial, cert.organisation, cert.programme, cert.venue,
                  cert.verification_code, cert.verify_url, cert.lecturer, "2026年12月3日"):
        assert value in text
    body = "王晓红同志：于2026年12月3日09:00–10:30在刘伯承同志纪念馆参加《学习百年党史感悟刘帅精神》" \
           "专题党课学习，计1.5学时。特发此证。"
    assert body in compact(text)
    assert compact(text).startswith("学习证明")


def test_certificates_render_one_a4_landscape_page_each_in_order():
    certs = [make_certificate(serial=f"KZM-2026-{i:06d}", name=n)
             for i, n in enumerate(["张三", "李四", "王五"], start=1)]
    data = render_certificates(iter(certs))        # any iterable, e.g. a generator
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    for page, cert in zip(reader.pages, certs):
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == (842, 595)
        assert cert.serial in page.extract_text() and cert.name in page.extract_text()


def test_rendering_no_certificates_is_an_error():
    with pytest.raises(ValueError):
        render_certificates([])


def test_cjk_fonts_are_embedded_as_subsets():
    (page,) = PdfReader(io.BytesIO(render_certificate(make_certificate(name="𠮷田")))).pages
    used = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        used[str(font["/BaseFont"])] = font
    assert used, "no fonts on the page"
    for base_font, font in used.items():
        assert font["/Subtype"] == "/TrueType"
        assert re.match(r"^/[A-Z]{6}\+", base_font), base_font      # subset prefix
        assert "/FontFile2" in font["/FontDescriptor"].get_object()   # embedded
    names = " ".join(used)
    assert "WenQuanYiMicroHei" in names and "UKai" in names and "HanaMinA" in names


@pytest.mark.parametrize("name", RARE_NAMES)
def test_rare_and_foreign_names_extract_as_text(name):
    (text,) = pdf_pages(render_certificate(make_certificate(name=name)))
    assert f"{name} 同志" in text or f"{name}同志" in text


def test_characters_beyond_the_bmp_get_a_utf16_tounicode_entry():
    # reportlab 5.1 writes <20BB7> (odd-length, unreadable); fonts.py patches it.
    fonts.register_fonts()
    assert ttfonts.makeToUnicodeCMap is fonts._to_unicode_cmap
    cmap = fonts._to_unicode_cmap("AAAAAA+HanaMinA", [0, 0x20BB7, 0x4E2D])
    assert "<01> <D842DFB7>" in cmap and "<02> <4E2D>" in cmap
    (text,) = pdf_pages(render_certificate(make_certificate(name="𠮷")))
    assert "𠮷" in text


def test_status_is_printed_as_a_watermark():
    (text,) = pdf_pages(render_certificate(make_certificate(status="已撤销 REVOKED")))
    assert "已撤销 REVOKED" in text


def test_a_seal_image_replaces_the_drawn_seal():
    from PIL import Image, ImageDraw
    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((10, 10, 190, 190), outline=(200, 0, 0, 255), width=12)
    png = io.BytesIO()
    img.save(png, "PNG")
    one = render_certificates([make_certificate(seal=png.getvalue())])
    three = render_certificates([make_certificate(seal=png.getvalue())] * 3)
    assert len(PdfReader(io.BytesIO(three)).pages) == 3
    # Embedded (image and its alpha mask) once, in the seal form all pages share.
    assert one.count(b"/Subtype /Image") == three.count(b"/Subtype /Image") == 2


# --- fonts ----------------------------------------------------------------------------

def test_every_name_character_is_drawn_by_a_font_with_an_outline():
    # AR PL UKai maps 䶮 to an empty glyph: the cmap alone would print a blank.
    fonts.register_fonts()
    for name in RARE_NAMES:
        for preferred in (fonts.KAI, fonts.SANS):
            for font_name, run in fonts.split_runs(name, preferred):
                face = pdfmetrics.getFont(font_name).face
                for ch in run.replace(" ", ""):
                    glyph = face.charToGlyph[ord(ch)]
                    assert face.glyphPos[glyph + 1] > face.glyphPos[glyph], (ch, font_name)
    assert fonts.split_runs("䶮", fonts.KAI)[0][0] != fonts.KAI


def test_split_runs_falls_back_per_character():
    assert fonts.split_runs("王𠮷明", fonts.SANS) == [
        (fonts.SANS, "王"), (fonts.HANA_A, "𠮷"), (fonts.SANS, "明")]
    assert fonts.split_runs("阿卜杜拉·艾力", fonts.KAI) == [
        (fonts.KAI, "阿卜杜拉"), (fonts.SANS, "·"), (fonts.KAI, "艾力")]
    assert fonts.split_runs("", fonts.SANS) == []


def test_missing_characters_names_what_no_font_can_draw():
    assert fonts.missing_characters("张\ue000三\ue000") == ["\ue000"]
    for name in RARE_NAMES:
        assert fonts.missing_characters(name) == [], name
    # Variation selectors and spaces are not "missing".
    assert fonts.missing_characters("葛\U000E0100 一") == []


def test_registering_fonts_again_is_cheap():
    fonts.register_fonts()
    start = time.perf_counter()
    for _ in range(1000):
        fonts.register_fonts()
    assert time.perf_counter() - start < 0.05


# --- QR code ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://booking.example.cn/verify/LBC-2026-000123?c=7KQ2M9XDP4TR",
    "x",
    "https://例子.中国/验证/KZM-2026-000001",
    "https://booking.example.cn/verify/" + "A1b2" * 60,
])
def test_qr_matrix_is_module_for_module_what_qrcode_draws(url):
    data = url.encode("utf-8")
    version, codewords = qr_codewords(data)
    segment = qr_util.QRData(data, mode=qr_util.MODE_8BIT_BYTE)
    assert codewords == qr_util.create_data(version, QR_EC, [segment])
    reference = qrcode.QRCode(version=version, error_correction=QR_EC, border=0,
                              mask_pattern=QR_MASK)
    reference.add_data(segment)
    reference.make(fit=False)
    n, rows = qr_matrix(url)
    stride = (n + 7) // 8
    mine = [[bool(rows[r * stride + c // 8] & (0x80 >> c % 8)) for c in range(n)]
            for r in range(n)]
    assert mine == [[bool(m) for m in row] for row in reference.modules]


# --- the daily roster --------------------------------------------------------------------

ORGANISATIONS = ["中共重庆市开州区委组织部机关支部委员会", "开州区汉丰街道办事处党工委",
                 "重庆市开州中学", "国网重庆市电力公司开州供电分公司党委", "开州区竹溪社区党支部"]


def make_day(groups_per_session: list[int]) -> RosterDay:
    sessions, n = [], 0
    for s, count in enumerate(groups_per_session):
        groups = []
        for _ in range(count):
            n += 1
            groups.append(RosterGroup(
                reference=f"LBC-7K{n:03d}", organisation=f"{ORGANISATIONS[n % 5]}{n}",
                contact_name=["王芳", "𠮷田", "阿卜杜拉·艾力", "Anna Müller", "䶮"][n % 5],
                contact_phone=f"138{n:08d}", party_size=10 + n % 40,
                arrived=None if n % 3 else 10 + n % 40, state="已确认",
                notes="需要轮椅通道" if n % 4 == 0 else ""))
        sessions.append(RosterSession(
            starts_at_text=f"{9 + s:02d}:00", ends_at_text=f"{10 + s:02d}:30",
            title="《学习百年党史 感悟刘帅精神》专题党课", room="一号报告厅", lecturer="陈宣讲员",
            equipment=["党旗", "誓词墙"], capacity=500, seats_taken=sum(g.party_size for g in groups),
            groups=groups))
    return RosterDay(venue="刘伯承同志纪念馆", date_text="2026年12月3日 星期四", daily_cap=500,
                     booked_total=sum(s.seats_taken for s in sessions), arrived_total=42,
                     sessions=sessions, generated_at_text="2026-12-02 18:05")


def test_roster_pdf_lists_every_group_with_its_full_phone_number():
    day = make_day([10, 10, 10, 10])
    text = compact("".join(pdf_pages(render_roster_pdf(day))))
    assert "每日接待安排" in text and "刘伯承同志纪念馆" in text
    for session in day.sessions:
        for group in session.groups:
            assert compact(group.organisation) in text
            assert group.contact_phone in text                  # staff copy: unmasked
            assert compact(group.contact_name) in text
            assert group.reference in text


def test_large_roster_breaks_across_numbered_pages_repeating_headers():
    pages = pdf_pages(render_roster_pdf(make_day([60, 60, 60, 60])))
    total = len(pages)
    assert total >= 8                         # 240 groups cannot fit on fewer
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {total} 页" in text
        assert "Organisation" in text         # column headers on every page
        assert "专题党课" in text              # and the session line


def test_roster_with_no_sessions_or_empty_sessions_still_renders():
    (text,) = pdf_pages(render_roster_pdf(make_day([])))
    assert "当日无场次" in text
    assert "暂无预约" in "".join(pdf_pages(render_roster_pdf(make_day([0, 2]))))


def test_roster_pdf_for_40_groups_renders_within_300_ms():
    day = make_day([10, 10, 10, 10])
    render_roster_pdf(day)                    # fonts registered, caches warm
    best = min(_timed(render_roster_pdf, day) for _ in range(3))
    assert best < 0.3, f"{best:.3f} s"


def _timed(fn, *args) -> float:
    """CPU seconds: the target is for one core, and test machines are shared."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def test_roster_xlsx_has_a_row_per_group_under_frozen_bold_headers():
    day = make_day([3, 0, 2])
    sheet = load_workbook(io.BytesIO(render_roster_xlsx(day))).active
    header = [c.value for c in sheet[5]]
    assert header[:2] == ["时间 Time", "场次 Session"] and "电话 Phone" in header
    assert all(c.font.bold for c in sheet[5])
    assert sheet.freeze_panes == "A6"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=6)]
    assert len(rows) == 3 + 1 + 2             # the empty session keeps one row
    phone = header.index("电话 Phone")
    first = day.sessions[0].groups[0]
    assert rows[0][phone] == first.contact_phone and isinstance(rows[0][phone], str)
    assert rows[0][header.index("单位 Organisation")] == first.organisation
    assert rows[0][header.index("人数 Size")] == first.party_size
    assert "暂无预约 No bookings" in rows[3]
    assert sheet.column_dimensions["H"].width > 20


@pytest.mark.parametrize("name", sorted(fonts.FONT_FILES))
def test_a_lean_mapped_font_reads_as_reportlab_parses_it(name):
    """The fonts are read through a memory map, their glyph offsets and metrics decoded on
    demand: every value must be what reportlab's own parser gives (subsets are cut from them)."""
    filename, index = fonts.FONT_FILES[name]
    plain = ttfonts.TTFontFace(str(fonts.FONT_DIR / filename), subfontIndex=index)
    lean = ttfonts.TTFontFace(font_files.MappedFile(fonts.FONT_DIR / filename), subfontIndex=index)
    font_files.lean(lean)
    assert list(lean.glyphPos) == plain.glyphPos
    assert list(lean.hmetrics) == plain.hmetrics
    assert lean.charToGlyph == plain.charToGlyph and lean.charWidths == plain.charWidths
    glyf = plain.get_table("glyf")
    for glyph in (0, 1, len(plain.glyphPos) // 2, len(plain.glyphPos) - 2):
        start, end = plain.glyphPos[glyph], plain.glyphPos[glyph + 1]
        assert lean.get_table("glyf")[start:end] == glyf[start:end]
    assert lean.get_table("head") == plain.get_table("head")
