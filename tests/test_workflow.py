"""Specification of the booking rules: who may book what and when, and what a booking may become.

Dates are real ones from the official 2026 calendar (``holidays``): the National Day week runs
1–7 October with a make-up working Saturday on 10 October, and Monday 5 October is a public
holiday. Every rule that depends on the clock is given ``now=`` explicitly.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from booking.clock import at_local
from booking.errors import BookingError, NotFound
from booking.models import (
    Attendee,
    Booking,
    BookingState,
    Organisation,
    OrganisationKind,
    SlotState,
    VenueDay,
)
from booking.models.db import db
from booking.rules import tokens
from booking.rules.identifiers import (
    is_mainland_mobile,
    is_valid_credit_code,
    mask_name,
    mask_phone,
    normalise_phone,
)
from booking.rules.manage_links import find_booking_by_token, recover_manage_link
from booking.rules.opening import (
    DayStatus,
    add_working_days,
    booking_window,
    cancellation_deadline,
    day_status,
    is_public_holiday,
    is_working_day,
)
from booking.rules.slots import SlotFacts
from booking.rules.slots import create_slot as create_slot_rule
from booking.rules.workflow import (
    cancel_booking,
    change_party_size,
    check_slot_bookable,
    replace_attendees,
)
from booking.rules.workflow import create_booking as book
from tests.fixtures.factories import booking_request

NATIONAL_DAY_EVE = date(2026, 9, 29)     # Tuesday; 1–7 October are holidays
MAKE_UP_SATURDAY = date(2026, 10, 10)    # 调休: a Saturday worked for the National Day week
HOLIDAY_MONDAY = date(2026, 10, 5)       # National Day (observed), a Monday
HOLIDAY_TUESDAY = date(2026, 10, 6)
ORDINARY_MONDAY = date(2026, 11, 16)
ORDINARY_TUESDAY = date(2026, 10, 20)

# Well-known unified social credit codes (Huawei, Tencent, Alibaba, the GB 32100 example).
VALID_CREDIT_CODES = ["914403001922038216", "91440300708461136T", "91330100716105852F",
                      "91350100M000100Y43"]


def at(day: date, hour: int = 10, minute: int = 0):
    """An aware Asia/Shanghai wall-clock time."""
    return at_local(day, time(hour, minute))


def refusal(action, *args, **kw) -> BookingError:
    """Run a rule that must say no; roll back like a view would; return the error."""
    with pytest.raises(BookingError) as info:
        action(*args, **kw)
    db.session.rollback()
    return info.value


def seats_taken(slot) -> tuple[int, int]:
    """(slot counter, day counter) as stored."""
    db.session.refresh(slot)
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    return slot.taken, day.taken


# --- the slot is open and in the future -------------------------------------------------------

@pytest.mark.parametrize("state", [SlotState.CLOSED, SlotState.CANCELLED])
def test_closed_or_cancelled_slot_takes_no_bookings(create_slot, create_booking, state):
    slot = create_slot(day=ORDINARY_TUESDAY)
    slot.state = state
    db.session.commit()
    error = refusal(create_booking, slot, 10, now=at(date(2026, 10, 12)))
    assert error.code == "slot_closed"
    assert seats_taken(slot) == (0, 0)


def test_slot_that_has_started_takes_no_bookings(create_slot):
    slot = create_slot(day=ORDINARY_TUESDAY, start=time(9, 0))
    assert refusal(check_slot_bookable, db.session, slot, 10,
                   now=at(ORDINARY_TUESDAY, 9, 0)).code == "slot_past"
    assert refusal(check_slot_bookable, db.session, slot, 10,
                   now=at(ORDINARY_TUESDAY + timedelta(days=3))).code == "slot_past"


def test_booking_a_missing_slot_is_not_found(create_slot, create_booking):
    create_slot(day=ORDINARY_TUESDAY)
    error = refusal(create_booking, SimpleNamespace(id=987654), 10, now=at(date(2026, 10, 12)))
    assert isinstance(error, NotFound) and error.status == 404


# --- the booking window, in working days that follow the official calendar ---------------------

def test_working_days_skip_the_national_day_holiday_week():
    assert is_public_holiday(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 7))
    assert add_working_days(NATIONAL_DAY_EVE, 1) == date(2026, 9, 30)
    assert add_working_days(NATIONAL_DAY_EVE, 2) == date(2026, 10, 8)


def test_make_up_saturday_counts_as_a_working_day():
    assert is_working_day(MAKE_UP_SATURDAY)
    assert not is_working_day(date(2026, 10, 17))  # an ordinary Saturday
    assert add_working_days(date(2026, 10, 8), 2) == MAKE_UP_SATURDAY
    assert add_working_days(date(2026, 10, 15), 2) == date(2026, 10, 19)  # skips the weekend


def test_window_opens_two_working_days_after_the_holiday_week(create_slot):
    now = at(NATIONAL_DAY_EVE)
    last_holiday = create_slot(day=date(2026, 10, 7))  # groups are allowed on holidays here
    first_working = create_slot(day=date(2026, 10, 8))
    error = refusal(check_slot_bookable, db.session, last_holiday, 10, now=now)
    assert error.code == "too_soon"
    assert "2026-10-08" in str(error)
    check_slot_bookable(db.session, first_working, 10, now=now)


def test_make_up_saturday_is_bookable_two_working_days_ahead(create_slot):
    now = at(date(2026, 10, 8))  # Thursday: Friday is working day 1, the make-up Saturday is 2
    friday = create_slot(day=date(2026, 10, 9))
    saturday = create_slot(day=MAKE_UP_SATURDAY)
    assert refusal(check_slot_bookable, db.session, friday, 10, now=now).code == "too_soon"
    check_slot_bookable(db.session, saturday, 10, now=now)


def test_window_closes_thirty_calendar_days_ahead(create_slot, create_booking):
    now = at(date(2026, 11, 3))
    last = create_slot(day=date(2026, 12, 3))
    beyond = create_slot(day=date(2026, 12, 4))
    error = refusal(create_booking, beyond, 10, now=now)
    assert error.code == "too_far"
    assert "2026-12-03" in str(error)
    booking, _ = create_booking(last, 10, now=now)
    assert booking.state is BookingState.CONFIRMED


def test_window_is_counted_from_the_local_date_not_utc(create_slot):
    # 00:30 on 8 October in Shanghai is still 7 October in UTC. Counted from the local date
    # the two working days are 9 October and the make-up Saturday, so Friday 9 is too soon
    # (counted from the UTC date it would wrongly be bookable).
    now = at(date(2026, 10, 8), 0, 30)
    assert now.astimezone(UTC).date() == date(2026, 10, 7)
    friday = create_slot(day=date(2026, 10, 9), start=time(14, 0))
    assert refusal(check_slot_bookable, db.session, friday, 10, now=now).code == "too_soon"
    assert booking_window(friday.venue, date(2026, 10, 8)).first_day == MAKE_UP_SATURDAY


def test_programme_may_narrow_the_window(create_slot):
    now = at(date(2026, 11, 3))  # Tuesday
    slot = create_slot(day=date(2026, 11, 6), min_working_days_ahead=5, max_days_ahead=20)
    assert refusal(check_slot_bookable, db.session, slot, 10, now=now).code == "too_soon"
    later = create_slot(day=date(2026, 11, 10), min_working_days_ahead=5, max_days_ahead=20)
    check_slot_bookable(db.session, later, 10, now=now)
    far = create_slot(day=date(2026, 11, 24), min_working_days_ahead=5, max_days_ahead=20)
    assert refusal(check_slot_bookable, db.session, far, 10, now=now).code == "too_far"


# --- the venue is open that day -----------------------------------------------------------------

def test_weekly_closed_day_takes_no_groups(create_venue, create_slot):
    venue = create_venue()
    slot = create_slot(venue, day=ORDINARY_MONDAY)
    assert day_status(venue, ORDINARY_MONDAY) is DayStatus.CLOSED_WEEKLY
    assert refusal(check_slot_bookable, db.session, slot, 10,
                   now=at(date(2026, 11, 9))).code == "venue_closed"


def test_public_holiday_monday_opens_where_the_venue_says_so(create_venue, create_slot):
    memorial = create_venue("LBC", open_on_holiday_closed_day=True)
    museum = create_venue("KZM", name="开州博物馆", open_on_holiday_closed_day=False)
    now = at(date(2026, 9, 21))
    open_slot = create_slot(memorial, day=HOLIDAY_MONDAY)
    closed_slot = create_slot(museum, day=HOLIDAY_MONDAY)
    check_slot_bookable(db.session, open_slot, 10, now=now)
    assert day_status(museum, HOLIDAY_MONDAY) is DayStatus.CLOSED_WEEKLY
    assert refusal(check_slot_bookable, db.session, closed_slot, 10,
                   now=now).code == "venue_closed"


def test_venue_without_groups_on_holidays_refuses_holiday_slots(create_venue, create_slot):
    venue = create_venue(groups_on_holidays=False)
    now = at(date(2026, 9, 21))
    holiday = create_slot(venue, day=HOLIDAY_TUESDAY)
    assert day_status(venue, HOLIDAY_TUESDAY) is DayStatus.HOLIDAY_NO_GROUPS
    assert refusal(check_slot_bookable, db.session, holiday, 10, now=now).code == "venue_closed"
    # A public-holiday Monday stays shut for groups even where the venue itself opens.
    assert day_status(venue, HOLIDAY_MONDAY) is DayStatus.HOLIDAY_NO_GROUPS
    ordinary = create_slot(venue, day=date(2026, 9, 29))
    check_slot_bookable(db.session, ordinary, 10, now=now)


def _override(slot, closed):
    venue_day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id,
                                                             day=slot.day))
    venue_day.closed = closed
    db.session.commit()


def test_staff_can_close_an_open_day(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    _override(slot, True)
    override = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    assert day_status(slot.venue, slot.day, override) is DayStatus.CLOSED_BY_STAFF
    assert refusal(create_booking, slot, 10, now=at(date(2026, 10, 12))).code == "venue_closed"


def test_staff_can_open_a_weekly_closed_day(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_MONDAY)
    _override(slot, False)
    booking, _ = create_booking(slot, 10, now=at(date(2026, 11, 9)))
    assert booking.state is BookingState.CONFIRMED


def test_no_override_follows_the_rules(create_slot):
    slot = create_slot(day=ORDINARY_MONDAY)
    _override(slot, None)
    assert refusal(check_slot_bookable, db.session, slot, 10,
                   now=at(date(2026, 11, 9))).code == "venue_closed"


# --- the party and its names --------------------------------------------------------------------

def test_party_size_must_be_within_the_slots_bounds(create_slot, create_booking):
    now = at(date(2026, 10, 12))
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=120, party_size_min=10, party_size_max=50)
    for size in (9, 51):
        error = refusal(create_booking, slot, size, now=now)
        assert (error.code, error.status, error.field) == ("party_size", 422, "party_size")
        assert "10" in str(error) and "50" in str(error)
    create_booking(slot, 10, now=now)
    create_booking(slot, 50, now=now, organisation_name="开州区实验中学")
    assert seats_taken(slot) == (60, 60)


def test_more_attendee_names_than_the_party_is_refused(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    names = [f"学员{i}" for i in range(11)]
    error = refusal(create_booking, slot, 10, now=at(date(2026, 10, 12)), attendee_names=names)
    assert (error.code, error.field) == ("too_many_attendees", "attendees")
    assert seats_taken(slot) == (0, 0)


def test_attendee_names_are_cleaned_and_kept_in_order(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    names = ["  张  三 ", "", "李四", "   "] + [f"学员{i}" for i in range(8)]
    booking, _ = create_booking(slot, 10, now=at(date(2026, 10, 12)), attendee_names=names)
    assert [a.name for a in booking.attendees][:2] == ["张 三", "李四"]
    assert len(booking.attendees) == 10


def test_overlong_attendee_name_is_refused(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    error = refusal(create_booking, slot, 10, now=at(date(2026, 10, 12)),
                    attendee_names=["张" * 61])
    assert (error.code, error.field) == ("attendee_name", "attendees")


# --- organisations --------------------------------------------------------------------------------

def test_suspended_organisation_is_refused_until_its_suspension_ends(create_slot, create_booking):
    code = VALID_CREDIT_CODES[0]
    suspended_until = date(2026, 10, 13)
    db.session.add(Organisation(name="某公司", kind=OrganisationKind.ENTERPRISE, credit_code=code,
                                suspended_until=suspended_until))
    db.session.commit()
    slot = create_slot(day=ORDINARY_TUESDAY)
    later = create_slot(day=ORDINARY_TUESDAY + timedelta(days=1))
    for visit in (slot, later):  # suspended from booking at all, whatever the visit day
        error = refusal(create_booking, visit, 10, now=at(suspended_until), credit_code=code)
        assert (error.code, error.status) == ("organisation_suspended", 403)
        assert suspended_until.isoformat() in str(error)
    assert seats_taken(slot) == (0, 0)
    booking, _ = create_booking(slot, 10, now=at(suspended_until + timedelta(days=1)),
                                credit_code=code)
    assert booking.organisation.credit_code == code


def test_organisation_is_matched_by_credit_code_before_name(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=100)
    now = at(date(2026, 10, 12))
    first, _ = create_booking(slot, 10, now=now, organisation_name="华为技术有限公司",
                              credit_code=VALID_CREDIT_CODES[0])
    renamed, _ = create_booking(slot, 10, now=now, organisation_name="华为",
                                credit_code=VALID_CREDIT_CODES[0].lower())
    other, _ = create_booking(slot, 10, now=now, organisation_name="华为技术有限公司",
                              credit_code=VALID_CREDIT_CODES[1])
    assert renamed.organisation_id == first.organisation_id
    assert other.organisation_id != first.organisation_id
    assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 2


def test_organisation_without_credit_code_is_matched_by_name(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=100)
    now = at(date(2026, 10, 12))
    first, _ = create_booking(slot, 10, now=now, organisation_name="开州区 实验中学")
    again, _ = create_booking(slot, 10, now=now, organisation_name="  开州区  实验中学 ")
    other, _ = create_booking(slot, 10, now=now, organisation_name="开州中学")
    assert again.organisation_id == first.organisation_id
    assert first.organisation.name == "开州区 实验中学"
    assert other.organisation_id != first.organisation_id


# --- approval ---------------------------------------------------------------------------------------

def test_programme_needing_approval_creates_pending_booking_holding_seats(create_slot,
                                                                          create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, requires_approval=True)
    booking, _ = create_booking(slot, 18, now=at(date(2026, 10, 12)))
    assert booking.state is BookingState.PENDING and booking.is_pending
    assert booking.seats == 18
    assert seats_taken(slot) == (18, 18)


def test_programme_without_approval_confirms_at_once(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, requires_approval=False)
    booking, _ = create_booking(slot, 18, now=at(date(2026, 10, 12)))
    assert booking.state is BookingState.CONFIRMED
    assert seats_taken(slot) == (18, 18)


# --- references and manage links ---------------------------------------------------------------------

def test_references_are_short_random_and_unique(create_slot):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=200)
    now = at(date(2026, 10, 12))
    references = []
    for _i in range(200):
        booking, _ = book(db.session, booking_request(slot, 1), now=now)
        references.append(booking.reference)
    db.session.commit()
    assert len(set(references)) == 200
    assert all(len(r) == tokens.REFERENCE_LENGTH == 8 for r in references)
    assert all(set(r) <= set(tokens.REFERENCE_ALPHABET) for r in references)
    assert not set("".join(references)) & set("01OIL")  # no look-alike characters
    assert references != sorted(references)  # not handed out in order
    assert len({r[0] for r in references}) >= 15  # spread over the alphabet
    assert db.session.scalar(select(db.func.count()).select_from(Booking)) == 200


def test_a_reference_already_taken_is_never_handed_out_again(create_slot, monkeypatch):
    """The booking INSERT skips a taken reference (ON CONFLICT DO NOTHING) and draws again."""
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=200)
    now = at(date(2026, 10, 12))
    first, _ = book(db.session, booking_request(slot, 1), now=now)
    db.session.commit()
    drawn = iter([first.reference, first.reference, "HJKMNPQR"])
    monkeypatch.setattr(tokens, "new_reference", lambda: next(drawn))
    second, _ = book(db.session, booking_request(slot, 2), now=now)
    db.session.commit()
    assert (second.reference, second.party_size) == ("HJKMNPQR", 2)
    assert db.session.scalar(select(Booking.party_size).filter_by(reference=first.reference)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Booking)) == 2


def test_manage_token_is_stored_only_as_its_hash(create_booking):
    booking, token = create_booking()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    assert booking.manage_token_hash == hashlib.sha256(token.encode()).hexdigest()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert all(token not in str(value) for value in row), table.name


def test_manage_link_finds_the_booking(create_booking):
    booking, token = create_booking()
    typed = f"{booking.reference[:4].lower()}-{booking.reference[4:].lower()}"
    assert find_booking_by_token(db.session, typed, token) is booking


def test_wrong_token_and_wrong_reference_look_the_same(create_booking):
    booking, token = create_booking()
    other, other_token = create_booking(organisation_name="开州中学")
    wrong_token = refusal(find_booking_by_token, db.session, booking.reference, other_token)
    unknown = "".join(reversed(booking.reference))
    wrong_reference = refusal(find_booking_by_token, db.session, unknown, token)
    empty = refusal(find_booking_by_token, db.session, booking.reference, "")
    for error in (wrong_token, wrong_reference, empty):
        assert isinstance(error, NotFound)
        assert (error.code, error.status, str(error)) == \
            (wrong_token.code, wrong_token.status, str(wrong_token))


def test_recovering_the_link_rotates_the_token(create_booking):
    booking, old_token = create_booking(contact_phone="13812341234")
    recovered, new_token = recover_manage_link(db.session, booking.reference.lower(),
                                               "+86 138-1234-1234")
    db.session.commit()
    assert recovered is booking and new_token != old_token
    assert find_booking_by_token(db.session, booking.reference, new_token) is booking
    assert isinstance(refusal(find_booking_by_token, db.session, booking.reference, old_token),
                      NotFound)


def test_recovery_with_the_wrong_phone_is_refused_like_a_wrong_reference(create_booking):
    booking, token = create_booking(contact_phone="13812341234")
    wrong_phone = refusal(recover_manage_link, db.session, booking.reference, "13912341234")
    wrong_reference = refusal(recover_manage_link, db.session, "ZZZZZZZZ", "13812341234")
    assert isinstance(wrong_phone, NotFound)
    assert (wrong_phone.code, str(wrong_phone)) == (wrong_reference.code, str(wrong_reference))
    assert find_booking_by_token(db.session, booking.reference, token) is booking


# --- cancelling and changing until the deadline --------------------------------------------------------

def test_cancellation_deadline_is_the_day_before(create_venue):
    venue = create_venue(cancel_days_before=1)
    assert cancellation_deadline(venue, ORDINARY_TUESDAY) == ORDINARY_TUESDAY - timedelta(days=1)


def test_cancelling_until_the_deadline_gives_the_seats_back(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=40)
    booking, _ = create_booking(slot, 25, now=at(date(2026, 10, 12)))
    cancel_booking(db.session, booking, now=at(ORDINARY_TUESDAY - timedelta(days=1), 23, 59),
                   reason="  行程调整 ")
    db.session.commit()
    assert (booking.state, booking.seats, booking.state_reason) == \
        (BookingState.CANCELLED, 0, "行程调整")
    assert seats_taken(slot) == (0, 0)


def test_cancelling_on_the_visit_day_is_refused(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, start=time(14, 0), capacity=40)
    booking, _ = create_booking(slot, 25, now=at(date(2026, 10, 12)))
    # 00:30 in Shanghai is still the day before in UTC: the deadline is a local date.
    error = refusal(cancel_booking, db.session, booking, now=at(ORDINARY_TUESDAY, 0, 30))
    assert error.code == "past_deadline"
    assert (ORDINARY_TUESDAY - timedelta(days=1)).isoformat() in str(error)
    db.session.refresh(booking)
    assert (booking.state, booking.seats) == (BookingState.CONFIRMED, 25)
    assert seats_taken(slot) == (25, 25)


@pytest.mark.parametrize("change", [
    lambda booking, now: change_party_size(db.session, booking, 10, now=now),
    lambda booking, now: replace_attendees(db.session, booking, ["张三"], now=now),
], ids=["lower party size", "replace attendees"])
def test_changes_after_the_deadline_are_refused(create_slot, create_booking, change):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=40)
    booking, _ = create_booking(slot, 25, now=at(date(2026, 10, 12)))
    assert refusal(change, booking, at(ORDINARY_TUESDAY, 8)).code == "past_deadline"
    assert seats_taken(slot) == (25, 25)


def test_a_cancelled_booking_cannot_be_cancelled_again(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    booking, _ = create_booking(slot, 20, now=at(date(2026, 10, 12)))
    cancel_booking(db.session, booking, now=at(date(2026, 10, 13)))
    db.session.commit()
    assert refusal(cancel_booking, db.session, booking,
                   now=at(date(2026, 10, 13))).code == "not_changeable"
    assert seats_taken(slot) == (0, 0)


def test_lowering_the_party_size_releases_seats(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=40)
    booking, _ = create_booking(slot, 30, now=at(date(2026, 10, 12)))
    change_party_size(db.session, booking, 18, now=at(date(2026, 10, 14)))
    db.session.commit()
    assert (booking.party_size, booking.seats) == (18, 18)
    assert seats_taken(slot) == (18, 18)


def test_raising_the_party_size_is_refused(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=40)
    booking, _ = create_booking(slot, 30, now=at(date(2026, 10, 12)))
    error = refusal(change_party_size, db.session, booking, 31, now=at(date(2026, 10, 14)))
    assert (error.code, error.field) == ("party_size_increase", "party_size")
    assert seats_taken(slot) == (30, 30)


def test_party_size_cannot_drop_below_the_minimum_or_the_names(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY, capacity=40, party_size_min=10)
    names = [f"学员{i}" for i in range(15)]
    booking, _ = create_booking(slot, 30, now=at(date(2026, 10, 12)), attendee_names=names)
    now = at(date(2026, 10, 14))
    assert refusal(change_party_size, db.session, booking, 9, now=now).code == "party_size"
    assert refusal(change_party_size, db.session, booking, 14,
                   now=now).code == "too_many_attendees"
    change_party_size(db.session, booking, 15, now=now)
    db.session.commit()
    assert seats_taken(slot) == (15, 15)


def test_replacing_attendees_keeps_attendance_of_names_that_stay(create_slot, create_booking):
    slot = create_slot(day=ORDINARY_TUESDAY)
    booking, _ = create_booking(slot, 10, now=at(date(2026, 10, 12)),
                                attendee_names=["张三", "李四", "王五"])
    zhang = booking.attendees[0]
    zhang.attended = True
    db.session.commit()
    replace_attendees(db.session, booking, ["王五", "张三", "赵六"], now=at(date(2026, 10, 14)))
    db.session.commit()
    db.session.expire_all()
    kept = {a.name: a for a in booking.attendees}
    assert [a.name for a in booking.attendees] == ["王五", "张三", "赵六"]
    assert [a.position for a in booking.attendees] == [0, 1, 2]
    assert kept["张三"].id == zhang.id and kept["张三"].attended is True
    assert kept["赵六"].attended is False
    assert db.session.scalar(select(Attendee).filter_by(name="李四")) is None
    error = refusal(replace_attendees, db.session, booking, [f"学员{i}" for i in range(11)],
                    now=at(date(2026, 10, 14)))
    assert error.code == "too_many_attendees"


# --- identifiers people type ------------------------------------------------------------------------

@pytest.mark.parametrize("code", VALID_CREDIT_CODES + [VALID_CREDIT_CODES[1].lower(),
                                                      f" {VALID_CREDIT_CODES[2]} "])
def test_valid_credit_codes_pass(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize("code", [
    "914403001922038217",   # wrong check digit
    "91440300708461136X",   # wrong check digit (letter)
    "91440300708461136",    # 17 characters
    "91440300708461136TT",  # 19 characters
    "91440300708461I36T",   # I is not in the alphabet
    "91440300708461O36T",   # nor O
    "",
], ids=["check digit", "check letter", "short", "long", "letter I", "letter O", "empty"])
def test_invalid_credit_codes_fail(code):
    assert not is_valid_credit_code(code)


@pytest.mark.parametrize("phone", ["13812341234", "+86 138 1234 1234", "+8613812341234",
                                   "8613812341234", "199-0000-1111", "(139) 1234 5678"])
def test_mainland_mobiles_are_accepted(phone):
    assert is_mainland_mobile(phone)


@pytest.mark.parametrize("phone", ["12812341234", "1381234123", "138123412345", "023-68881234",
                                   "+85291234567", "1381234123a", ""])
def test_other_numbers_are_not_mainland_mobiles(phone):
    assert not is_mainland_mobile(phone)


def test_phone_is_stored_normalised(create_booking):
    booking, _ = create_booking(contact_phone="+86 138-1234-1234")
    assert booking.contact_phone == normalise_phone("+86 138-1234-1234") == "13812341234"


def test_phones_and_names_are_masked():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("张三") == "张*"
    assert mask_name("张建伟") == "张*伟"
    assert mask_name("欧阳建国") == "欧**国"
    assert mask_name("Anna Meyer") == "A*** M****"
    assert mask_name("李") == "李"


# --- creating slots -------------------------------------------------------------------------------------

def test_room_clash_is_refused_naming_the_other_slot(create_venue, create_room, create_slot):
    venue = create_venue()
    hall = create_room(venue, "报告厅", capacity=120)
    create_slot(venue, day=ORDINARY_TUESDAY, start=time(9, 0), minutes=90, room=hall,
                title="学习百年党史 感悟刘帅精神")
    error = refusal(create_slot, venue, day=ORDINARY_TUESDAY, start=time(10, 0), room=hall,
                    title="红色主题党日")
    assert (error.code, error.field) == ("room_clash", "room")
    message = str(error)
    assert "学习百年党史 感悟刘帅精神" in message and "报告厅" in message
    assert "2026-10-20 09:00" in message and "10:30" in message


def test_back_to_back_slots_and_other_rooms_do_not_clash(create_venue, create_room, create_slot):
    venue = create_venue()
    hall = create_room(venue, "报告厅")
    classroom = create_room(venue, "研学教室", capacity=60)
    first = create_slot(venue, day=ORDINARY_TUESDAY, start=time(9, 0), minutes=90, room=hall)
    create_slot(venue, day=ORDINARY_TUESDAY, start=time(10, 30), room=hall)
    create_slot(venue, day=ORDINARY_TUESDAY, start=time(9, 0), room=classroom)
    first.state = SlotState.CANCELLED  # a cancelled slot frees its room
    db.session.commit()
    create_slot(venue, day=ORDINARY_TUESDAY, start=time(9, 0), minutes=60, room=hall)


def _new_slot(venue, start, end, capacity, room=None):
    return create_slot_rule(db.session, venue, start, end, capacity, SlotFacts(title="参观"),
                            room=room)


def test_slot_times_and_capacity_are_validated(create_venue, create_room):
    venue = create_venue()
    other_venue = create_venue("KZM", name="开州博物馆")
    small = create_room(venue, "微展厅", capacity=40)
    foreign = create_room(other_venue, "一号展厅", capacity=80)
    start = at(ORDINARY_TUESDAY, 9)
    assert refusal(_new_slot, venue, start, start, 40).code == "slot_times"
    assert refusal(_new_slot, venue, start, start - timedelta(minutes=30), 40).field == "ends_at"
    end = start + timedelta(minutes=90)
    assert refusal(_new_slot, venue, start, end, 0).code == "slot_capacity"
    too_big = refusal(_new_slot, venue, start, end, 41, small)
    assert (too_big.code, too_big.field) == ("slot_capacity", "capacity") and "40" in str(too_big)
    assert refusal(_new_slot, venue, start, end, 40, foreign).code == "room_venue"
    slot = _new_slot(venue, start, end, 40, small)
    assert (slot.day, slot.taken, slot.state) == (ORDINARY_TUESDAY, 0, SlotState.OPEN)
