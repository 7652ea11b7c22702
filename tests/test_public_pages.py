"""Public pages: home, programme pages, the capacity calendar and the day view."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import event

from booking.clock import at_local, local_today
from booking.models import VenueDay
from booking.models.db import db
from booking.rules import availability as capacity_calendar
from booking.rules.availability import Availability, ClosedReason
from tests.fixtures.factories import next_open_day, open_every_day


def text_of(response) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def day_cell(response, day: date) -> str:
    """The text of one day's cell in the month grid (found by its full date label)."""
    html = response.get_data(as_text=True)
    cells = re.findall(r'<li class="day [^"]*">(.*?)</li>', html, flags=re.S)
    label = f"{day.month}月{day.day}日"
    for cell in cells:
        if label in cell:
            return " ".join(re.sub(r"<[^>]+>", " ", cell).split())
    raise AssertionError(f"no cell for {day}")


def month_arg(day: date) -> str:
    return day.strftime("%Y-%m")


def next_monday(after: date) -> date:
    return after + timedelta(days=(7 - after.weekday()) % 7 or 7)


# --- home and programme pages ------------------------------------------------------------

def test_home_lists_both_venues_with_hours_closed_day_and_programmes(client, create_venue,
                                                                     create_course):
    hall = create_venue("LBC")
    museum = create_venue("KZM", name="开州博物馆", open_on_holiday_closed_day=False)
    create_course(hall, code="liushuai-spirit", summary="精品专题党课。")
    create_course(museum, code="red-kaizhou", title="红色开州 百年锦绣", position=1)
    create_course(museum, code="retired", title="已下线的展览", active=False)

    page = text_of(client.get("/"))

    assert "刘伯承同志纪念馆" in page and "开州博物馆" in page
    assert "09:00–17:00" in page
    assert "每周一闭馆（逢法定节假日照常开放）" in page
    assert "每周一闭馆（法定节假日亦闭馆）" in page
    assert "学习百年党史 感悟刘帅精神" in page and "红色开州 百年锦绣" in page
    assert "专题党课" in page and "1.5 学时" in page and "每团 10–50 人" in page
    assert "已下线的展览" not in page
    html = client.get("/").get_data(as_text=True)
    assert "/programmes/liushuai-spirit" in html
    assert "/venues/KZM/calendar?programme=red-kaizhou" in html


def test_programme_page_shows_modules_facts_and_next_sessions_with_seats(
        client, create_course, create_slot, create_booking):
    course = create_course(code="liushuai-spirit", audience="党员干部", requires_approval=True,
                           equipment="投影仪\n党旗", description="由宣讲员主讲。")
    slot = create_slot(course.venue, programme="liushuai-spirit", capacity=40)
    create_booking(slot, party_size=15)
    create_slot(course.venue, programme="other-programme", start=time(14, 0))

    response = client.get("/programmes/liushuai-spirit")
    page = text_of(response)

    assert response.status_code == 200
    assert page.index("参观展厅") < page.index("专题党课 45 分钟") < page.index("重温入党誓词")
    assert "党员干部" in page and "投影仪、党旗" in page and "需场馆审核" in page
    assert "余 25 座" in page
    html = response.get_data(as_text=True)
    assert f"/slots/{slot.id}/book" in html
    assert html.count("/book\"") == 1  # the other programme's slot is not listed


def test_unknown_or_inactive_programme_is_not_found(client, create_course):
    create_course(code="retired", active=False)
    assert client.get("/programmes/retired").status_code == 404
    assert client.get("/programmes/nothing").status_code == 404


# --- month calendar ------------------------------------------------------------------------

def test_calendar_shows_seats_left_in_text(client, create_venue, create_slot, create_booking):
    venue = create_venue()
    slot = create_slot(venue, capacity=40)
    create_booking(slot, party_size=10)

    response = client.get(f"/venues/LBC/calendar?month={month_arg(slot.day)}")

    assert response.status_code == 200
    cell = day_cell(response, slot.day)
    assert "可预约" in cell and "余 30 座" in cell
    assert f"/venues/LBC/days/{slot.day.isoformat()}" in response.get_data(as_text=True)


def test_calendar_counts_the_daily_cap_in_seats_left(client, create_venue, create_slot,
                                                     create_booking):
    venue = create_venue(daily_cap=30)
    slot = create_slot(venue, capacity=40)
    create_slot(venue, day=slot.day, start=time(14, 0), capacity=40)
    create_booking(slot, party_size=20)

    cell = day_cell(client.get(f"/venues/LBC/calendar?month={month_arg(slot.day)}"), slot.day)

    assert "余 10 座" in cell and "余位紧张" in cell


