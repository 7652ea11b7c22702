"""Check-in rules: group headcount, attendance ticks, walk-ins, no-shows and suspensions."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from booking.clock import at_local, local_today
from booking.errors import BookingError
from booking.models import AuditEntry, BookingState, Organisation, Role, VenueDay
from booking.models.db import db
from booking.rules import checkin
from booking.rules.workflow import create_booking as book
from tests.fixtures.factories import booking_request, next_open_day

POLICY = checkin.NoShowPolicy(limit=3, window_days=90, suspension_days=90)


def audit_actions(obj) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == type(obj).__name__,
                                         AuditEntry.object_id == str(obj.id))
        .order_by(AuditEntry.id)))


def not_monday(day: date) -> date:
    return day + timedelta(days=1) if day.weekday() == 0 else day


@pytest.fixture
def venue(create_venue):
    return create_venue()


@pytest.fixture
def staff(create_user):
    return create_user("desk", Role.STAFF)


@pytest.fixture
def group(venue, create_slot, book_ahead):
    """A confirmed group of 10 with 8 names on the list, in a 09:00–10:30 session of 20 seats."""
    slot = create_slot(venue, capacity=20)
    return book_ahead(slot, 10, attendee_names=[f"学员{i}" for i in range(8)])


def at(booking, minutes: int) -> datetime:
    """``minutes`` after the booking's session starts (negative: before)."""
    return booking.slot.starts_at + timedelta(minutes=minutes)


# --- group check-in --------------------------------------------------------------------------

def test_check_in_records_headcount_and_time_and_is_audited(group, staff):
    now = at(group, -10)
    checkin.check_in_group(db.session, group, 9, staff, now)
    db.session.commit()
    assert group.state is BookingState.CHECKED_IN
    assert group.arrived_count == 9
    assert group.checked_in_at == now
    assert audit_actions(group) == ["booking.check_in"]


def test_check_in_opens_thirty_minutes_before_the_start(group, staff):
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, group, 10, staff, at(group, -31))
    assert refused.value.code == "too_early"
    assert "08:30" in str(refused.value.message)
    checkin.check_in_group(db.session, group, 10, staff, at(group, -30))
    assert group.state is BookingState.CHECKED_IN


def test_late_group_can_check_in_until_the_day_ends(group, staff):
    evening = at_local(group.slot.day, time(23, 59), group.slot.venue.tz)
    checkin.check_in_group(db.session, group, 10, staff, evening)
    assert group.state is BookingState.CHECKED_IN


def test_check_in_is_refused_the_day_after(group, staff):
    next_day = at_local(group.slot.day + timedelta(days=1), time(0), group.slot.venue.tz)
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, group, 10, staff, next_day)
    assert refused.value.code == "too_late"
    assert group.state is BookingState.CONFIRMED


@pytest.mark.parametrize("headcount", [0, -3])
def test_headcount_of_nobody_is_refused(group, staff, headcount):
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, group, headcount, staff, at(group, 0))
    assert (refused.value.code, refused.value.field) == ("headcount", "headcount")


def test_headcount_above_party_size_is_refused_with_a_pointer_to_walk_ins(group, staff):
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, group, 11, staff, at(group, 0))
    assert refused.value.code == "headcount"
    assert "现场人员" in str(refused.value.message)
    assert group.state is BookingState.CONFIRMED


def test_headcount_can_be_corrected_after_check_in(group, staff):
    first = at(group, -5)
    checkin.check_in_group(db.session, group, 10, staff, first)
    checkin.check_in_group(db.session, group, 7, staff, at(group, 20))
    db.session.commit()
    assert (group.arrived_count, group.checked_in_at) == (7, first)
    assert audit_actions(group) == ["booking.check_in", "booking.headcount"]


def test_pending_booking_cannot_be_checked_in(venue, create_slot, book_ahead, staff):
    booking = book_ahead(create_slot(venue, requires_approval=True))
    assert booking.state is BookingState.PENDING
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, booking, 10, staff, at(booking, 0))
    assert refused.value.code == "not_checkable"
    assert "审核" in str(refused.value.message)


