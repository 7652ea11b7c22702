"""The working-day calendar staff correct (make-up workdays, extra holidays), used by the
lead-time rule and the calendar; and the calendar's two labels."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from booking.clock import MUSEUM_TZ, local, utcnow
from booking.errors import BookingError
from booking.models import AuditEntry, Role
from booking.models.db import db
from booking.rules import availability, opening, working_days
from booking.rules.workflow import check_slot_open_for_booking

FRIDAY = date(2027, 3, 5)       # an ordinary Friday in the package's calendar
SATURDAY = FRIDAY + timedelta(days=1)
MONDAY = FRIDAY + timedelta(days=3)
TUESDAY = FRIDAY + timedelta(days=4)


def test_the_package_alone_counts_monday_and_tuesday_after_a_friday():
    assert not opening.is_working_day(SATURDAY) and opening.is_working_day(MONDAY)
    assert opening.add_working_days(FRIDAY, 2) == TUESDAY


def test_a_make_up_saturday_entered_by_staff_counts_as_a_working_day(app):
    working_days.set_correction(db.session, SATURDAY, True, "调休上班", None)
    corrections = working_days.corrections_from(db.session, FRIDAY)
    assert opening.add_working_days(FRIDAY, 1, corrections) == SATURDAY
    assert opening.add_working_days(FRIDAY, 2, corrections) == MONDAY


def test_an_added_holiday_is_not_counted(app):
    working_days.set_correction(db.session, MONDAY, False, "临时放假", None)
    corrections = working_days.corrections_from(db.session, FRIDAY)
    assert opening.add_working_days(FRIDAY, 1, corrections) == TUESDAY
    assert opening.add_working_days(FRIDAY, 2, corrections) == TUESDAY + timedelta(days=1)


def test_the_lead_time_rule_uses_the_staff_corrections(app, create_venue, create_slot):
    venue = create_venue(weekly_closed_day=None)
    today = local(utcnow(), MUSEUM_TZ).date()
    first = opening.add_working_days(today, 1)
    slot = create_slot(venue, day=opening.add_working_days(today, 2))
    check_slot_open_for_booking(db.session, slot)  # two working days ahead: open
    working_days.set_correction(db.session, first, False, "临时放假", None)
    with pytest.raises(BookingError) as refused:
        check_slot_open_for_booking(db.session, slot)
    assert refused.value.code == "too_soon"


def test_a_booking_reads_the_corrections_with_its_slot_and_honours_them(app, create_venue,
                                                                        create_slot):
    """The booking path reads the corrections in its slot query (a subquery aggregating them
    as text): an extra holiday and a make-up working day must come through it exactly."""
    from booking.rules.workflow import create_booking
    from tests.fixtures.factories import booking_request

    venue = create_venue(weekly_closed_day=None)
    today = local(utcnow(), MUSEUM_TZ).date()
    first = opening.add_working_days(today, 1)
    slot = create_slot(venue, day=opening.add_working_days(today, 2), capacity=100)
    working_days.set_correction(db.session, first, False, "临时放假", None)
    working_days.set_correction(db.session, today + timedelta(days=40), True, "调休上班", None)
    db.session.commit()
    text = db.session.scalar(select(working_days.corrections_column()),
                             working_days.corrections_window(utcnow().date()))
    assert working_days.corrections_in(text, today) == working_days.corrections_from(
        db.session, today) == {first: False, today + timedelta(days=40): True}
    with pytest.raises(BookingError) as refused:
        create_booking(db.session, booking_request(slot))
    assert refused.value.code == "too_soon"
    db.session.rollback()


def test_staff_correct_the_calendar_on_a_page_and_it_is_audited(client, login, create_user):
    desk = create_user("desk", Role.STAFF)
    login(desk)
    response = client.post("/staff/working-days", data={
        "day": SATURDAY.isoformat(), "kind": "workday", "name": "春节调休"})
    assert response.status_code == 302
    page = client.get("/staff/working-days").get_data(as_text=True)
    assert f'data-correction="{SATURDAY.isoformat()}"' in page and "春节调休" in page
    (correction,) = working_days.upcoming(db.session, FRIDAY)
    client.post(f"/staff/working-days/{correction.id}/remove")
    assert working_days.corrections_from(db.session, FRIDAY) == {}
    assert db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "calendar.correct", "calendar.uncorrect"]


def test_a_guide_cannot_correct_the_calendar(client, login, create_user):
    login(create_user("guide", Role.GUIDE))
    response = client.post("/staff/working-days", data={"day": SATURDAY.isoformat(),
                                                        "kind": "holiday"})
    assert response.status_code == 403


# --- the calendar's labels --------------------------------------------------------------------

def test_the_first_bookable_date_skips_a_closed_monday(app, create_venue):
    venue = create_venue(weekly_closed_day=0, open_on_holiday_closed_day=False)
    window = opening.BookingWindow(MONDAY, MONDAY + timedelta(days=30))
    assert opening.first_open_day(venue, window, {}) == TUESDAY


def test_today_with_sessions_still_running_is_not_shown_as_past(app, create_venue, create_slot):
    venue = create_venue(weekly_closed_day=None)
    now = local(utcnow(), MUSEUM_TZ)
    start = max(now - timedelta(minutes=10), now.replace(hour=0, minute=0, second=0))
    create_slot(venue, day=now.date(), start=time(start.hour, start.minute), minutes=90)
    cell = availability.day_calendar(db.session, venue, now.date())
    assert cell.state is not availability.Availability.PAST
