"""Statistics: organisations served (distinct) and people served (人次) from groups that came,
per venue, programme, kind and local month, with CSV and Excel exports."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from booking.clock import local_today
from booking.models import Booking, BookingState, Role
from booking.models.db import db
from booking.rules.statistics import people_served, statistics_report

START, END = date(2025, 3, 1), date(2025, 4, 30)


@pytest.fixture
def served(create_venue, create_slot, create_booking):
    """A handcrafted history. Organisations: 1 汉丰街道, 2 开州中学, 3 实验小学, 4 税务局,
    5 南山社区. Numbers in comments are party size / arrived count."""
    hall = create_venue("LBC", name="刘伯承同志纪念馆")
    museum = create_venue("KZM", name="开州博物馆", name_en="Kaizhou Museum")

    def slot(venue, day, start, **facts):
        return create_slot(venue, day=day, start=start, capacity=200, **facts)

    def came(slot_, org, size, arrived=None, state=BookingState.COMPLETED):
        booking, _ = create_booking(slot_, party_size=size, organisation_name=org,
                                    now=slot_.starts_at - timedelta(days=10))
        booking.state = state
        booking.arrived_count = arrived
        db.session.commit()
        return booking

    course = dict(programme="liushuai-spirit", kind="themed_course", title="学习百年党史 感悟刘帅精神")
    s1 = slot(hall, date(2025, 3, 1), time(9), **course)          # first day of the range
    came(s1, "汉丰街道", 20, 18, BookingState.CHECKED_IN)
    came(s1, "开州中学", 15, None)                                  # no headcount: party size
    came(s1, "实验小学", 10, None, BookingState.CANCELLED)          # not served
    s2 = slot(hall, date(2025, 3, 20), time(10, 30), programme="party-day", kind="party_day",
              title="红色主题党日")
    came(s2, "汉丰街道", 30, 30)
    came(s2, "税务局", 12, None, BookingState.NO_SHOW)              # not served
    s3 = slot(hall, date(2025, 4, 30), time(14), **course)         # last day of the range
    came(s3, "开州中学", 25, 22)
    came(s3, "南山社区", 10, None, BookingState.CONFIRMED)          # never checked in
    # 07:00 on 1 April in Chongqing is still 31 March in UTC: the local month counts.
    s4 = slot(museum, date(2025, 4, 1), time(7), programme=None, kind=None, title="临时参观",
              title_en="Special visit")
    came(s4, "汉丰街道", 10, 9)
    came(slot(museum, date(2025, 5, 1), time(9), **course), "实验小学", 40, 40)  # after the end
    came(slot(hall, date(2025, 2, 28), time(9), **course), "税务局", 10, 10)     # before start
    return hall, museum


def by(tallies, attribute):
    return {getattr(t, attribute): (t.organisations, t.people) for t in tallies}


def test_people_and_organisations_served_per_venue_programme_kind_and_month(served):
    report = statistics_report(db.session, START, END)
    assert (report.total.organisations, report.total.people, report.total.groups) == (2, 94, 5)
    assert by(report.by_venue, "venue_name") == {"刘伯承同志纪念馆": (2, 85), "开州博物馆": (1, 9)}
    assert by(report.by_programme, "title") == {"学习百年党史 感悟刘帅精神": (2, 55),
                                                "红色主题党日": (1, 30), "临时参观": (1, 9)}
    assert by(report.by_kind, "kind") == {"themed_course": (2, 55), "party_day": (1, 30),
                                          "": (1, 9)}
    assert by(report.by_month, "month") == {"2025-03": (2, 63), "2025-04": (2, 31)}


def test_detail_rows_group_by_all_four(served):
    rows = people_served(db.session, START, END)
    assert [(r.venue_name, r.month, r.kind, r.title, r.organisations, r.people) for r in rows] == [
        ("刘伯承同志纪念馆", "2025-03", "party_day", "红色主题党日", 1, 30),
        ("刘伯承同志纪念馆", "2025-03", "themed_course", "学习百年党史 感悟刘帅精神", 2, 33),
        ("刘伯承同志纪念馆", "2025-04", "themed_course", "学习百年党史 感悟刘帅精神", 1, 22),
        ("开州博物馆", "2025-04", "", "临时参观", 1, 9),
    ]


def test_date_range_includes_both_ends_and_nothing_beyond(served):
    narrower = statistics_report(db.session, START + timedelta(days=1), END - timedelta(days=1))
    assert (narrower.total.organisations, narrower.total.people) == (1, 94 - 33 - 22)
    wider = statistics_report(db.session, date(2025, 2, 1), date(2025, 5, 31))
    assert wider.total.people == 94 + 40 + 10
    assert [t.month for t in wider.by_month] == ["2025-02", "2025-03", "2025-04", "2025-05"]


def test_empty_months_are_listed_with_zeroes(served):
    report = statistics_report(db.session, date(2025, 1, 1), END)
    assert by(report.by_month, "month")["2025-01"] == (0, 0)


def test_one_venue_only(served):
    _, museum = served
    report = statistics_report(db.session, START, END, venue_id=museum.id)
    assert (report.total.organisations, report.total.people) == (1, 9)


# --- the demo data, counted by hand ------------------------------------------------------

def test_statistics_on_the_demo_data_agree_with_a_count_by_hand(app, backend):
    if backend != "sqlite":
        pytest.skip("the demo load takes ~15 s on PostgreSQL; the SQL itself is checked on "
                    "PostgreSQL by the handcrafted tests above")
    from courses.demo import load_demo, load_demo_history
    load_demo(db.session)
    db.session.commit()
    end = local_today()
    start = end - timedelta(days=45)
    report = statistics_report(db.session, start, end)

    # The count by hand: every booking, one at a time, in plain Python.
    organisations, people = defaultdict(set), defaultdict(int)
    excluded_states = set()
    for booking in db.session.scalars(select(Booking)):
        slot = booking.slot
        if not start <= slot.day <= end:
            continue
        if booking.state not in (BookingState.CHECKED_IN, BookingState.COMPLETED):
            excluded_states.add(booking.state)
            continue
        came = booking.party_size if booking.arrived_count is None else booking.arrived_count
        keys = [("total",), ("venue", slot.venue.name), ("programme", slot.title),
                ("kind", slot.kind or ""), ("month", f"{slot.day:%Y-%m}")]
        for key in keys:
            organisations[key].add(booking.organisation_id)
            people[key] += came

    def counted(key):
        return len(organisations[key]), people[key]

    assert report.total.people > 1000 and report.total.organisations >= 8  # a real history
    assert {BookingState.CANCELLED, BookingState.NO_SHOW} <= excluded_states
    assert (report.total.organisations, report.total.people) == counted(("total",))
    for t in report.by_venue:
        assert (t.organisations, t.people) == counted(("venue", t.venue_name))
    for t in report.by_programme:
        assert (t.organisations, t.people) == counted(("programme", t.title))
    for t in report.by_kind:
        assert (t.organisations, t.people) == counted(("kind", t.kind))
    for t in report.by_month:
        assert (t.organisations, t.people) == counted(("month", t.month))
    assert sum(t.people for t in report.by_venue) == report.total.people
    assert len(report.by_venue) == len([k for k in people if k[0] == "venue"]) == 2

    # Loading the demo again adds no second history.
    bookings = db.session.scalar(select(func.count(Booking.id)))
    assert load_demo_history(db.session) == 0
    assert db.session.scalar(select(func.count(Booking.id))) == bookings


# --- the page and the exports ------------------------------------------------------------

@pytest.fixture
def staff_client(client, create_user, login):
    login(create_user("reporter", Role.STAFF))
    return client


QUERY = {"start": START.isoformat(), "end": END.isoformat()}


def test_statistics_page_shows_totals_tables_and_a_chart(served, staff_client):
    page = staff_client.get("/staff/statistics", query_string=QUERY)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-total="people">94<' in html and 'data-total="organisations">2<' in html
    month_section = html[html.index('id="by-month"'):html.index('id="by-year"')]
    assert "<svg" in month_section and month_section.count('class="bar"') == 2  # March, April
    assert "临时参观" in html and "红色主题党日" in html


def test_statistics_default_to_this_year(staff_client):
    html = staff_client.get("/staff/statistics").get_data(as_text=True)
    year = local_today().year
    assert f'value="{year}-01-01"' in html and f'value="{year}-12-31"' in html


def test_a_reversed_range_is_refused_with_a_message(staff_client):
    page = staff_client.get("/staff/statistics",
                            query_string={"start": "2025-05-01", "end": "2025-04-01"})
    assert page.status_code == 422
    assert "结束日期不能早于开始日期" in page.get_data(as_text=True)
    export = staff_client.get("/staff/statistics.csv",
                              query_string={"start": "2025-05-01", "end": "2025-04-01"})
    assert export.status_code == 302


def test_csv_export_opens_in_excel_with_chinese_text(served, staff_client):
    response = staff_client.get("/staff/statistics.csv", query_string=QUERY)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    # organisations, people, groups, 学时, certificates, no-shows, offline groups
    assert ["开州博物馆", "2025-04", "团体参观", "临时参观", "1", "9", "1", "0", "0", "0", "0"] in rows
    assert rows[0] == ["汇总"] and rows[2][1:4] == ["2", "94", "5"]
    assert rows[1][-2:] == ["上年同期人次", "同比"] and rows[2][-2:] == ["0", "新增"]


def test_excel_export_has_one_sheet_per_table(served, staff_client):
    response = staff_client.get("/staff/statistics.xlsx", query_string=QUERY)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["汇总", "按场馆", "按项目", "按类型", "按单位类型", "按月份",
                                   "按年份", "明细"]
    assert [c.value for c in workbook["汇总"][2]][1:4] == [2, 94, 5]
    months = {row[0]: row[2] for row in workbook["按月份"].iter_rows(min_row=2, values_only=True)}
    assert months == {"2025-03": 63, "2025-04": 31}


def test_statistics_are_for_staff_only(client, create_user, login):
    for path in ("/staff/statistics", "/staff/statistics.csv", "/staff/statistics.xlsx"):
        assert client.get(path).status_code == 302  # to the login page
    login(create_user("guide", Role.GUIDE))
    for path in ("/staff/statistics", "/staff/statistics.csv", "/staff/statistics.xlsx"):
        assert client.get(path).status_code == 403