def test_no_show_cannot_then_be_checked_in(group, staff):
    checkin.mark_no_show(db.session, group, staff, at(group, 90), POLICY)
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, group, 10, staff, at(group, 100))
    assert refused.value.code == "not_checkable"


def test_guide_checks_in_only_groups_of_their_own_sessions(venue, create_slot, create_user,
                                                          book_ahead):
    guide = create_user("chenjing", Role.GUIDE)
    other = create_user("liwei", Role.GUIDE)
    slot = create_slot(venue, guide_user_id=guide.id)
    booking = book_ahead(slot)
    with pytest.raises(BookingError) as refused:
        checkin.check_in_group(db.session, booking, 10, other, at(booking, 0))
    assert (refused.value.code, refused.value.status) == ("not_your_session", 403)
    checkin.check_in_group(db.session, booking, 10, guide, at(booking, 0))
    assert booking.state is BookingState.CHECKED_IN


# --- attendance ticks ------------------------------------------------------------------------

def test_attendance_is_ticked_only_after_check_in(group, staff):
    with pytest.raises(BookingError) as refused:
        checkin.set_attendance(db.session, group, {group.attendees[0].id}, staff, at(group, 0))
    assert refused.value.code == "not_checked_in"


def test_attendance_ticks_exactly_the_chosen_people(group, staff):
    checkin.check_in_group(db.session, group, 8, staff, at(group, 0))
    present = {a.id for a in group.attendees[:5]}
    checkin.set_attendance(db.session, group, present, staff, at(group, 5))
    checkin.set_attendance(db.session, group, present - {group.attendees[0].id}, staff,
                           at(group, 6))
    db.session.commit()
    assert [a.attended for a in group.attendees] == [False] + [True] * 4 + [False] * 3
    assert audit_actions(group).count("booking.attendance") == 2


def test_attendance_refuses_people_of_another_group(group, venue, create_slot, book_ahead,
                                                    staff):
    stranger = book_ahead(create_slot(venue, start=time(14)), 5,
                          organisation_name="开州中学", attendee_names=["外人"])
    checkin.check_in_group(db.session, group, 8, staff, at(group, 0))
    with pytest.raises(BookingError) as refused:
        checkin.set_attendance(db.session, group, {stranger.attendees[0].id}, staff,
                               at(group, 1))
    assert refused.value.code == "unknown_attendee"


def test_ticking_more_people_than_counted_raises_the_headcount(group, staff):
    checkin.check_in_group(db.session, group, 3, staff, at(group, 0))
    checkin.set_attendance(db.session, group, {a.id for a in group.attendees}, staff,
                           at(group, 1))
    assert group.arrived_count == 8


# --- walk-ins ----------------------------------------------------------------------------------

def seats(slot) -> tuple[int, int]:
    db.session.refresh(slot)
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    return slot.taken, day.taken


def test_walk_in_within_the_party_size_needs_no_new_seat(group, staff):
    checkin.check_in_group(db.session, group, 9, staff, at(group, 0))
    walk_in = checkin.add_walk_in(db.session, group, "  赵  六 ", staff, at(group, 2))
    db.session.commit()
    assert (walk_in.name, walk_in.walk_in, walk_in.attended) == ("赵 六", True, True)
    assert group.party_size == 10 and seats(group.slot) == (10, 10)
    assert "booking.walk_in" in audit_actions(group)


def test_walk_in_beyond_the_party_size_claims_a_seat(venue, create_slot, book_ahead, staff):
    booking = book_ahead(create_slot(venue, capacity=20), 2, attendee_names=["甲", "乙"])
    checkin.check_in_group(db.session, booking, 2, staff, at(booking, 0))
    checkin.add_walk_in(db.session, booking, "丙", staff, at(booking, 1))
    db.session.commit()
    assert (booking.party_size, booking.seats, booking.arrived_count) == (3, 3, 3)
    assert seats(booking.slot) == (3, 3)


