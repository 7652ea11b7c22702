"""Lecturers' and guides' workload: sessions held, hours and people, per person and month.

A session counts when it was not cancelled, has ended and at least one group came (checked
in or completed); its hours are its length, its people the groups' headcounts. An offline
visit that names its lecturer counts as one session of that lecturer, its hours the 学时
recorded. People are named as the slot carries them (``Slot.lecturer_name``); a guide with a
staff account is also known by ``guide_user_id``, which is what the guide's own view filters on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.models import Booking, OfflineVisit, Slot, SlotState
from booking.rules.statistics import SERVED_STATES


@dataclass
class WorkloadRow:
    person: str
    month: str                       # YYYY-MM; "" on a person's total row
    sessions: int = 0
    hours: Decimal = Decimal(0)
    people: int = 0
    guide_user_id: int | None = None


@dataclass
class Workload:
    people: list[WorkloadRow]        # one total per person, busiest first
    months: list[WorkloadRow]        # person × month, by person then month


def _hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    return (Decimal((ends_at - starts_at).total_seconds()) / 3600).quantize(Decimal("0.1"))


def workload(session: Session, start: date, end: date, now: datetime,
             venue_id: int | None = None, guide_user_id: int | None = None) -> Workload:
    """Workload of sessions on days in [start, end] that ended by ``now``."""
    came = (select(Booking.slot_id.label("slot_id"),
                   func.sum(func.coalesce(Booking.arrived_count, Booking.party_size))
                   .label("people"))
            .where(Booking.state.in_(SERVED_STATES)).group_by(Booking.slot_id).subquery())
    query = (select(Slot.day, Slot.starts_at, Slot.ends_at, Slot.lecturer_name,
                    Slot.guide_user_id, came.c.people)
             .join(came, came.c.slot_id == Slot.id)
             .where(Slot.state != SlotState.CANCELLED, Slot.day >= start, Slot.day <= end,
                    Slot.ends_at <= now, Slot.lecturer_name != ""))
    offline = (select(OfflineVisit.day, OfflineVisit.lecturer_name, OfflineVisit.people,
                      OfflineVisit.training_hours)
               .where(OfflineVisit.day >= start, OfflineVisit.day <= end,
                      OfflineVisit.lecturer_name != ""))
    if venue_id is not None:
        query = query.where(Slot.venue_id == venue_id)
        offline = offline.where(OfflineVisit.venue_id == venue_id)
    if guide_user_id is not None:
        query = query.where(Slot.guide_user_id == guide_user_id)
    rows: dict[tuple[str, str], WorkloadRow] = {}

    def add(person: str, day: date, hours: Decimal, people: int, user_id: int | None) -> None:
        month = f"{day.year:04d}-{day.month:02d}"
        row = rows.setdefault((person, month), WorkloadRow(person, month))
        row.sessions += 1
        row.hours += hours
        row.people += int(people or 0)
        row.guide_user_id = row.guide_user_id or user_id

    for day, starts_at, ends_at, person, user_id, people in session.execute(query):
        add(person, day, _hours(starts_at, ends_at), people, user_id)
    if guide_user_id is None:
        for day, person, people, hours in session.execute(offline):
            add(person, day, Decimal(hours or 0), people, None)
    totals: dict[str, WorkloadRow] = {}
    for row in rows.values():
        total = totals.setdefault(row.person, WorkloadRow(row.person, ""))
        total.sessions += row.sessions
        total.hours += row.hours
        total.people += row.people
        total.guide_user_id = total.guide_user_id or row.guide_user_id
    return Workload(people=sorted(totals.values(), key=lambda r: (-r.sessions, r.person)),
                    months=sorted(rows.values(), key=lambda r: (r.person, r.month)))
