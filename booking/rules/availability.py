"""The capacity calendar: what each day and slot at a venue offers a group right now.

Plain functions that take a session and return dataclasses; the views only render them.
A month page costs a constant number of queries however many slots it holds: the month's
slots (with their rooms) and its VenueDay rows are fetched once, and each slot's bookability
is decided from them in one pass, without raising (:func:`refusal`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.clock import local_today, utcnow
from booking.errors import BookingError
from booking.i18n import localized
from booking.models import Slot, SlotState, Venue, VenueDay
from booking.rules import opening, working_days
from booking.rules.workflow import check_slot_open_for_booking

#: A day or slot is "few left" when at most this share of its seats remains.
FEW_LEFT_SHARE = 0.25
UPCOMING_LIMIT = 10


def few_seats_left(seats_left: int, capacity: int) -> bool:
    """The one "few seats left" rule, for the calendar, the staff pages' seat badges (a
    template global) and the calendar's legend (which states :data:`FEW_LEFT_SHARE`)."""
    return 0 < seats_left <= capacity * FEW_LEFT_SHARE


class Availability(enum.Enum):
    """What a day or a slot offers, as a visitor would put it."""

    CLOSED = "closed"              # the venue does not receive groups that day
    PAST = "past"
    TOO_SOON = "too_soon"          # inside the minimum notice
    NOT_YET_OPEN = "not_yet_open"  # beyond the booking window
    STOPPED = "stopped"            # the slot no longer takes bookings (closed or cancelled)
    NO_SESSIONS = "no_sessions"
    FULL = "full"
    FEW_LEFT = "few_left"
    AVAILABLE = "available"

    @property
    def is_bookable(self) -> bool:
        return self in (Availability.AVAILABLE, Availability.FEW_LEFT)


class ClosedReason(enum.Enum):
    WEEKLY = "weekly"      # 闭馆日
    HOLIDAY = "holiday"    # 节假日不接待团体
    BY_STAFF = "by_staff"  # 临时闭馆, with the staff's reason


_CLOSED_REASONS = {
    opening.DayStatus.CLOSED_WEEKLY: ClosedReason.WEEKLY,
    opening.DayStatus.HOLIDAY_NO_GROUPS: ClosedReason.HOLIDAY,
    opening.DayStatus.CLOSED_BY_STAFF: ClosedReason.BY_STAFF,
}

# BookingError codes of check_slot_open_for_booking → what the visitor sees.
REFUSALS = {
    "slot_closed": Availability.STOPPED,
    "slot_past": Availability.PAST,
    "venue_closed": Availability.CLOSED,
    "too_soon": Availability.TOO_SOON,
    "too_far": Availability.NOT_YET_OPEN,
}
_REFUSED_STATES = frozenset(REFUSALS.values())


@dataclass
class SlotAvailability:
    """One slot as a visitor sees it. ``seats_left`` already counts the day's cap."""

    slot: Slot
    state: Availability
    seats_left: int
    detail: str = ""  # why a FULL slot cannot be booked, when it is not plainly full
    venue_day: VenueDay | None = field(default=None, repr=False, compare=False)
    now: datetime | None = field(default=None, repr=False, compare=False)
    corrections: dict | None = field(default=None, repr=False, compare=False)

    @property
    def bookable(self) -> bool:
        return self.state.is_bookable

    @property
    def reason(self) -> str:
        """Why it cannot be booked, in the visitor's language. A refused slot's words come from
        the authority, :func:`check_slot_open_for_booking`, asked only when a page shows them."""
        if self.detail or self.state not in _REFUSED_STATES:
            return self.detail
        try:
            check_slot_open_for_booking(None, self.slot, self.now, override=self.venue_day,
                                        corrections=self.corrections or {})
        except BookingError as refused:
            return str(refused.message)
        return ""


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    state: Availability
    seats_left: int = 0
    closed_reason: ClosedReason | None = None
    staff_reason: str = ""
    holiday: str | None = None
    slots: list[SlotAvailability] = field(default_factory=list)

    @property
    def bookable(self) -> bool:
        return self.state.is_bookable

    @property
    def has_slots(self) -> bool:
        return bool(self.slots)