def test_walk_in_is_refused_when_the_session_is_full(venue, create_slot, book_ahead, staff):
    booking = book_ahead(create_slot(venue, capacity=2), 2, attendee_names=["甲", "乙"])
    checkin.check_in_group(db.session, booking, 2, staff, at(booking, 0))
    db.session.commit()
    with pytest.raises(BookingError) as refused:
        checkin.add_walk_in(db.session, booking, "丙", staff, at(booking, 1))
    db.session.rollback()
    assert refused.value.code == "slot_full"
    assert "已无空余名额" in str(refused.value.message)
    assert seats(booking.slot) == (2, 2)
    db.session.refresh(booking)
    assert (booking.party_size, len(booking.attendees)) == (2, 2)


def test_walk_in_is_refused_when_the_day_is_at_its_cap(create_venue, create_slot, book_ahead,
                                                       staff):
    venue = create_venue(daily_cap=2)
    booking = book_ahead(create_slot(venue, capacity=20), 2, attendee_names=["甲", "乙"])
    checkin.check_in_group(db.session, booking, 2, staff, at(booking, 0))
    with pytest.raises(BookingError) as refused:
        checkin.add_walk_in(db.session, booking, "丙", staff, at(booking, 1))
    assert refused.value.code == "day_full"


@pytest.mark.parametrize("name", ["", "   ", "名" * 61])
def test_walk_in_needs_a_sensible_name(group, staff, name):
    checkin.check_in_group(db.session, group, 9, staff, at(group, 0))
    with pytest.raises(BookingError) as refused:
        checkin.add_walk_in(db.session, group, name, staff, at(group, 1))
    assert refused.value.field == "name"


def test_walk_in_needs_the_group_checked_in(group, staff):
    with pytest.raises(BookingError) as refused:
        checkin.add_walk_in(db.session, group, "赵六", staff, at(group, 0))
    assert refused.value.code == "not_checked_in"


# --- no-shows ----------------------------------------------------------------------------------

def test_no_show_only_after_the_session_ended(group, staff):
    with pytest.raises(BookingError) as refused:
        checkin.mark_no_show(db.session, group, staff, at(group, 89), POLICY)
    assert refused.value.code == "session_not_ended"
    assert "10:30" in str(refused.value.message)
    checkin.mark_no_show(db.session, group, staff, at(group, 90), POLICY)
    db.session.commit()
    assert group.state is BookingState.NO_SHOW
    assert audit_actions(group) == ["booking.no_show"]


def test_no_show_keeps_its_seats(group, staff):
    checkin.mark_no_show(db.session, group, staff, at(group, 120), POLICY)
    db.session.commit()
    assert group.seats == 10 and seats(group.slot) == (10, 10)


def test_checked_in_group_cannot_be_marked_no_show(group, staff):
    checkin.check_in_group(db.session, group, 10, staff, at(group, 0))
    with pytest.raises(BookingError) as refused:
        checkin.mark_no_show(db.session, group, staff, at(group, 120), POLICY)
    assert refused.value.code == "already_checked_in"


def test_session_no_shows_mark_only_groups_that_never_came(venue, create_slot, book_ahead,
                                                           staff):
    slot = create_slot(venue, capacity=50)
    came = book_ahead(slot, 10)
    missing = [book_ahead(slot, 5, organisation_name=f"开州第{i}中学") for i in range(2)]
    checkin.check_in_group(db.session, came, 10, staff, at(came, 0))
    with pytest.raises(BookingError):
        checkin.mark_session_no_shows(db.session, slot, staff, at(came, 30), POLICY)
    marked = checkin.mark_session_no_shows(db.session, slot, staff, at(came, 95), POLICY)
    db.session.commit()
    assert {b.id for b in marked} == {b.id for b in missing}
    assert [b.state for b in missing] == [BookingState.NO_SHOW] * 2
    assert came.state is BookingState.CHECKED_IN


