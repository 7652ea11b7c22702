"""The museum calls things off: a cancelled slot, an ad-hoc closed day, a day forced open.

Every active booking in a cancelled slot is marked as cancelled *by the museum* with the
reason, so the organisation reads it on its manage page, and its seats go back to the slot
and day counters in the same transaction. A closed day is a staff override on
:class:`~booking.models.VenueDay` that the public calendar reads through
:func:`booking.rules.opening.day_status`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import local, local_today, utcnow
from booking.errors import BookingError
from booking.models import (
    CHANGEABLE_STATES,
    Booking,
    BookingState,
    Slot,
    SlotState,
    StaffUser,
    Venue,
    VenueDay,
)
from booking.rules import capacity, opening, waitlist
from booking.rules.audit import record_change

MAX_REASON = 300
#: States that mean the group has already come (or failed to): too late to call it off.
_SETTLED_STATES = frozenset({BookingState.CHECKED_IN, BookingState.COMPLETED,
                             BookingState.NO_SHOW})


def active_bookings(session: Session, slot: Slot) -> list[Booking]:
    """The bookings a cancellation of ``slot`` would affect, oldest first."""
    return list(session.scalars(
        select(Booking).where(Booking.slot_id == slot.id, Booking.state.in_(CHANGEABLE_STATES))
        .order_by(Booking.created_at, Booking.id)))


def _clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise BookingError("reason_too_long", _l("理由不能超过 %(n)s 个字符。", n=MAX_REASON),
                           status=422, field="reason")
    return reason


def _check_cancellable(session: Session, slot: Slot, now: datetime) -> None:
    when = local(slot.starts_at, slot.venue.tz).strftime("%Y-%m-%d %H:%M")
    if slot.state is SlotState.CANCELLED:
        raise BookingError("slot_cancelled", _l("%(when)s《%(title)s》已经取消。",
                                                when=when, title=slot.title))
    if slot.ends_at <= now:
        raise BookingError("slot_past", _l("%(when)s《%(title)s》已结束，不能取消。",
                                           when=when, title=slot.title))
    settled = session.scalar(select(Booking.id).where(Booking.slot_id == slot.id,
                                                      Booking.state.in_(_SETTLED_STATES)))
    if settled is not None:
        raise BookingError("slot_checked_in", _l(
            "%(when)s《%(title)s》已有团体签到，不能取消。", when=when, title=slot.title))


def cancel_slot(session: Session, slot: Slot, reason: str, user: StaffUser | None,
                now: datetime | None = None, reason_en: str = "") -> list[Booking]:
    """Cancel ``slot`` and every active booking in it. Returns the bookings cancelled.

    A reason is required when the slot has bookings: the organisations will read it (in
    English too when ``reason_en`` is given).
    """
    now = now or utcnow()
    reason, reason_en = _clean_reason(reason), _clean_reason(reason_en)
    _check_cancellable(session, slot, now)
    bookings = active_bookings(session, slot)
    if bookings and not reason:
        raise BookingError("reason_required", _l("该场次已有预约，请填写取消理由，预约单位会看到它。"),
                           status=422, field="reason")
    before = {"state": slot.state.value, "taken": slot.taken}
    for booking in bookings:
        booking_before = {"state": booking.state.value, "seats": booking.seats}
        capacity.release_seats(session, slot, booking.seats)
        booking.seats = 0
        booking.state = BookingState.CANCELLED
        booking.cancelled_by_museum = True
        booking.state_reason = reason
        booking.sequence += 1
        booking.updated_at = now
        record_change(session, user, "booking.cancel_by_museum", booking, booking_before,
                      {"state": booking.state.value, "seats": 0, "reason": reason})
    slot.state = SlotState.CANCELLED
    slot.cancel_reason = reason
    slot.cancel_reason_en = reason_en
    # The waiting list ends with the slot; seats held by open offers go back to the counters.
    # The use case (booking.usecases.staff.cancel_by_museum) tells the waiting groups.
    waitlist.close_waitlist(session, slot)
    session.flush()
    record_change(session, user, "slot.cancel", slot, before,
                  {"state": slot.state.value, "reason": reason,
                   "bookings_cancelled": [b.reference for b in bookings]})
    return bookings


# --- Closed days -----------------------------------------------------------------------------

@dataclass
class DayClosure:
    """What closing a day did: the slots it cancelled and the bookings in them."""

    venue_day: VenueDay
    slots: list[Slot]
    bookings: list[Booking]


def live_slots_on(session: Session, venue: Venue, day: date) -> list[Slot]:
    """The day's slots that are not cancelled yet, in time order."""
    return list(session.scalars(
        select(Slot).where(Slot.venue_id == venue.id, Slot.day == day,
                           Slot.state != SlotState.CANCELLED).order_by(Slot.starts_at)))


def _check_not_past(venue: Venue, day: date, now: datetime) -> None:
    if day < local_today(now, venue.tz):
        raise BookingError("day_past", _l("不能修改已经过去的日期。"), status=422, field="day")


