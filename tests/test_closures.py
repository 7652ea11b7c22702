"""The museum calls things off: cancelled sessions, ad-hoc closed days, days forced open."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import AuditEntry, BookingState, Role, SlotState, VenueDay
from booking.models.db import db
from booking.rules import closures, opening
from booking.rules.capacity import find_drift
from courses.rules import scheduling
from tests.fixtures.factories import next_open_day

REASON = "讲解员临时外出宣讲"


@pytest.fixture
def venue(create_venue):
    return create_venue("LBC")


@pytest.fixture
def clerk(create_user):
    return create_user("clerk", Role.STAFF)


@pytest.fixture
def booked_slot(venue, create_slot, create_booking):
    """A slot with a pending and a confirmed booking (and one the group cancelled itself)."""
    slot = create_slot(venue, requires_approval=True)
    pending, _ = create_booking(slot, 12, organisation_name="汉丰街道党工委")
    slot.requires_approval = False
    db.session.commit()
    confirmed, token = create_booking(slot, 20, organisation_name="开州中学")
    gone, _ = create_booking(slot, 5, organisation_name="文峰社区")
    from booking.rules.workflow import cancel_booking
    cancel_booking(db.session, gone)
    db.session.commit()
    assert (pending.state, confirmed.state) == (BookingState.PENDING, BookingState.CONFIRMED)
    return slot, pending, confirmed, gone, token


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def venue_day(slot) -> VenueDay:
    return db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))


def test_cancelling_a_session_cancels_every_active_booking_for_the_museum(booked_slot, clerk):
    slot, pending, confirmed, gone, _ = booked_slot
    sequences = (pending.sequence, confirmed.sequence)
    cancelled = closures.cancel_slot(db.session, slot, REASON, clerk)
    db.session.commit()
    assert cancelled == [pending, confirmed]
    for booking, sequence in zip((pending, confirmed), sequences):
        assert booking.state is BookingState.CANCELLED
        assert booking.cancelled_by_museum and booking.state_reason == REASON
        assert booking.seats == 0 and booking.sequence == sequence + 1
    assert not gone.cancelled_by_museum  # the group's own cancellation stays the group's
    assert (slot.state, slot.cancel_reason, slot.taken) == (SlotState.CANCELLED, REASON, 0)
    assert venue_day(slot).taken == 0
    assert find_drift(db.session) == []
    assert audit_actions()[-3:] == ["booking.cancel_by_museum", "booking.cancel_by_museum",
                                    "slot.cancel"]
    entry = db.session.scalar(select(AuditEntry).filter_by(action="slot.cancel"))
    assert entry.user_id == clerk.id and pending.reference in entry.after


def test_the_organisation_reads_the_reason_on_its_manage_page(booked_slot, client, clerk):
    slot, _, confirmed, _, token = booked_slot
    closures.cancel_slot(db.session, slot, REASON, clerk)
    db.session.commit()
    page = client.get(f"/manage/{confirmed.reference}/{token}", follow_redirects=True).get_data(as_text=True)
    assert "场馆已取消此次预约" in page and REASON in page


def test_a_session_with_bookings_needs_a_reason(booked_slot, clerk):
    slot, pending, *_ = booked_slot
    with pytest.raises(BookingError) as caught:
        closures.cancel_slot(db.session, slot, "   ", clerk)
    db.session.rollback()
    assert caught.value.code == "reason_required" and caught.value.field == "reason"
    assert pending.state is BookingState.PENDING and slot.state is SlotState.OPEN


def test_a_session_without_bookings_can_be_cancelled_without_a_reason(venue, create_slot, clerk):
    slot = create_slot(venue)
    assert closures.cancel_slot(db.session, slot, "", clerk) == []
    db.session.commit()
    assert slot.state is SlotState.CANCELLED


def test_a_session_with_a_checked_in_group_cannot_be_cancelled(booked_slot, clerk):
    slot, pending, confirmed, *_ = booked_slot
    confirmed.state = BookingState.CHECKED_IN
    db.session.commit()
    with pytest.raises(BookingError) as caught:
        closures.cancel_slot(db.session, slot, REASON, clerk)
    db.session.rollback()
    assert caught.value.code == "slot_checked_in"
    assert pending.state is BookingState.PENDING


def test_a_cancelled_session_cannot_be_cancelled_twice(venue, create_slot, clerk):
    slot = create_slot(venue)
    closures.cancel_slot(db.session, slot, "", clerk)
    db.session.commit()
    with pytest.raises(BookingError) as caught:
        closures.cancel_slot(db.session, slot, "", clerk)
    assert caught.value.code == "slot_cancelled"


def test_a_past_session_cannot_be_cancelled(venue, create_slot, clerk):
    slot = create_slot(venue)
    later = slot.ends_at + timedelta(minutes=1)
    with pytest.raises(BookingError) as caught:
        closures.cancel_slot(db.session, slot, "", clerk, now=later)
    assert caught.value.code == "slot_past"


# --- closed days -----------------------------------------------------------------------------

def test_closing_a_day_cancels_all_its_sessions_and_bookings(booked_slot, create_slot,
                                                             create_booking, clerk, client):
    slot, pending, confirmed, *_ = booked_slot
    afternoon = create_slot(slot.venue, day=slot.day, start=time(14))
    late, _ = create_booking(afternoon, 15, organisation_name="开州区税务局")
    other_day = create_slot(slot.venue, day=slot.day + timedelta(days=1))
    closure = closures.close_day(db.session, slot.venue, slot.day, "设备维修", clerk)
    db.session.commit()
    assert closure.slots == [slot, afternoon]
    assert set(closure.bookings) == {pending, confirmed, late}
    assert all(b.cancelled_by_museum and b.state_reason == "设备维修" and b.seats == 0
               for b in closure.bookings)
    assert other_day.state is SlotState.OPEN
    row = venue_day(slot)
    assert (row.closed, row.reason, row.taken) == (True, "设备维修", 0)
    assert opening.day_status(slot.venue, slot.day, row) is opening.DayStatus.CLOSED_BY_STAFF
    assert find_drift(db.session) == []
    assert "venue_day.close" in audit_actions()
    public = client.get(f"/venues/LBC/days/{slot.day.isoformat()}").get_data(as_text=True)
    assert "临时闭馆" in public and "设备维修" in public


def test_a_closure_plan_lists_what_closing_would_cancel_and_changes_nothing(booked_slot):
    slot, pending, confirmed, *_ = booked_slot
    plan = closures.closure_plan(db.session, slot.venue, slot.day, "设备维修")
    db.session.rollback()
    assert plan == [(slot, [pending, confirmed])]
    assert slot.state is SlotState.OPEN and venue_day(slot).closed is None


@pytest.mark.parametrize("reason", ["", "  "])
def test_closing_a_day_needs_a_reason(venue, clerk, reason):
    with pytest.raises(BookingError) as caught:
        closures.close_day(db.session, venue, next_open_day(), reason, clerk)
    assert caught.value.code == "reason_required"


def test_a_past_day_cannot_be_closed(venue, clerk):
    with pytest.raises(BookingError) as caught:
        closures.close_day(db.session, venue, local_today() - timedelta(days=1), "维修", clerk)
    assert caught.value.code == "day_past"


def test_closing_today_leaves_the_sessions_that_already_ended(venue, create_slot, clerk):
    day = next_open_day()
    morning = create_slot(venue, day=day, start=time(9))
    afternoon = create_slot(venue, day=day, start=time(14))
    noon = datetime.combine(day, time(12), tzinfo=venue.tz).astimezone(UTC)
    closure = closures.close_day(db.session, venue, day, "暴雨预警", clerk, now=noon)
    db.session.commit()
    assert closure.slots == [afternoon] and morning.state is SlotState.OPEN


def test_reopening_a_closed_day_restores_the_rules_and_keeps_the_cancellations(booked_slot,
                                                                               clerk):
    slot, pending, *_ = booked_slot
    closures.close_day(db.session, slot.venue, slot.day, "设备维修", clerk)
    db.session.commit()
    closures.reopen_day(db.session, slot.venue, slot.day, clerk)
    db.session.commit()
    assert venue_day(slot).closed is None
    assert opening.day_status(slot.venue, slot.day, venue_day(slot)) is opening.DayStatus.OPEN
    assert slot.state is SlotState.CANCELLED and pending.state is BookingState.CANCELLED


def test_a_holiday_monday_can_be_forced_open_and_then_takes_sessions(create_venue,
                                                                     create_course, clerk):
    museum = create_venue("KZM", name="开州博物馆", groups_on_holidays=True,
                          open_on_holiday_closed_day=False)
    course = create_course(museum, code="red-kaizhou")
    monday = date(2027, 10, 4)  # National Day (observed), a Monday
    assert opening.day_status(museum, monday) is opening.DayStatus.CLOSED_WEEKLY
    closures.force_open_day(db.session, museum, monday, "国庆特别开放", clerk)
    db.session.commit()
    result = scheduling.generate_pattern(
        db.session, course, first_day=date(2027, 10, 4), last_day=date(2027, 10, 11),
        weekdays={0}, times=[time(9)], lecturer=None, room=None, capacity=None, user=clerk)
    db.session.commit()
    assert [cs.slot.day for cs in result.created] == [monday]
    assert result.skipped == [(date(2027, 10, 11), "closed_weekly")]
    assert "venue_day.force_open" in audit_actions()


def test_forcing_open_a_day_that_is_open_anyway_is_refused(venue, clerk):
    with pytest.raises(BookingError) as caught:
        closures.force_open_day(db.session, venue, next_open_day(), "", clerk)
    assert caught.value.code == "day_open"


def test_a_forced_opening_with_sessions_cannot_just_be_withdrawn(create_venue, create_course,
                                                                 clerk):
    museum = create_venue("KZM", name="开州博物馆", open_on_holiday_closed_day=False)
    course = create_course(museum, code="red-kaizhou")
    monday = date(2027, 10, 4)
    closures.force_open_day(db.session, museum, monday, "", clerk)
    scheduling.schedule_single(db.session, course, monday, time(9), lecturer=None, room=None,
                               capacity=None, user=clerk)
    db.session.commit()
    with pytest.raises(BookingError) as caught:
        closures.reopen_day(db.session, museum, monday, clerk)
    assert caught.value.code == "day_has_slots"


def test_upcoming_overrides_list_closures_and_openings_in_date_order(create_venue, clerk):
    museum = create_venue("KZM", name="开州博物馆", open_on_holiday_closed_day=False)
    closures.force_open_day(db.session, museum, date(2027, 10, 4), "国庆", clerk)
    closures.close_day(db.session, museum, date(2027, 3, 2), "布展", clerk)
    db.session.commit()
    listed = closures.upcoming_overrides(db.session, museum, local_today())
    assert [(d.day, d.closed) for d in listed] == [(date(2027, 3, 2), True),
                                                  (date(2027, 10, 4), False)]