@dataclass
class MonthCalendar:
    venue: Venue
    first_day: date  # the 1st of the month shown
    programme: str | None
    today: date
    window: opening.BookingWindow
    weeks: list[list[CalendarDay]]
    #: The first day in the window the venue receives groups (not a closed Monday), if any.
    first_open_day: date | None = None

    @property
    def days(self) -> list[CalendarDay]:
        """The month's own days, in order (the list layout on phones)."""
        return [d for week in self.weeks for d in week if d.in_month]

    @property
    def previous_month(self) -> date:
        return (self.first_day - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        return (self.first_day + timedelta(days=32)).replace(day=1)


@lru_cache(maxsize=32)
def _holiday_calendar(year: int, language: str) -> holidays.HolidayBase:
    return holidays.China(years=year, language="en_US" if language == "en" else "zh_CN")


def holiday_name(day: date, language: str = "zh") -> str | None:
    return _holiday_calendar(day.year, language).get(day)


def parse_month(text: str | None, today: date) -> date:
    """``YYYY-MM`` → the first of that month; anything else → the current month."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        if 2000 <= year <= 2100:
            return date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


class Windows:
    """The booking windows of one "today" at one venue, worked out once per distinct
    (notice, horizon) pair of the slots asked about, not once per slot."""

    def __init__(self, venue: Venue, today: date,
                 corrections: opening.Corrections | None = None):
        self.venue, self.today, self.corrections = venue, today, corrections
        self._known: dict[tuple[int | None, int | None], opening.BookingWindow] = {}

    def of(self, slot: Slot) -> opening.BookingWindow:
        key = (slot.min_working_days_ahead, slot.max_days_ahead)
        window = self._known.get(key)
        if window is None:
            window = self._known[key] = opening.booking_window(self.venue, self.today, slot,
                                                                  self.corrections)
        return window


def windows_by_venue(session: Session, slots: list[Slot], now: datetime) -> dict[int, Windows]:
    """One :class:`Windows` per venue of ``slots``, sharing the staff's working-day
    corrections (one query for the lot)."""
    if not slots:
        return {}
    corrections = working_days.corrections_from(session, local_today(now))
    return {slot.venue_id: Windows(slot.venue, local_today(now, slot.venue.tz), corrections)
            for slot in slots}


def refusal(slot: Slot, venue: Venue, venue_day: VenueDay | None, now: datetime,
            windows: Windows) -> Availability | None:
    """Why ``slot`` takes no bookings now, or None when it does: the same decision as
    :func:`booking.rules.workflow.check_slot_open_for_booking` (which stays the authority
    when booking; tests/test_availability_agrees.py holds the two together over a grid of
    cases), made from prefetched data without raising, for a month of slots at once."""
    if slot.state is not SlotState.OPEN:
        return Availability.STOPPED
    if slot.starts_at <= now:
        return Availability.PAST
    if opening.day_status(venue, slot.day, venue_day) is not opening.DayStatus.OPEN:
        return Availability.CLOSED
    window = windows.of(slot)
    if slot.day < window.first_day:
        return Availability.TOO_SOON
    if slot.day > window.last_day:
        return Availability.NOT_YET_OPEN
    return None


def slot_availability(session: Session, slot: Slot, venue_day: VenueDay | None,
                      now: datetime, windows: Windows | None = None) -> SlotAvailability:
    """Whether a group could book ``slot`` now, and how many seats it really has left.

    ``windows`` carries the venue's booking windows and the staff's working-day corrections
    when the caller prefetched them for many slots; by default they are looked up."""
    venue = windows.venue if windows is not None else slot.venue
    day_left = venue_day.seats_left if venue_day is not None else venue.daily_cap
    seats_left = max(0, min(slot.seats_left, day_left))
    if windows is None:
        today = local_today(now, venue.tz)
        windows = Windows(venue, today, working_days.corrections_from(session, today))
    refused = refusal(slot, venue, venue_day, now, windows)
    if refused is not None:
        return SlotAvailability(slot, refused, seats_left, venue_day=venue_day, now=now,
                                corrections=windows.corrections)
    if seats_left <= 0:
        return SlotAvailability(slot, Availability.FULL, 0)
    if seats_left < slot.party_size_min:
        return SlotAvailability(slot, Availability.FULL, seats_left, str(_l(
            "余位不足一个团体的最少人数（%(min)s 人）。", min=slot.party_size_min)))
    few = few_seats_left(seats_left, slot.capacity)
    return SlotAvailability(slot, Availability.FEW_LEFT if few else Availability.AVAILABLE,
                            seats_left)


def _summarise_day(venue: Venue, day: date, in_month: bool, today: date,
                   window: opening.BookingWindow, venue_day: VenueDay | None,
                   slots: list[SlotAvailability], language: str,
                   now: datetime) -> CalendarDay:
    cell = CalendarDay(day=day, in_month=in_month, state=Availability.NO_SESSIONS, slots=slots,
                       holiday=holiday_name(day, language))
    status = opening.day_status(venue, day, venue_day)
    if day < today:
        cell.state = Availability.PAST
        return cell
    if status is not opening.DayStatus.OPEN:
        cell.state = Availability.CLOSED
        cell.closed_reason = _CLOSED_REASONS[status]
        cell.staff_reason = localized(venue_day, "reason") if venue_day is not None else ""
        return cell
    day_left = venue_day.seats_left if venue_day is not None else venue.daily_cap
    offered = [s for s in slots if s.state not in (Availability.STOPPED, Availability.PAST)]
    cell.seats_left = max(0, min(sum(s.seats_left for s in offered), day_left))
    if not slots:
        cell.state = (Availability.TOO_SOON if day < window.first_day
                      else Availability.NOT_YET_OPEN if day > window.last_day
                      else Availability.NO_SESSIONS)
        return cell
    bookable = [s for s in slots if s.bookable]
    if bookable:
        cell.seats_left = max(0, min(sum(s.seats_left for s in bookable), day_left))
        capacity = sum(s.slot.capacity for s in bookable)
        cell.state = (Availability.FEW_LEFT if few_seats_left(cell.seats_left, capacity)
                      else Availability.AVAILABLE)
        return cell
    states = {s.state for s in slots}
    if day == today and states == {Availability.PAST} and any(
            s.slot.ends_at > now for s in slots):
        # Sessions still run today: booking has closed, but the day is not over ("已过").
        states = {Availability.TOO_SOON}
    for state in (Availability.FULL, Availability.TOO_SOON, Availability.NOT_YET_OPEN,
                  Availability.PAST):
        if state in states:
            cell.state = state
            break
    else:
        cell.state = Availability.STOPPED
    return cell


def _slots_between(session: Session, venue: Venue, first: date, last: date,
                   programme: str | None) -> list[Slot]:
    query = (select(Slot).options(joinedload(Slot.room))
             .where(Slot.venue_id == venue.id, Slot.day.between(first, last),
                    Slot.state != SlotState.CANCELLED)
             .order_by(Slot.starts_at, Slot.id))
    if programme:
        query = query.where(Slot.programme == programme)
    return list(session.scalars(query))


def _venue_days_between(session: Session, venue: Venue, first: date,
                        last: date) -> dict[date, VenueDay]:
    rows = session.scalars(select(VenueDay).where(VenueDay.venue_id == venue.id,
                                                  VenueDay.day.between(first, last)))
    return {row.day: row for row in rows}


def _days(session: Session, venue: Venue, first: date, last: date, programme: str | None,
          now: datetime, language: str, month: int | None = None,
          corrections: opening.Corrections | None = None) -> list[CalendarDay]:
    today = local_today(now, venue.tz)
    if corrections is None:
        corrections = working_days.corrections_from(session, today)
    window = opening.booking_window(venue, today, corrections=corrections)
    slots = _slots_between(session, venue, first, last, programme)
    venue_days = _venue_days_between(session, venue, first, last)
    windows = Windows(venue, today, corrections)
    by_day: dict[date, list[SlotAvailability]] = {}
    for slot in slots:
        by_day.setdefault(slot.day, []).append(
            slot_availability(session, slot, venue_days.get(slot.day), now, windows))
    cells = []
    day = first
    while day <= last:
        in_month = month is None or day.month == month
        cells.append(_summarise_day(venue, day, in_month, today, window, venue_days.get(day),
                                    by_day.get(day, []), language, now))
        day += timedelta(days=1)
    return cells


def month_grid(month: date) -> tuple[date, date]:
    """The first and last day of the weeks (Monday first) covering ``month``."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def month_calendar(session: Session, venue: Venue, month: date, programme: str | None = None,
                   now: datetime | None = None, language: str = "zh") -> MonthCalendar:
    """The weeks (Monday first) covering ``month``, every day summarised."""
    now = now or utcnow()
    first = month.replace(day=1)
    grid_first, grid_last = month_grid(first)
    today = local_today(now, venue.tz)
    corrections = working_days.corrections_from(session, today)  # once for the whole page
    cells = _days(session, venue, grid_first, grid_last, programme, now, language, first.month,
                  corrections)
    window = opening.booking_window(venue, today, corrections=corrections)
    overrides = _venue_days_between(session, venue, window.first_day, window.last_day)
    return MonthCalendar(venue=venue, first_day=first, programme=programme, today=today,
                         window=window, weeks=[cells[i:i + 7] for i in range(0, len(cells), 7)],
                         first_open_day=opening.first_open_day(venue, window, overrides))


def day_calendar(session: Session, venue: Venue, day: date, programme: str | None = None,
                 now: datetime | None = None, language: str = "zh") -> CalendarDay:
    """One day with each of its slots."""
    return _days(session, venue, day, day, programme, now or utcnow(), language)[0]


def upcoming_slots(session: Session, venue: Venue, programme: str, now: datetime | None = None,
                   limit: int = UPCOMING_LIMIT) -> list[SlotAvailability]:
    """The next bookable sessions of a programme, soonest first."""
    now = now or utcnow()
    slots = list(session.scalars(
        select(Slot).options(joinedload(Slot.room))
        .where(Slot.venue_id == venue.id, Slot.programme == programme,
               Slot.state == SlotState.OPEN, Slot.starts_at > now)
        .order_by(Slot.starts_at, Slot.id).limit(limit * 8)))
    if not slots:
        return []
    venue_days = _venue_days_between(session, venue, slots[0].day, slots[-1].day)
    today = local_today(now, venue.tz)
    windows = Windows(venue, today, working_days.corrections_from(session, today))
    found = []
    for slot in slots:
        availability = slot_availability(session, slot, venue_days.get(slot.day), now, windows)
        if availability.bookable:
            found.append(availability)
            if len(found) == limit:
                break
    return found

