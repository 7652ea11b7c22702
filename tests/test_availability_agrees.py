"""The calendar's one-pass bookability (availability.refusal) says exactly what the booking
rule's authority (workflow.check_slot_open_for_booking) says, over a grid of cases: slot
states, past and future starts, closed days, holidays and make-up workdays, staff overrides,
the minimum notice and the horizon, per-programme windows."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest

from booking.clock import at_local
from booking.errors import BookingError
from booking.models import Slot, SlotState, Venue, VenueDay
from booking.rules import availability
from booking.rules.workflow import check_slot_open_for_booking

TODAY = date(2026, 9, 27)  # a Sunday: National Day week, its make-up workdays, Mondays ahead
VENUES = [
    dict(weekly_closed_day=0, open_on_holiday_closed_day=True, groups_on_holidays=True),
    dict(weekly_closed_day=0, open_on_holiday_closed_day=False, groups_on_holidays=False),
    dict(weekly_closed_day=None, open_on_holiday_closed_day=False, groups_on_holidays=True),
]
WINDOWS = [(None, None), (0, 60), (5, 10)]
#: No staff corrections to the working-day calendar (prefetched, so no database is needed).
NO_CORRECTIONS: dict = {}
DAY_OVERRIDES = ["none", "closed", "forced_open", "counter_only"]


def _venue(index: int, rules: dict) -> Venue:
    return Venue(id=index, code=f"V{index}", name="馆", timezone="Asia/Shanghai", daily_cap=500,
                 min_working_days_ahead=2, max_days_ahead=30, **rules)


def _venue_day(venue: Venue, day: date, kind: str) -> VenueDay | None:
    if kind == "none":
        return None
    closed = {"closed": True, "forced_open": False, "counter_only": None}[kind]
    return VenueDay(venue_id=venue.id, day=day, capacity=500, taken=0, closed=closed, reason="")


def _authority(slot: Slot, venue_day: VenueDay | None, now: datetime):
    try:
        check_slot_open_for_booking(None, slot, now, override=venue_day, corrections=NO_CORRECTIONS)
    except BookingError as refused:
        return availability.REFUSALS[refused.code]
    return None


def test_one_pass_refusal_agrees_with_check_slot_open_for_booking_over_a_grid():
    now = at_local(TODAY, time(10, 0))
    seen = set()
    cases = 0
    for (index, rules), (min_ahead, max_ahead), state, offset, start, override in itertools.product(
            enumerate(VENUES), WINDOWS, list(SlotState), range(-1, 66, 1), (time(9), time(15, 30)),
            DAY_OVERRIDES):
        venue = _venue(index, rules)
        day = TODAY + timedelta(days=offset)
        starts_at = at_local(day, start)
        slot = Slot(venue=venue, venue_id=venue.id, day=day, starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=90), capacity=50, taken=0, state=state,
                    party_size_min=1, party_size_max=50, min_working_days_ahead=min_ahead,
                    max_days_ahead=max_ahead)
        venue_day = _venue_day(venue, day, override)
        windows = availability.Windows(venue, TODAY, NO_CORRECTIONS)
        expected = _authority(slot, venue_day, now)
        assert availability.refusal(slot, venue, venue_day, now, windows) is expected, (
            venue.weekly_closed_day, rules, min_ahead, max_ahead, state, day, start, override)
        shown = availability.slot_availability(None, slot, venue_day, now, windows)
        assert (shown.state if expected is not None else None) == expected
        assert shown.bookable == (expected is None)
        seen.add(expected)
        cases += 1
    assert cases > 10_000
    assert seen == {None, *availability.REFUSALS.values()}, "the grid misses a refusal"


@pytest.mark.usefixtures("app")
def test_a_refused_slot_gives_the_authoritys_reason_in_words():
    venue = _venue(1, VENUES[2])
    day = TODAY + timedelta(days=1)  # inside the two working days of notice
    starts_at = at_local(day, time(9))
    slot = Slot(venue=venue, venue_id=1, day=day, starts_at=starts_at, ends_at=starts_at,
                capacity=50, taken=0, state=SlotState.OPEN, party_size_min=1, party_size_max=50)
    shown = availability.slot_availability(None, slot, None, at_local(TODAY, time(10)),
                                           availability.Windows(venue, TODAY, NO_CORRECTIONS))
    assert shown.state is availability.Availability.TOO_SOON
    with pytest.raises(BookingError) as refused:
        check_slot_open_for_booking(None, slot, at_local(TODAY, time(10)), override=None,
                                    corrections=NO_CORRECTIONS)
    assert shown.reason == str(refused.value.message) != ""
