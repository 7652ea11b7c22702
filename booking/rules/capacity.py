"""Seat counters: claimed and released only by atomic conditional UPDATEs.

Rule 1 of the design: seats taken in a slot never exceed its capacity, and visitors booked
on a day never exceed the venue's daily cap, under any concurrency, on SQLite and
PostgreSQL. Each claim is one ``UPDATE … SET taken = taken + n WHERE … AND taken + n <=
capacity`` per counter inside the caller's transaction; a row count of 0 means "no".
Never read a counter into Python and write it back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import (
    HOLDING_STATES,
    Booking,
    Slot,
    SlotState,
    Venue,
    VenueDay,
    WaitlistEntry,
    WaitlistState,
)


def ensure_venue_day(session: Session, venue: Venue, day: date) -> VenueDay:
    """The day's counter row, created with the venue's current cap when missing."""
    venue_day = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=day))
    if venue_day is None:
        venue_day = VenueDay(venue_id=venue.id, day=day, capacity=venue.daily_cap, taken=0)
        session.add(venue_day)
        session.flush()
    return venue_day


# The counters are changed with table-level (Core) statements on the session's connection:
# the same transaction, at about half the cost of ORM-enabled UPDATEs on this hot path. Each
# is built once, with bound parameters named apart from the columns (building a statement
# costs more CPU than running it).
_slot = Slot.__table__
_day = VenueDay.__table__
_seats = bindparam("add_seats")
_ADD_TO_SLOT = (update(_slot).where(_slot.c.id == bindparam("of_slot"))
                .values(taken=_slot.c.taken + _seats))
_CLAIM_IN_SLOT = _ADD_TO_SLOT.where(_slot.c.state == SlotState.OPEN,
                                    _slot.c.taken + _seats <= _slot.c.capacity)
_ADD_TO_DAY = (update(_day).where(_day.c.venue_id == bindparam("of_venue"),
                                  _day.c.day == bindparam("of_day"))
               .values(taken=_day.c.taken + _seats))
_CLAIM_IN_DAY = _ADD_TO_DAY.where(_day.c.taken + _seats <= _day.c.capacity)


def _add_to_slot(connection, slot_id: int, seats: int, *, guarded: bool) -> bool:
    statement = _CLAIM_IN_SLOT if guarded else _ADD_TO_SLOT
    return connection.execute(statement, {"of_slot": slot_id, "add_seats": seats}).rowcount == 1


def _add_to_day(connection, slot: Slot, seats: int, *, guarded: bool) -> bool:
    statement = _CLAIM_IN_DAY if guarded else _ADD_TO_DAY
    return connection.execute(statement, {"of_venue": slot.venue_id, "of_day": slot.day,
                                          "add_seats": seats}).rowcount == 1


def claim_seats(session: Session, slot: Slot, seats: int) -> None:
    """Take ``seats`` in the slot and in its day, both or neither. Raises BookingError if full."""
    if seats <= 0:
        return
    connection = session.connection()
    if not _add_to_slot(connection, slot.id, seats, guarded=True):
        raise BookingError("slot_full", _l("该场次余位不足，请选择其他场次或减少人数。"),
                           field="party_size")
    if not _add_to_day(connection, slot, seats, guarded=True):
        # Undo the slot's share in this same transaction (cheaper than a savepoint), so a
        # caller that carries on after the refusal, like the waiting list, sees no drift.
        _add_to_slot(connection, slot.id, -seats, guarded=False)
        session.expire(slot, ["taken"])
        raise BookingError("day_full", _l("当天接待人数已达上限，请选择其他日期。"),
                           field="party_size")
    session.expire(slot, ["taken"])


def release_seats(session: Session, slot: Slot, seats: int) -> None:
    """Give ``seats`` back to the slot and its day."""
    if seats <= 0:
        return
    connection = session.connection()
    _add_to_slot(connection, slot.id, -seats, guarded=False)
    _add_to_day(connection, slot, -seats, guarded=False)
    session.expire(slot, ["taken"])


def set_slot_capacity(session: Session, slot: Slot, capacity: int) -> None:
    """Raise capacity freely; lower it no further than the seats taken (atomically checked)."""
    changed = session.execute(
        update(Slot).where(Slot.id == slot.id, Slot.taken <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise BookingError("capacity_below_taken",
                           _l("容量不能低于已预约人数。"), field="capacity")
    session.expire(slot, ["capacity", "taken"])


@dataclass(frozen=True)
class Drift:
    """A counter that disagrees with what the bookings say."""

    what: str
    counted: int
    stored: int

    def __str__(self) -> str:
        return f"{self.what}: stored {self.stored}, bookings say {self.counted}"


def _held_by_slot(session: Session) -> dict[int, int]:
    held: dict[int, int] = {}
    booked = (select(Booking.slot_id, func.sum(Booking.seats))
              .where(Booking.state.in_(HOLDING_STATES)).group_by(Booking.slot_id))
    offered = (select(WaitlistEntry.slot_id, func.sum(WaitlistEntry.seats_held))
               .where(WaitlistEntry.state == WaitlistState.OFFERED)
               .group_by(WaitlistEntry.slot_id))
    for slot_id, seats in [*session.execute(booked), *session.execute(offered)]:
        held[slot_id] = held.get(slot_id, 0) + int(seats or 0)
    return held


def find_drift(session: Session) -> list[Drift]:
    """Recompute every slot and day counter from the bookings; list the ones that differ."""
    drift: list[Drift] = []
    # Seats of bookings that no longer hold any must be zero.
    stray = session.scalar(select(func.count()).select_from(Booking)
                           .where(Booking.state.not_in(HOLDING_STATES), Booking.seats != 0))
    if stray:
        drift.append(Drift("released bookings still holding seats", 0, stray))
    held = _held_by_slot(session)
    per_day: dict[tuple[int, date], int] = {}
    for slot in session.scalars(select(Slot).order_by(Slot.id)):
        counted = held.get(slot.id, 0)
        per_day[(slot.venue_id, slot.day)] = per_day.get((slot.venue_id, slot.day), 0) + counted
        if slot.taken != counted:
            drift.append(Drift(f"slot {slot.id} ({slot.starts_at:%Y-%m-%d %H:%M} UTC)",
                               counted, slot.taken))
    days = {(d.venue_id, d.day): d for d in session.scalars(select(VenueDay))}
    for key in sorted(set(days) | set(per_day)):
        stored = days[key].taken if key in days else 0
        counted = per_day.get(key, 0)
        if key not in days and counted:
            drift.append(Drift(f"venue {key[0]} day {key[1]} (no counter row)", counted, 0))
        elif stored != counted:
            drift.append(Drift(f"venue {key[0]} day {key[1]}", counted, stored))
    return drift
