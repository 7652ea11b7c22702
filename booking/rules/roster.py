"""The daily roster: a venue's sessions on one day, each with its room, lecturer, equipment
and groups, and the day's totals against the daily cap.

:func:`load_day` reads everything the staff page needs in a constant number of queries (four
at most, however many groups and attendees the day holds): the slots with their rooms, the
bookings with their organisations, the attendees as light rows, and the day's counter.
:func:`roster_day` turns that into the renderers' plain data (:class:`RosterDay`), and
:func:`build_roster` does both for the PDF, the spreadsheet and the JSON API.

Cancelled sessions are left out. Cancelled and declined bookings are not groups of the day:
they are kept apart (``SessionPlan.withdrawn``) so the page can show them struck through;
the PDF and the spreadsheet leave them out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking import dates
from booking.clock import local, local_today, utcnow
from booking.i18n import current_language, localized, localized_lines
from booking.models import (
    HOLDING_STATES,
    Attendee,
    Booking,
    Slot,
    SlotState,
    StaffUser,
    Venue,
    VenueDay,
)
from booking.render.roster_pdf import RosterDay, RosterGroup, RosterSession
from booking.rules.checkin import sees_full_phone
from booking.rules.identifiers import mask_phone
from booking.rules.vocabulary import roster_state_label


@dataclass(frozen=True)
class AttendeeRow:
    """An attendee as the roster page needs it: a plain row, not a tracked ORM object."""

    id: int
    name: str
    attended: bool
    walk_in: bool


@dataclass
class GroupPlan:
    booking: Booking
    attendees: list[AttendeeRow] = field(default_factory=list)

    @property
    def ticked(self) -> int:
        return sum(1 for a in self.attendees if a.attended)


@dataclass
class SessionPlan:
    slot: Slot
    groups: list[GroupPlan] = field(default_factory=list)
    withdrawn: list[Booking] = field(default_factory=list)  # cancelled or declined

    @property
    def booked(self) -> int:
        return sum(g.booking.party_size for g in self.groups)

    @property
    def arrived(self) -> int:
        return sum(g.booking.arrived_count or 0 for g in self.groups)

    @property
    def equipment(self) -> list[str]:
        return localized_lines(self.slot, "equipment")


@dataclass
class DayPlan:
    """One venue's day as the staff roster page shows it."""

    venue: Venue
    day: date
    daily_cap: int
    day_taken: int  # the day's seat counter (bookings and waiting-list offers, all sessions)
    sessions: list[SessionPlan]

    @property
    def booked_total(self) -> int:
        return sum(s.booked for s in self.sessions)

    @property
    def arrived_total(self) -> int:
        return sum(s.arrived for s in self.sessions)

    @property
    def group_count(self) -> int:
        return sum(len(s.groups) for s in self.sessions)


def _day_slots(venue: Venue, day: date, guide_user: StaffUser | None):
    conditions = [Slot.venue_id == venue.id, Slot.day == day,
                  Slot.state != SlotState.CANCELLED]
    if guide_user is not None:
        conditions.append(Slot.guide_user_id == guide_user.id)
    return conditions


def load_day(session: Session, venue: Venue, day: date, guide_user: StaffUser | None = None,
             *, with_attendees: bool = True) -> DayPlan:
    """Read a venue's day for the roster. ``guide_user`` narrows it to the guide's sessions."""
    where = _day_slots(venue, day, guide_user)
    slots = session.scalars(select(Slot).options(joinedload(Slot.room)).where(*where)
                            .order_by(Slot.starts_at, Slot.id)).all()
    plans = {slot.id: SessionPlan(slot) for slot in slots}
    groups: dict[int, GroupPlan] = {}
    if slots:
        bookings = session.scalars(
            select(Booking).join(Slot, Booking.slot_id == Slot.id).where(*where)
            .options(joinedload(Booking.organisation))
            .order_by(Booking.created_at, Booking.id)).all()
        for booking in bookings:
            plan = plans[booking.slot_id]
            if booking.state in HOLDING_STATES:
                groups[booking.id] = GroupPlan(booking)
                plan.groups.append(groups[booking.id])
            else:
                plan.withdrawn.append(booking)
        if with_attendees and groups:
            rows = session.execute(
                select(Attendee.id, Attendee.booking_id, Attendee.name, Attendee.attended,
                       Attendee.walk_in)
                .join(Booking, Attendee.booking_id == Booking.id)
                .join(Slot, Booking.slot_id == Slot.id)
                .where(*where, Booking.state.in_(HOLDING_STATES))
                .order_by(Attendee.booking_id, Attendee.position, Attendee.id))
            for attendee_id, booking_id, name, attended, walk_in in rows:
                groups[booking_id].attendees.append(
                    AttendeeRow(attendee_id, name, bool(attended), bool(walk_in)))
    venue_day = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=day))
    return DayPlan(venue=venue, day=day,
                   daily_cap=venue_day.capacity if venue_day else venue.daily_cap,
                   day_taken=venue_day.taken if venue_day else 0,
                   sessions=list(plans.values()))


def _hhmm(moment: datetime, venue: Venue) -> str:
    return local(moment, venue.tz).strftime("%H:%M")


def roster_day(plan: DayPlan, now: datetime | None = None,
               mask_phones: bool = False) -> RosterDay:
    """The plan as the renderers' plain data (no database access); phones masked when the
    reader may not see them in full."""
    venue = plan.venue
    phone = mask_phone if mask_phones else (lambda number: number)
    sessions = []
    for item in plan.sessions:
        slot = item.slot
        sessions.append(RosterSession(
            starts_at_text=_hhmm(slot.starts_at, venue), ends_at_text=_hhmm(slot.ends_at, venue),
            title=localized(slot, "title"), room=localized(slot.room, "name") if slot.room else "",
            lecturer=slot.lecturer_name, equipment=item.equipment,
            capacity=slot.capacity, seats_taken=slot.taken,
            groups=[RosterGroup(
                reference=g.booking.display_reference, organisation=g.booking.organisation.name,
                contact_name=g.booking.contact_name, contact_phone=phone(g.booking.contact_phone),
                party_size=g.booking.party_size, arrived=g.booking.arrived_count,
                state=roster_state_label(g.booking.state), notes=g.booking.notes,
                adults=g.booking.adults, minors=g.booking.minors)
                for g in item.groups]))
    return RosterDay(venue=localized(venue, "name"), date_text=dates.long_date(plan.day, current_language()),
                     daily_cap=plan.daily_cap, booked_total=plan.booked_total,
                     arrived_total=plan.arrived_total, sessions=sessions,
                     generated_at_text=local(now or utcnow(), venue.tz).strftime("%Y-%m-%d %H:%M"))


def build_roster(session: Session, venue: Venue, day: date, guide_user: StaffUser | None = None,
                 now: datetime | None = None) -> RosterDay:
    """The day's roster as plain data for the PDF, the spreadsheet and the API."""
    today = local_today(now or utcnow(), venue.tz)
    return roster_day(load_day(session, venue, day, guide_user, with_attendees=False), now,
                      mask_phones=not sees_full_phone(guide_user, day, today))
