"""How much of a venue's calendar one contact may hold: the guard against emptying it.

Pending bookings hold seats, so without a limit one address could book every session (it was
done: 166 sessions in 3.2 s) and real groups would find the calendar full until staff
declined each fake. A *contact* is an organisation or a contact phone: a booking counts
against a new one when either matches. Per venue:

- ``upcoming``: at most this many active (pending or confirmed) bookings still to come;
- ``seats_per_day``: at most this many seats on one day (active and checked-in bookings).

0 switches a limit off. Limits come from ``BOOKING_LIMITS`` in the config, overridden per
venue code by ``BOOKING_LIMITS_BY_VENUE``, per programme code (``Slot.programme``, the
course's code) by ``BOOKING_LIMITS_BY_PROGRAMME`` over that, and per organisation by
staff on its page (``Organisation.limit_upcoming`` / ``limit_seats_per_day``; None keeps
the others) over all (README, "Booking abuse controls"). A programme's limits change the
figures a booking of it is held to, not what is counted: the contact's bookings at the
venue, whatever their programme. The same check guards the booking form, the API, the
waiting list and staff booking for a group (unless staff override it, with a reason).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, union
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import (
    Booking,
    BookingState,
    Organisation,
    Slot,
    WaitlistEntry,
    WaitlistState,
)
from booking.rules.identifiers import normalise_phone

ACTIVE = (BookingState.PENDING, BookingState.CONFIRMED)
HOLDING_SEATS = (*ACTIVE, BookingState.CHECKED_IN)


@dataclass(frozen=True)
class BookingLimits:
    """The limits at one venue (0: off)."""

    upcoming: int = 0
    seats_per_day: int = 0


@dataclass
class LimitsPolicy:
    """The limits everywhere: a default, overrides by venue code, and overrides by programme
    code over the venue's (each a partial dict of ``upcoming`` / ``seats_per_day``)."""

    default: dict = field(default_factory=dict)
    by_venue: dict = field(default_factory=dict)
    by_programme: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> LimitsPolicy:
        return cls(dict(config.get("BOOKING_LIMITS") or {}),
                   dict(config.get("BOOKING_LIMITS_BY_VENUE") or {}),
                   dict(config.get("BOOKING_LIMITS_BY_PROGRAMME") or {}))

    def for_slot(self, slot: Slot) -> BookingLimits:
        """The limits a booking of ``slot`` is held to: its programme's, over its venue's."""
        return _limits({**self.default, **self.by_venue.get(slot.venue.code, {}),
                        **self.by_programme.get(slot.programme or "", {})})


def _limits(values: dict) -> BookingLimits:
    return BookingLimits(upcoming=int(values.get("upcoming", 0)),
                         seats_per_day=int(values.get("seats_per_day", 0)))


def limits_for(policy: LimitsPolicy, slot: Slot,
               organisation: Organisation | None) -> BookingLimits:
    """The slot's limits (programme over venue), with the organisation's own where staff set
    one."""
    limits = policy.for_slot(slot)
    if organisation is None:
        return limits
    return BookingLimits(
        upcoming=limits.upcoming if organisation.limit_upcoming is None
        else organisation.limit_upcoming,
        seats_per_day=limits.seats_per_day if organisation.limit_seats_per_day is None
        else organisation.limit_seats_per_day)


def check_booking_limits(session: Session, slot: Slot, organisation_id: int, phone: str,
                         party_size: int, policy: LimitsPolicy | None,
                         now: datetime) -> None:
    """Refuse a booking (or a place on the waiting list) past the venue's limits."""
    if policy is None:
        return
    limits = limits_for(policy, slot, session.get(Organisation, organisation_id))
    if not (limits.upcoming or limits.seats_per_day):
        return
    found = list(session.execute(_counts(bool(limits.upcoming), bool(limits.seats_per_day)), {
        "organisation_id": organisation_id, "phone": normalise_phone(phone),
        "venue_id": slot.venue_id, "now": now, "day": slot.day}).one())
    if limits.upcoming:
        held, waiting = found.pop(0), found.pop(0)
        if held + waiting >= limits.upcoming:
            raise BookingError("too_many_bookings", _l(
                "同一单位或联系电话在本馆最多可同时有 %(n)s 个未完成的预约（含候补）。"
                "请先完成或取消已有预约。", n=limits.upcoming), status=422, field="contact_phone")
    if limits.seats_per_day:
        if found[0] + party_size > limits.seats_per_day:
            raise BookingError("too_many_seats", _l(
                "同一单位或联系电话在本馆每天最多预约 %(n)s 个座位。", n=limits.seats_per_day),
                status=422, field="party_size")


@functools.cache
def _counts(upcoming: bool, seats_per_day: bool):
    """One SELECT of scalar subqueries (the booking path's statements are few), built once
    per combination of limits: the contact's upcoming bookings and waiting-list places at the
    venue, and its seats on the slot's day."""
    organisation_id, phone = bindparam("organisation_id"), bindparam("phone")
    # From the contact's bookings, found by either index, to the other conditions on those
    # few: with "organisation OR phone" in a WHERE clause beside the state and the venue,
    # SQLite walks every active booking (or every slot of the venue) instead.
    mine = union(select(Booking.id.label("id")).where(Booking.organisation_id == organisation_id),
                 select(Booking.id).where(Booking.contact_phone == phone)).subquery()
    contacts_bookings = (
        select(mine.c.id).select_from(mine).join(Booking, Booking.id == mine.c.id)
        .join(Slot, (Booking.slot_id == Slot.id) & (Slot.venue_id == bindparam("venue_id"))))
    counts = []
    if upcoming:
        counts += [
            contacts_bookings.with_only_columns(func.count()).where(
                Booking.state.in_(ACTIVE), Slot.starts_at > bindparam("now")),
            select(func.count(WaitlistEntry.id)).join(
                Slot, (WaitlistEntry.slot_id == Slot.id)
                & (Slot.venue_id == bindparam("venue_id"))).where(
                or_(WaitlistEntry.organisation_id == organisation_id,
                    WaitlistEntry.contact_phone == phone),
                WaitlistEntry.state.in_((WaitlistState.WAITING, WaitlistState.OFFERED)),
                Slot.starts_at > bindparam("now"))]
    if seats_per_day:
        counts.append(contacts_bookings.with_only_columns(
            func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.state.in_(HOLDING_SEATS), Slot.day == bindparam("day")))
    return select(*(c.scalar_subquery() for c in counts))