def test_complete_session_closes_checked_in_groups_after_the_end(group, staff):
    checkin.check_in_group(db.session, group, 10, staff, at(group, 0))
    with pytest.raises(BookingError):
        checkin.complete_session(db.session, group.slot, staff, at(group, 60))
    assert checkin.complete_session(db.session, group.slot, staff, at(group, 91)) == [group]
    db.session.commit()
    assert group.state is BookingState.COMPLETED
    assert audit_actions(group)[-1] == "booking.complete"
    # Ticks can still be corrected for the certificates.
    checkin.set_attendance(db.session, group, {group.attendees[0].id}, staff, at(group, 200))


# --- suspension after repeated no-shows --------------------------------------------------------

ORG = "开州区某某公司党支部"


@pytest.fixture
def no_show_on(venue, create_slot, book_ahead, staff):
    """Book a session ``days_ago`` for ORG and mark it a no-show now; returns whether suspended."""
    def factory(days_ago: int, policy: checkin.NoShowPolicy = POLICY) -> bool:
        day = not_monday(local_today() - timedelta(days=days_ago))
        booking = book_ahead(create_slot(venue, day=day), 10, organisation_name=ORG)
        suspended = checkin.mark_no_show(db.session, booking, staff, None, policy)
        db.session.commit()
        return suspended
    return factory


def organisation():
    return db.session.scalar(select(Organisation).filter_by(name=ORG))


def test_three_no_shows_in_ninety_days_suspend_for_ninety_days(no_show_on, create_slot,
                                                               venue):
    assert [no_show_on(40), no_show_on(20)] == [False, False]
    assert organisation().suspended_until is None
    assert no_show_on(3) is True
    org = organisation()
    assert org.suspended_until == local_today() + timedelta(days=90)
    assert "3 次" in org.suspension_reason
    assert audit_actions(org) == ["organisation.suspend"]
    future = create_slot(venue, day=next_open_day(10))
    with pytest.raises(BookingError) as refused:
        book(db.session, booking_request(future, 10, organisation_name=ORG))
    db.session.rollback()
    assert refused.value.code == "organisation_suspended"


def test_two_no_shows_do_not_suspend(no_show_on, create_slot, venue):
    no_show_on(30)
    no_show_on(2)
    assert organisation().suspended_until is None
    book(db.session, booking_request(create_slot(venue, day=next_open_day(10)), 10,
                                     organisation_name=ORG))


def test_no_shows_outside_the_window_do_not_count(no_show_on):
    assert [no_show_on(150), no_show_on(120), no_show_on(5)] == [False, False, False]
    assert organisation().suspended_until is None


def test_limits_come_from_the_policy(no_show_on):
    strict = checkin.NoShowPolicy(limit=1, window_days=30, suspension_days=7)
    assert no_show_on(2, strict) is True
    assert organisation().suspended_until == local_today() + timedelta(days=7)


def test_policy_is_read_from_the_app_config(app):
    assert checkin.NoShowPolicy.from_config(app.config) == checkin.NoShowPolicy(3, 90, 90)


def test_staff_can_lift_a_suspension(no_show_on, staff, create_slot, venue):
    for days_ago in (30, 20, 10):
        no_show_on(days_ago)
    org = organisation()
    checkin.lift_suspension(db.session, org, staff)
    db.session.commit()
    assert (org.suspended_until, org.suspension_reason) == (None, "")
    assert audit_actions(org) == ["organisation.suspend", "organisation.lift_suspension"]
    book(db.session, booking_request(create_slot(venue, day=next_open_day(10)), 10,
                                     organisation_name=ORG))


def test_lifting_needs_a_suspension(no_show_on, staff):
    no_show_on(10)
    with pytest.raises(BookingError) as refused:
        checkin.lift_suspension(db.session, organisation(), staff)
    assert refused.value.code == "not_suspended"
