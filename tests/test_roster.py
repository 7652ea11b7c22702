"""The daily roster: contents and order, totals, guides' view, constant queries, downloads,
and the staff pages and API that check groups in."""
from __future__ import annotations

import io
import re
from contextlib import contextmanager
from datetime import time, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import event, select

from booking.clock import local_today
from booking.models import AuditEntry, Booking, BookingState, Role, Venue
from booking.models.db import db
from booking.rules import checkin
from booking.rules.roster import build_roster, load_day
from booking.rules.workflow import cancel_booking
from tests.fixtures.browser import DESKTOP
from tests.fixtures.factories import started_a_moment_ago


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def venue(create_venue):
    # Open every day, so that "today" works whatever weekday the tests run on. (Set after the
    # insert: an explicit None on a new row lets the column default of Monday fire.)
    venue = create_venue()
    venue.weekly_closed_day = None
    db.session.commit()
    return venue


@pytest.fixture
def staff(create_user):
    return create_user("desk", Role.STAFF)


@pytest.fixture
def running_slot(venue, create_slot):
    """A session today that has just started (ten minutes ago, or at midnight): check-in is open."""
    def factory(**kw):
        start = started_a_moment_ago(venue)
        return create_slot(venue, day=start.date(), start=start.time(),
                           **kw)
    return factory


# --- contents ------------------------------------------------------------------------------

def test_roster_lists_sessions_in_time_order_with_their_facts(venue, create_slot, create_room,
                                                              book_ahead):
    hall = create_room(venue, "报告厅", 120)
    afternoon = create_slot(venue, start=time(14), room=hall, lecturer_name="陈静",
                            equipment="党旗\n誓词背景板\n", title="红色主题党日")
    morning = create_slot(venue, day=afternoon.day, start=time(9), capacity=40,
                          lecturer_name="李伟", title="学习百年党史 感悟刘帅精神")
    book_ahead(afternoon, 12, organisation_name="开州区汉丰街道党工委",
               notes="需要轮椅通道")
    book_ahead(morning, 30, organisation_name="开州中学", contact_phone="13912345678")
    roster = build_roster(db.session, venue, afternoon.day)
    assert [s.starts_at_text for s in roster.sessions] == ["09:00", "14:00"]
    first, second = roster.sessions
    assert (first.title, first.lecturer, first.capacity, first.seats_taken) == (
        "学习百年党史 感悟刘帅精神", "李伟", 40, 30)
    assert (second.room, second.equipment, second.ends_at_text) == (
        "报告厅", ["党旗", "誓词背景板"], "15:30")
    group = first.groups[0]
    assert (group.organisation, group.contact_name, group.contact_phone) == (
        "开州中学", "王建国", "13912345678")  # staff see the full phone number
    assert (group.party_size, group.arrived, group.state) == (30, None, "待签到")
    assert second.groups[0].notes == "需要轮椅通道"
    assert roster.venue == "刘伯承同志纪念馆"


def test_roster_totals_count_against_the_daily_cap(create_venue, create_slot, book_ahead,
                                                   staff):
    venue = create_venue(daily_cap=300)
    slot = create_slot(venue, capacity=50)
    first = book_ahead(slot, 20)
    book_ahead(slot, 15, organisation_name="开州中学")
    checkin.check_in_group(db.session, first, 18, staff, slot.starts_at)
    db.session.commit()
    roster = build_roster(db.session, venue, slot.day)
    assert (roster.daily_cap, roster.booked_total, roster.arrived_total) == (300, 35, 18)
    assert roster.sessions[0].groups[0].state == "已签到"


def test_cancelled_bookings_and_sessions_are_not_groups(venue, create_slot, book_ahead):
    slot = create_slot(venue)
    gone = book_ahead(slot, 10, organisation_name="已取消的单位")
    book_ahead(slot, 12)
    cancel_booking(db.session, gone, now=slot.starts_at - timedelta(days=10))
    db.session.commit()
    plan = load_day(db.session, venue, slot.day)
    assert [g.booking.party_size for g in plan.sessions[0].groups] == [12]
    assert [b.organisation.name for b in plan.sessions[0].withdrawn] == ["已取消的单位"]
    assert build_roster(db.session, venue, slot.day).booked_total == 12


def test_guides_see_only_their_own_sessions(venue, create_slot, create_user, book_ahead):
    guide = create_user("chenjing", Role.GUIDE)
    mine = create_slot(venue, start=time(9), guide_user_id=guide.id, title="我的场次")
    create_slot(venue, day=mine.day, start=time(14), title="别人的场次")
    roster = build_roster(db.session, venue, mine.day, guide_user=guide)
    assert [s.title for s in roster.sessions] == ["我的场次"]


# --- query count ---------------------------------------------------------------------------