def test_calendar_marks_full_and_few_left_days_in_words(client, create_venue, create_slot,
                                                        create_booking):
    venue = create_venue()
    full = create_slot(venue, capacity=10)
    few = create_slot(venue, day=next_open_day((full.day - local_today()).days + 1), capacity=40)
    create_booking(full, party_size=10)
    create_booking(few, party_size=35, organisation_name="开州中学")

    response = client.get(f"/venues/LBC/calendar?month={month_arg(full.day)}")
    assert "已约满" in day_cell(response, full.day)
    if few.day.month == full.day.month:
        cell = day_cell(response, few.day)
        assert "余位紧张" in cell and "余 5 座" in cell


def test_calendar_explains_closed_days(client, create_venue, session):
    venue = create_venue(groups_on_holidays=False)
    monday = next_monday(local_today() + timedelta(days=3))
    while capacity_calendar.holiday_name(monday):
        monday += timedelta(days=7)
    staff_closed = monday + timedelta(days=1)
    session.add(VenueDay(venue_id=venue.id, day=staff_closed, capacity=500, closed=True,
                         reason="设备检修"))
    session.commit()

    response = client.get(f"/venues/LBC/calendar?month={month_arg(monday)}")
    assert "闭馆日" in day_cell(response, monday)
    if staff_closed.month == monday.month:
        assert "临时闭馆：设备检修" in day_cell(response, staff_closed)


def test_calendar_says_public_holidays_take_no_groups(client, create_venue):
    create_venue(groups_on_holidays=False)
    new_year = date(local_today().year + 1, 1, 1)  # always a public holiday in China

    response = client.get(f"/venues/LBC/calendar?month={month_arg(new_year)}")

    assert "节假日不接待团体" in day_cell(response, new_year)


def test_past_and_too_soon_days_are_not_bookable_and_say_why(client, create_venue,
                                                             create_slot):
    venue = open_every_day(create_venue())
    today = local_today()
    past = create_slot(venue, day=today - timedelta(days=1))
    soon = create_slot(venue, day=today + timedelta(days=1), start=time(23, 0))

    response = client.get(f"/venues/LBC/calendar?month={month_arg(past.day)}")
    html = response.get_data(as_text=True)
    assert "已过" in day_cell(response, past.day)
    assert f"/days/{past.day.isoformat()}" not in html
    if soon.day.month == past.day.month:
        assert "预约已截止" in day_cell(response, soon.day)

    day_page = text_of(client.get(f"/venues/LBC/days/{soon.day.isoformat()}"))
    assert "请至少提前 2 个工作日预约" in day_page
    assert f"/slots/{soon.id}/book" not in client.get(
        f"/venues/LBC/days/{soon.day.isoformat()}").get_data(as_text=True)


def test_days_beyond_the_booking_window_are_not_yet_open(client, create_venue, create_slot):
    venue = open_every_day(create_venue())
    far = create_slot(venue, day=local_today() + timedelta(days=45))

    response = client.get(f"/venues/LBC/calendar?month={month_arg(far.day)}")

    assert "尚未开放预约" in day_cell(response, far.day)
    assert "该日期尚未开放预约" in text_of(client.get(f"/venues/LBC/days/{far.day.isoformat()}"))


def test_programme_calendar_shows_only_that_programmes_slots(client, create_venue, create_slot):
    venue = create_venue()
    party_day = create_slot(venue, programme="party-day", title="红色主题党日", capacity=30)
    create_slot(venue, day=party_day.day, start=time(14, 0), programme="liushuai-spirit",
                capacity=100)

    response = client.get(f"/venues/LBC/calendar?programme=party-day"
                          f"&month={month_arg(party_day.day)}")

    assert "余 30 座" in day_cell(response, party_day.day)
    assert "红色主题党日" in text_of(response)


def test_month_navigation_links_to_neighbouring_months(client, create_venue):
    create_venue()
    html = client.get("/venues/LBC/calendar?month=2031-01").get_data(as_text=True)
    assert "month=2030-12" in html and "month=2031-02" in html
    # a malformed month falls back to the current one instead of failing
    assert client.get("/venues/LBC/calendar?month=soon").status_code == 200
    assert client.get("/venues/XXX/calendar").status_code == 404


def test_month_calendar_uses_a_constant_number_of_queries(client, create_venue, create_slot,
                                                          session):
    venue = open_every_day(create_venue())
    first = date(local_today().year, local_today().month, 1) + timedelta(days=40)
    first = first.replace(day=1)
    create_slot(venue, day=first + timedelta(days=1))
    url = f"/venues/LBC/calendar?month={month_arg(first)}"

    def count_queries() -> int:
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    with_one_slot = count_queries()
    for offset in range(2, 26):
        for start in (time(9, 0), time(14, 0)):
            create_slot(venue, day=first + timedelta(days=offset), start=start)
    with_many_slots = count_queries()

    assert with_many_slots == with_one_slot
    assert with_one_slot <= 8