def _day_state(venue_day: VenueDay) -> dict:
    return {"day": venue_day.day.isoformat(), "closed": venue_day.closed,
            "reason": venue_day.reason}


def closure_plan(session: Session, venue: Venue, day: date, reason: str,
                 now: datetime | None = None) -> list[tuple[Slot, list[Booking]]]:
    """What closing ``day`` would cancel: each slot with its active bookings.

    Runs every check :func:`close_day` runs, so a confirmation page never promises a
    closure that would then be refused.
    """
    now = now or utcnow()
    _check_not_past(venue, day, now)
    if not _clean_reason(reason):
        raise BookingError("reason_required", _l("请填写闭馆原因，公众日历会显示它。"),
                           status=422, field="reason")
    venue_day = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=day))
    if venue_day is not None and venue_day.closed is True:
        raise BookingError("day_closed", _l("%(day)s 已经是临时闭馆日。", day=day.isoformat()),
                           field="day")
    # Earlier sessions of a day closed at short notice already took place: they stand.
    slots = [slot for slot in live_slots_on(session, venue, day) if slot.ends_at > now]
    for slot in slots:
        _check_cancellable(session, slot, now)
    return [(slot, active_bookings(session, slot)) for slot in slots]


def close_day(session: Session, venue: Venue, day: date, reason: str, user: StaffUser | None,
              now: datetime | None = None, reason_en: str = "") -> DayClosure:
    """Close ``day`` at ``venue`` (maintenance, events) and cancel every slot on it."""
    now = now or utcnow()
    plan = closure_plan(session, venue, day, reason, now)
    reason = _clean_reason(reason)
    venue_day = capacity.ensure_venue_day(session, venue, day)
    before = _day_state(venue_day)
    bookings: list[Booking] = []
    for slot, _ in plan:
        bookings += cancel_slot(session, slot, reason, user, now, reason_en)
    venue_day.closed = True
    venue_day.reason = reason
    venue_day.reason_en = _clean_reason(reason_en)
    session.flush()
    slots = [slot for slot, _ in plan]
    record_change(session, user, "venue_day.close", venue_day, before,
                  {**_day_state(venue_day), "slots_cancelled": [s.id for s in slots]})
    return DayClosure(venue_day, slots, bookings)


def force_open_day(session: Session, venue: Venue, day: date, reason: str,
                   user: StaffUser | None, now: datetime | None = None,
                   reason_en: str = "") -> VenueDay:
    """Open a day the weekly or holiday rules would close (e.g. a holiday Monday)."""
    now = now or utcnow()
    _check_not_past(venue, day, now)
    reason = _clean_reason(reason)
    if opening.day_status(venue, day) is opening.DayStatus.OPEN:
        raise BookingError("day_open", _l("%(day)s 按规则本来就开放，无需设置。",
                                          day=day.isoformat()), status=422, field="day")
    venue_day = capacity.ensure_venue_day(session, venue, day)
    if venue_day.closed is True:
        raise BookingError("day_closed", _l(
            "%(day)s 是临时闭馆日，请先取消闭馆再设置开放。", day=day.isoformat()), field="day")
    before = _day_state(venue_day)
    venue_day.closed = False
    venue_day.reason = reason
    venue_day.reason_en = _clean_reason(reason_en)
    session.flush()
    record_change(session, user, "venue_day.force_open", venue_day, before, _day_state(venue_day))
    return venue_day


def reopen_day(session: Session, venue: Venue, day: date, user: StaffUser | None,
               now: datetime | None = None) -> VenueDay:
    """Remove the staff override: the day follows the weekly and holiday rules again.

    Slots cancelled by a closure stay cancelled (their bookings were told); schedule new
    sessions if the day is to receive groups after all. Removing a forced opening is refused
    while the day still has live slots: close it explicitly so their bookings are handled.
    """
    now = now or utcnow()
    _check_not_past(venue, day, now)
    venue_day = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=day))
    if venue_day is None or venue_day.closed is None:
        raise BookingError("no_override", _l("%(day)s 没有临时设置。", day=day.isoformat()),
                           status=404, field="day")
    if venue_day.closed is False and live_slots_on(session, venue, day) \
            and opening.day_status(venue, day) is not opening.DayStatus.OPEN:
        raise BookingError("day_has_slots", _l(
            "%(day)s 已安排场次，不能直接撤销开放；如需闭馆请使用“临时闭馆”，已有预约会被通知。",
            day=day.isoformat()), field="day")
    before = _day_state(venue_day)
    venue_day.closed = None
    venue_day.reason = venue_day.reason_en = ""
    session.flush()
    record_change(session, user, "venue_day.clear_override", venue_day, before,
                  _day_state(venue_day))
    return venue_day


def upcoming_overrides(session: Session, venue: Venue, today: date) -> list[VenueDay]:
    """Staff closures and forced openings from ``today`` on, in date order."""
    return list(session.scalars(
        select(VenueDay).where(VenueDay.venue_id == venue.id, VenueDay.day >= today,
                               VenueDay.closed.is_not(None)).order_by(VenueDay.day)))