def fill_day(venue, create_slot, book_ahead, day, groups: int, staff=None):
    """``groups`` groups of 5 named attendees over four sessions; half of them checked in."""
    slots = [create_slot(venue, day=day, start=time(9 + 2 * i), capacity=200)
             for i in range(4)]
    for n in range(groups):
        booking = book_ahead(slots[n % 4], 5, organisation_name=f"单位{n:02d}",
                             attendee_names=[f"学员{n}-{i}" for i in range(5)])
        if staff and n % 2 == 0:
            checkin.check_in_group(db.session, booking, 5, staff, booking.slot.starts_at)
            checkin.set_attendance(db.session, booking, {booking.attendees[0].id}, staff,
                                   booking.slot.starts_at)
    db.session.commit()


def test_roster_page_queries_do_not_grow_with_groups(venue, create_slot, book_ahead, staff,
                                                     client, login):
    small, large = local_today() + timedelta(days=3), local_today() + timedelta(days=4)
    fill_day(venue, create_slot, book_ahead, small, 5, staff)
    fill_day(venue, create_slot, book_ahead, large, 40, staff)
    login(staff)
    counts = []
    for day in (small, large):
        db.session.rollback()  # each measured request starts its own transaction, as in production
        db.session.expunge_all()
        with counted_queries() as statements:
            response = client.get(f"/staff/roster/LBC/{day.isoformat()}")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    page = response.get_data(as_text=True)
    assert page.count('name="attended"') == 100  # 20 checked-in groups of 5
    assert "单位39" in page


def test_roster_build_uses_a_constant_number_of_queries(venue, create_slot, book_ahead):
    day = local_today() + timedelta(days=3)
    fill_day(venue, create_slot, book_ahead, day, 12)
    venue_id = venue.id
    db.session.expunge_all()
    venue = db.session.get(Venue, venue_id)
    with counted_queries() as statements:
        load_day(db.session, venue, day)
    assert len(statements) <= 4


# --- the page ------------------------------------------------------------------------------

def test_roster_index_redirects_to_todays_roster_of_the_first_venue(venue, staff, client, login):
    login(staff)
    response = client.get("/staff/roster/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/roster/LBC/{local_today().isoformat()}")
    picked = client.get("/staff/roster/?venue=lbc&date=2026-05-12")
    assert picked.headers["Location"].endswith("/staff/roster/LBC/2026-05-12")


def test_roster_page_shows_groups_with_full_contact(venue, create_slot, book_ahead, staff,
                                                    client, login):
    slot = create_slot(venue, lecturer_name="陈静", equipment="党旗")
    book_ahead(slot, 12, organisation_name="开州区汉丰街道党工委", contact_phone="13912345678")
    login(staff)
    page = client.get(f"/staff/roster/LBC/{slot.day.isoformat()}").get_data(as_text=True)
    for text in ("开州区汉丰街道党工委", "13912345678", "陈静", "党旗", "12 / 500"):
        assert text in page
    assert "tick-box" in page  # paper check-in boxes for the printed page


def test_bad_venue_or_date_is_not_found(venue, staff, client, login):
    login(staff)
    assert client.get("/staff/roster/XXX/2026-05-12").status_code == 404
    assert client.get("/staff/roster/LBC/2026-13-45").status_code == 404


def test_staff_check_a_group_in_from_the_page(running_slot, book_ahead, staff, client, login):
    booking = book_ahead(running_slot(), 10)
    login(staff)
    response = client.post(f"/staff/roster/bookings/{booking.reference}/check-in",
                           data={"headcount": "9"})
    assert response.status_code == 302
    assert f"#g-{booking.reference}" in response.headers["Location"]
    db.session.refresh(booking)
    assert (booking.state, booking.arrived_count) == (BookingState.CHECKED_IN, 9)
    entry = db.session.scalar(select(AuditEntry).filter_by(action="booking.check_in"))
    assert entry.user_id == staff.id


def test_refused_check_in_is_explained_beside_the_group(running_slot, book_ahead, staff,
                                                        client, login):
    booking = book_ahead(running_slot(), 10)
    login(staff)
    response = client.post(f"/staff/roster/bookings/{booking.reference}/check-in",
                           data={"headcount": "14"})
    assert response.status_code == 422
    assert "超过预约人数" in response.get_data(as_text=True)
    response = client.post(f"/staff/roster/bookings/{booking.reference}/check-in",
                           data={"headcount": "many"})
    assert response.status_code == 422
    db.session.refresh(booking)
    assert booking.state is BookingState.CONFIRMED