def test_month_calendar_data_follows_the_clock_it_is_given(session, create_venue, create_slot):
    venue = create_venue(weekly_closed_day=0, groups_on_holidays=True)
    now = at_local(date(2030, 6, 4), time(10, 0), venue.tz)  # a Tuesday
    open_slot = create_slot(venue, day=date(2030, 6, 12), capacity=50)
    create_slot(venue, day=date(2030, 6, 5), capacity=50)  # tomorrow: too soon

    calendar = capacity_calendar.month_calendar(session, venue, date(2030, 6, 1), now=now)
    cells = {cell.day: cell for cell in calendar.days}

    assert cells[date(2030, 6, 3)].state is Availability.PAST
    assert cells[date(2030, 6, 10)].state is Availability.CLOSED
    assert cells[date(2030, 6, 10)].closed_reason is ClosedReason.WEEKLY
    assert cells[date(2030, 6, 5)].state is Availability.TOO_SOON
    assert cells[open_slot.day].state is Availability.AVAILABLE
    assert cells[open_slot.day].seats_left == 50
    assert cells[date(2030, 6, 13)].state is Availability.NO_SESSIONS
    assert calendar.weeks[0][0].day == date(2030, 5, 27)  # weeks start on Monday


# --- day view -------------------------------------------------------------------------------

def test_day_view_lists_slots_with_seats_left_and_book_buttons(client, create_venue,
                                                              create_slot, create_booking,
                                                              create_room):
    venue = create_venue()
    hall = create_room(venue, "报告厅", 120)
    open_slot = create_slot(venue, capacity=40, room=hall)
    full_slot = create_slot(venue, day=open_slot.day, start=time(14, 0), capacity=10,
                            title="红色主题党日")
    create_booking(open_slot, party_size=12)
    create_booking(full_slot, party_size=10, organisation_name="开州中学")

    response = client.get(f"/venues/LBC/days/{open_slot.day.isoformat()}")
    page, html = text_of(response), response.get_data(as_text=True)

    assert response.status_code == 200
    assert "09:00–10:30" in page and "14:00–15:30" in page
    assert "报告厅" in page and "余 28 座" in page
    assert f"/slots/{open_slot.id}/book" in html
    assert f"/slots/{full_slot.id}/book" not in html
    assert "该场次已约满" in page


def test_day_view_of_a_bad_date_is_not_found(client, create_venue):
    create_venue()
    assert client.get("/venues/LBC/days/2030-02-30").status_code == 404


# --- language -------------------------------------------------------------------------------

def test_english_pages_after_the_switch_and_the_choice_is_remembered(client, create_venue,
                                                                     create_course):
    venue = create_venue()
    create_course(venue, title_en="Learning a Century of Party History")

    switched = client.get("/language/en?next=/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    assert "lang=en" in switched.headers["Set-Cookie"]

    page = text_of(client.get("/"))  # the cookie is sent back: no ?lang= needed
    assert "Liu Bocheng Memorial Hall" in page
    assert "Learning a Century of Party History" in page
    assert "My booking" in page and "See the booking calendar" in page
    assert "刘伯承同志纪念馆" not in page
    calendar = client.get("/venues/LBC/calendar").get_data(as_text=True)
    assert 'lang="en"' in calendar and "Booking calendar" in calendar

    client.get("/language/zh?next=/")
    refresh()  # the test app context outlives requests; Flask-Babel caches the locale in it
    assert "预约日历" in text_of(client.get("/venues/LBC/calendar"))


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                  "/\tevil", "javascript:alert(1)", "evil.example"])
def test_language_switch_refuses_to_redirect_off_site(client, create_venue, evil):
    create_venue()
    response = client.get("/language/en", query_string={"next": evil})
    assert response.headers["Location"] == "/"


def test_a_slot_with_fewer_seats_than_the_smallest_group_is_full_and_says_why(
        client, create_venue, create_slot, create_booking):
    venue = create_venue()
    slot = create_slot(venue, capacity=15, party_size_min=10)
    create_booking(slot, party_size=10)

    response = client.get(f"/venues/LBC/days/{slot.day.isoformat()}")

    assert "余位不足一个团体的最少人数（10 人）" in text_of(response)
    assert f"/slots/{slot.id}/book" not in response.get_data(as_text=True)
    assert "已约满" in day_cell(client.get(f"/venues/LBC/calendar?month={month_arg(slot.day)}"),
                              slot.day)
