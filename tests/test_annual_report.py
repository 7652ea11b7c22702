"""The annual report: its figures agree with a count by hand, the demo's past year reproduces the
seed article's figures from records, its fonts are embedded, and staff reach it from a page
and from the command line."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from booking.models import Role, Venue
from booking.models.db import db
from booking.web.staff.annual_data import annual_report_pdf, annual_report_xlsx
from tests.fixtures.report_counts import YEAR, count_by_hand, hand_figures


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def fonts_of(data: bytes) -> list[tuple[str, bool]]:
    """(font name, embedded) for every font any page uses."""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            fonts[font["/BaseFont"]] = any(k in descriptor for k in
                                           ("/FontFile", "/FontFile2", "/FontFile3"))
    return sorted(fonts.items())


def _number(n) -> str:
    return f"{n:,}"


def test_annual_report_figures_agree_with_a_count_by_hand(app, year_of_records):
    hall, _ = year_of_records
    from datetime import date
    counts = count_by_hand(db.session, date(YEAR, 1, 1), date(YEAR, 12, 31))
    with app.test_request_context():
        text = pdf_text(annual_report_pdf(db.session, YEAR, None))
        workbook = load_workbook(io.BytesIO(annual_report_xlsx(db.session, YEAR, None)))
    total = hand_figures(counts, ("total",))
    assert (f"{YEAR} 年共接待 {total['groups']} 批团体、服务 {total['organisations']} 个单位、"
            f"{total['people']} 人次") in text.replace("\n", "")
    for venue in db.session.query(Venue):
        figures = hand_figures(counts, ("venue", venue.name))
        assert (f"{venue.name}：接待 {figures['groups']} 批团体（其中线下记录 "
                f"{figures['offline_groups']} 批）、服务 {figures['organisations']} 个单位、"
                f"{_number(figures['people'])} 人次") in text.replace("\n", "")
    summary = [c.value for c in workbook["汇总"][2]]
    assert summary[1:8] == [total["organisations"], total["people"], total["groups"],
                            float(total["person_hours"]), total["certificates"],
                            total["no_shows"], total["offline_groups"]]
    months = {row[0]: row[2] for row in workbook["按月份"].iter_rows(min_row=2, values_only=True)}
    assert months == {key[1]: hand_figures(counts, key)["people"]
                      for key in counts if key[0] == "month"} | {
        m: 0 for m in months if ("month", m) not in counts}


def test_annual_report_fonts_are_embedded(app, year_of_records):
    with app.test_request_context():
        data = annual_report_pdf(db.session, YEAR, None)
    fonts = fonts_of(data)
    assert fonts and all(embedded for _, embedded in fonts), fonts


@pytest.mark.slow
def test_the_demo_past_year_reproduces_the_seed_articles_figures(app, backend, tmp_path):
    """25 organisations and 4,500 people on the themed course; 150 and 8,000 on party days;
    100-odd groups and 10,000-odd visitors at the museum -- counted from records."""
    if backend != "sqlite":
        pytest.skip("the demo load is checked on SQLite; the SQL is checked on both above")
    from datetime import date

    from courses.demo import load_demo
    from courses.demo_year import demo_year
    load_demo(db.session)
    db.session.commit()
    year = demo_year()
    counts = count_by_hand(db.session, date(year, 1, 1), date(year, 12, 31))
    course, party = (hand_figures(counts, ("kind", k)) for k in ("themed_course", "party_day"))
    museum = hand_figures(counts, ("venue", "开州博物馆"))
    assert (course["organisations"], course["people"]) == (25, 4500)
    assert (party["organisations"], party["people"]) == (150, 8000)
    assert museum["groups"] >= 100 and museum["people"] >= 10000
    assert 0 < hand_figures(counts, ("total",))["offline_groups"] < hand_figures(
        counts, ("total",))["groups"]  # a mix of bookings and offline records

    out = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["annual-report", "--year", str(year),
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes()).replace("\n", "")
    assert "专题党课：服务 25 个单位" in text and "4,500 人次" in text
    assert "红色主题党日：服务 150 个单位" in text and "8,000 人次" in text
    assert re.search(r"开州博物馆：接待 1\d\d 批团体.*?10,\d{3} 人次", text)
    assert all(embedded for _, embedded in fonts_of(out.read_bytes()))


def test_staff_reach_the_annual_report_from_the_statistics_page(client, create_user, login,
                                                                year_of_records):
    login(create_user("reporter", Role.STAFF))
    statistics = client.get("/staff/statistics").get_data(as_text=True)
    assert 'href="/staff/statistics/annual"' in statistics
    page = client.get("/staff/statistics/annual").get_data(as_text=True)
    assert "/staff/statistics/annual.pdf" in page and "/staff/statistics/annual.xlsx" in page
    pdf = client.get("/staff/statistics/annual.pdf", query_string={"year": YEAR})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"{YEAR} 年度红色教育接待工作报告" in pdf_text(pdf.get_data())
    _, museum = year_of_records
    xlsx = client.get("/staff/statistics/annual.xlsx", query_string={"year": YEAR,
                                                                     "venue": museum.id})
    rows = list(load_workbook(io.BytesIO(xlsx.get_data()))["按场馆"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["开州博物馆"]
    bad = client.get("/staff/statistics/annual.pdf", query_string={"year": "abc"})
    assert bad.status_code == 422


def test_annual_report_is_for_staff_only(client, create_user, login):
    assert client.get("/staff/statistics/annual.pdf?year=2025").status_code == 302
    login(create_user("guide", Role.GUIDE))
    assert client.get("/staff/statistics/annual.pdf?year=2025").status_code == 403