def test_attendance_all_present_and_walk_in_from_the_page(running_slot, book_ahead, staff,
                                                          client, login):
    booking = book_ahead(running_slot(), 3, attendee_names=["甲", "乙", "丙"])
    login(staff)
    client.post(f"/staff/roster/bookings/{booking.reference}/check-in", data={"headcount": "3"})
    first = booking.attendees[0].id
    client.post(f"/staff/roster/bookings/{booking.reference}/attendance",
                data={"attended": [str(first)]})
    db.session.refresh(booking)
    assert [a.attended for a in booking.attendees] == [True, False, False]
    client.post(f"/staff/roster/bookings/{booking.reference}/attendance",
                data={"all_present": "1"})
    response = client.post(f"/staff/roster/bookings/{booking.reference}/walk-ins",
                           data={"name": "丁"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [(a.name, a.attended, a.walk_in) for a in booking.attendees] == [
        ("甲", True, False), ("乙", True, False), ("丙", True, False), ("丁", True, True)]
    assert (booking.party_size, booking.slot.taken) == (4, 4)


def test_guide_page_shows_only_own_sessions_and_refuses_other_groups(
        running_slot, create_slot, book_ahead, create_user, client, login):
    guide = create_user("chenjing", Role.GUIDE)
    mine = running_slot(guide_user_id=guide.id, title="我的场次")
    theirs = create_slot(mine.venue, day=mine.day, start=time(23, 59), minutes=1,
                         title="别人的场次")
    other_group = book_ahead(theirs, 10, organisation_name="别人的团体")
    my_group = book_ahead(mine, 10, organisation_name="我的团体")
    login(guide)
    page = client.get(f"/staff/roster/LBC/{mine.day.isoformat()}").get_data(as_text=True)
    assert "我的团体" in page and "别人的团体" not in page and "别人的场次" not in page
    refused = client.post(f"/staff/roster/bookings/{other_group.reference}/check-in",
                          data={"headcount": "10"})
    assert refused.status_code == 403
    assert "您只能为自己场次的团体签到" in refused.get_data(as_text=True)
    api = client.post(f"/api/v1/staff/bookings/{other_group.reference}/check-in",
                      json={"headcount": 10})
    assert (api.status_code, api.get_json()["error"]["code"]) == (403, "not_your_session")
    assert client.post(f"/staff/roster/bookings/{my_group.reference}/check-in",
                       data={"headcount": "10"}).status_code == 302
    db.session.expire_all()
    assert (my_group.state, other_group.state) == (BookingState.CHECKED_IN,
                                                   BookingState.CONFIRMED)
    pdf = client.get(f"/staff/roster/LBC/{mine.day.isoformat()}.pdf")
    assert "别人的团体" not in pdf_text(pdf.data) and "我的团体" in pdf_text(pdf.data)


def test_no_show_from_the_page_after_the_session(venue, create_slot, book_ahead, staff, client,
                                                 login):
    yesterday = local_today() - timedelta(days=1)
    booking = book_ahead(create_slot(venue, day=yesterday), 10)
    login(staff)
    response = client.post(f"/staff/roster/bookings/{booking.reference}/no-show")
    assert response.status_code == 302
    db.session.refresh(booking)
    assert booking.state is BookingState.NO_SHOW


def test_organisation_page_lifts_a_suspension(venue, create_slot, book_ahead, staff, client,
                                              login):
    booking = book_ahead(create_slot(venue), 10)
    organisation = booking.organisation
    organisation.suspended_until = local_today() + timedelta(days=30)
    organisation.suspension_reason = "90 天内 3 次预约未到"
    db.session.commit()
    login(staff)
    page = client.get(f"/staff/organisations/{organisation.id}").get_data(as_text=True)
    assert "解除暂停" in page and "90 天内 3 次预约未到" in page and booking.display_reference in page
    response = client.post(f"/staff/organisations/{organisation.id}/lift-suspension")
    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.suspended_until is None
    again = client.post(f"/staff/organisations/{organisation.id}/lift-suspension")
    assert again.status_code == 409
    assert "没有被暂停" in again.get_data(as_text=True)


# --- downloads -----------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_roster_pdf_download(venue, create_slot, book_ahead, staff, client, login):
    slot = create_slot(venue)
    book_ahead(slot, 12, organisation_name="开州区汉丰街道党工委")
    login(staff)
    response = client.get(f"/staff/roster/LBC/{slot.day.isoformat()}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"roster-LBC-{slot.day.isoformat()}.pdf" in disposition
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    assert name == f"刘伯承同志纪念馆-{slot.day.isoformat()}-接待表.pdf"
    assert "开州区汉丰街道党工委" in pdf_text(response.data)


def test_roster_xlsx_download(venue, create_slot, book_ahead, staff, client, login):
    from openpyxl import load_workbook
    slot = create_slot(venue)
    book_ahead(slot, 12, organisation_name="开州区汉丰街道党工委")
    login(staff)
    response = client.get(f"/staff/roster/LBC/{slot.day.isoformat()}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument"
                                 ".spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows()
             for c in row if c.value is not None}
    assert "开州区汉丰街道党工委" in cells


# --- the JSON API --------------------------------------------------------------------------

def test_api_roster_and_check_in(running_slot, book_ahead, staff, client, login):
    booking = book_ahead(running_slot(lecturer_name="陈静"), 10)
    login(staff)
    day = booking.slot.day.isoformat()
    body = client.get(f"/api/v1/staff/roster/LBC/{day}").get_json()
    assert body["date"] == day
    group = body["roster"]["sessions"][0]["groups"][0]
    assert (group["reference"], group["party_size"]) == (booking.reference, 10)
    response = client.post(f"/api/v1/staff/bookings/{group['reference']}/check-in",
                           json={"headcount": 8})
    assert response.status_code == 200
    assert response.get_json()["booking"]["arrived_count"] == 8
    assert response.get_json()["booking"]["status"] == "checked_in"


@pytest.mark.parametrize("payload", [{}, {"headcount": "8"}, {"headcount": True}, [8]])
def test_api_check_in_wants_an_integer_headcount(running_slot, book_ahead, staff, client, login,
                                                 payload):
    booking = book_ahead(running_slot(), 10)
    login(staff)
    response = client.post(f"/api/v1/staff/bookings/{booking.reference}/check-in",
                           json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_headcount"


def test_api_check_in_rule_errors_are_json(running_slot, book_ahead, staff, client, login):
    booking = book_ahead(running_slot(), 10)
    login(staff)
    response = client.post(f"/api/v1/staff/bookings/{booking.reference}/check-in",
                           json={"headcount": 11})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "headcount"


def test_anonymous_users_get_no_roster(venue, client):
    assert client.get("/staff/roster/LBC/2026-05-12").status_code == 302
    assert client.get("/staff/roster/LBC/2026-05-12.pdf").status_code == 302
    assert client.get("/api/v1/staff/roster/LBC/2026-05-12").status_code == 401


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_api_check_in_needs_the_csrf_token(self, running_slot, book_ahead, staff, client):
        booking = book_ahead(running_slot(), 10)
        token_re = r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"'
        token = re.search(token_re, client.get("/staff/login").get_data(as_text=True)).group(1)
        client.post("/staff/login", data={"username": "desk", "password": "correct horse battery",
                                          "csrf_token": token})
        page = client.get(f"/staff/roster/LBC/{booking.slot.day.isoformat()}")
        token = re.search(token_re, page.get_data(as_text=True)).group(1)
        url = f"/api/v1/staff/bookings/{booking.reference}/check-in"
        refused = client.post(url, json={"headcount": 10})
        assert refused.status_code == 400
        accepted = client.post(url, json={"headcount": 10}, headers={"X-CSRFToken": token})
        assert accepted.status_code == 200


# --- in the browser ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.browser
class TestMorningAtTheFrontDesk:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_staff_approve_check_in_and_tick_attendees(self, running_slot, book_ahead, staff,
                                                       live_server, browser, tmp_path):
        from playwright.sync_api import expect
        booking = book_ahead(running_slot(requires_approval=True), 3,
                             organisation_name="开州区汉丰街道党工委",
                             attendee_names=["甲某", "乙某", "丙某"])
        reference = booking.reference
        db.session.commit()  # end the test's read transaction: the server thread writes
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{live_server}/staff/login")
        page.fill("input[name=username]", "desk")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{live_server}/staff/approvals")
        page.locator(f"#booking-{reference} button", has_text="批准").click()
        page.goto(f"{live_server}/staff/roster/")
        row = page.locator(f"#g-{reference}")
        expect(row).to_contain_text("待签到")
        row.locator("input[name=headcount]").fill("3")
        row.locator("form.checkin-form button").click()
        expect(page.locator(".flash-success")).to_contain_text("已签到，到场 3 人")
        row = page.locator(f"#g-{reference}")
        row.locator("summary").click()
        expect(row.get_by_label("丙某")).not_to_be_checked()  # nobody is ticked unasked
        row.get_by_label("甲某").check()
        row.get_by_label("乙某").check()
        row.get_by_role("button", name="保存勾选").click()
        expect(page.locator(".flash-success")).to_contain_text("2 人到场")
        expect(page.locator(f"#g-{reference} summary")).to_contain_text("2/3")
        page.screenshot(path=str(tmp_path / "roster.png"), full_page=True)
        page.context.close()
        db.session.expire_all()
        booking = db.session.scalar(select(Booking).filter_by(reference=reference))
        assert (booking.state, booking.arrived_count) == (BookingState.CHECKED_IN, 3)
        assert [a.attended for a in booking.attendees] == [True, True, False]
        db.session.commit()
