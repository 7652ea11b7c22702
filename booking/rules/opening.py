"""When a venue is open, which days are working days, and the booking window.

Public holidays and make-up working days (调休) come from the maintained ``holidays``
package; staff overrides per venue and day live in :class:`~booking.models.VenueDay`.
Staff corrections to the working-day calendar itself (an extra holiday, a make-up workday
the package does not know yet: :class:`~booking.models.CalendarCorrection`) are passed in as
``corrections`` (day -> is a working day), loaded by :mod:`booking.rules.working_days`.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from booking.models import Slot, Venue, VenueDay


@lru_cache(maxsize=16)
def _china_holidays(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_public_holiday(day: date) -> bool:
    return day in _china_holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _china_holidays(day.year).get(day)


Corrections = Mapping[date, bool]


def is_working_day(day: date, corrections: Corrections | None = None) -> bool:
    """A day offices work, following the official calendar with its make-up workdays, as
    corrected by staff."""
    if corrections and day in corrections:
        return corrections[day]
    return _china_holidays(day.year).is_working_day(day)


def add_working_days(start: date, count: int, corrections: Corrections | None = None) -> date:
    """The date ``count`` working days after ``start`` (``start`` itself not counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day, corrections):
            count -= 1
    return day


class DayStatus(enum.Enum):
    OPEN = "open"
    CLOSED_WEEKLY = "closed_weekly"      # the weekly closed day
    CLOSED_BY_STAFF = "closed_by_staff"  # maintenance, events
    HOLIDAY_NO_GROUPS = "holiday"        # open, but no group sessions on public holidays


def day_status(venue: Venue, day: date, override: VenueDay | None = None) -> DayStatus:
    """Whether the venue receives groups on ``day``: staff override, then weekly and holiday rules."""
    if override is not None and override.closed is not None:
        return DayStatus.CLOSED_BY_STAFF if override.closed else DayStatus.OPEN
    holiday = is_public_holiday(day)
    if venue.weekly_closed_day is not None and day.weekday() == venue.weekly_closed_day:
        if not (holiday and venue.open_on_holiday_closed_day):
            return DayStatus.CLOSED_WEEKLY
    if holiday and not venue.groups_on_holidays:
        return DayStatus.HOLIDAY_NO_GROUPS
    return DayStatus.OPEN


@dataclass(frozen=True)
class BookingWindow:
    first_day: date
    last_day: date

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def booking_window(venue: Venue, today: date, slot: Slot | None = None,
                   corrections: Corrections | None = None) -> BookingWindow:
    """From N working days ahead to M calendar days ahead; a slot's programme may narrow it."""
    min_ahead = venue.min_working_days_ahead
    max_ahead = venue.max_days_ahead
    if slot is not None:
        if slot.min_working_days_ahead is not None:
            min_ahead = slot.min_working_days_ahead
        if slot.max_days_ahead is not None:
            max_ahead = slot.max_days_ahead
    return BookingWindow(add_working_days(today, min_ahead, corrections),
                         today + timedelta(days=max_ahead))


def first_open_day(venue: Venue, window: BookingWindow,
                   overrides: Mapping[date, VenueDay]) -> date | None:
    """The first day of ``window`` on which the venue receives groups, or None."""
    day = window.first_day
    while day <= window.last_day:
        if day_status(venue, day, overrides.get(day)) is DayStatus.OPEN:
            return day
        day += timedelta(days=1)
    return None


def cancellation_deadline(venue: Venue, visit_day: date) -> date:
    """The last day on which the organisation may cancel or change the booking itself."""
    return visit_day - timedelta(days=venue.cancel_days_before)
