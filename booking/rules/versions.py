"""Versions of what the public pages of slots show, read cheaply on every request.

A calendar, day or programme page depends on its slots' rows (seats taken, capacity, state,
titles, rooms), the venue's days (counters, closures), the venue's rules, today's date (the
booking window) and which slots have started. :func:`calendar_version` digests exactly that,
from plain rows (no ORM objects, no rules), so that a face may serve a page rendered for the
same version -- or answer 304 -- without it ever being wrong by one seat: every seat change
updates a slot's ``taken`` and its day's ``taken`` in the booking's own transaction, and the
version is read on every request, so a page is never staler than the reader's own snapshot
(the cache's staleness bound for seats is zero).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import String, case, select, type_coerce
from sqlalchemy.orm import Session

from booking.clock import local_today
from booking.models import Room, Slot, SlotState, Venue, VenueDay
from booking.rules.availability import UPCOMING_LIMIT

_SLOT = Slot.__table__
_DAY = VenueDay.__table__
_ROOM = Room.__table__


def _digest(*parts) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def row_facts(record) -> tuple:
    """A mapped object's own columns as loaded in this request (a venue's rules and names, a
    programme's description): what a page shows of it, for a version's ``extra``."""
    return tuple(getattr(record, column.key) for column in record.__table__.columns)


def _raw(table) -> list:
    """The table's columns as the driver returns them: no conversion, only compared."""
    return [type_coerce(column, String()) for column in table.columns]


def _slot_rows(session: Session, now: datetime, *where, limit: int | None = None
               ) -> list[tuple]:
    """The slots' rows, each with whether it has started by ``now`` and, last, its day."""
    started = case((_SLOT.c.starts_at <= now, 1), else_=0)
    query = (select(*_raw(_SLOT), type_coerce(_ROOM.c.name, String()),
                    type_coerce(_ROOM.c.name_en, String()), started, _SLOT.c.day)
             .select_from(_SLOT.outerjoin(_ROOM, _ROOM.c.id == _SLOT.c.room_id))
             .where(*where).order_by(_SLOT.c.starts_at, _SLOT.c.id))
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in session.execute(query)]


def _day_rows(session: Session, venue: Venue, first: date, last: date) -> list[tuple]:
    return [tuple(row) for row in session.execute(
        select(*_raw(_DAY)).where(_DAY.c.venue_id == venue.id, _DAY.c.day.between(first, last))
        .order_by(_DAY.c.day))]


def calendar_version(session: Session, venue: Venue, first: date, last: date,
                     programme: str | None, now: datetime, *extra) -> str:
    """A digest of everything the availability of ``venue``'s days ``first``..``last`` shows
    (two light queries). ``extra`` adds what else the caller's page shows."""
    where = [_SLOT.c.venue_id == venue.id, _SLOT.c.day.between(first, last),
             _SLOT.c.state != SlotState.CANCELLED]
    if programme:
        where.append(_SLOT.c.programme == programme)
    rows = _slot_rows(session, now, *where)
    return _digest(row_facts(venue), local_today(now, venue.tz), programme, rows,
                   _day_rows(session, venue, first, last), extra)


def upcoming_version(session: Session, venue: Venue, programme: str, now: datetime,
                     *extra, limit: int = UPCOMING_LIMIT) -> str:
    """The version of :func:`upcoming_slots`: the same rows it reads, digested."""
    rows = _slot_rows(session, now, _SLOT.c.venue_id == venue.id, _SLOT.c.programme == programme,
                      _SLOT.c.state == SlotState.OPEN, _SLOT.c.starts_at > now,
                      limit=limit * 8)
    days = _day_rows(session, venue, rows[0][-1], rows[-1][-1]) if rows else []
    return _digest(row_facts(venue), local_today(now, venue.tz), programme, rows, days, extra)
