"""Finding bookings at the front desk: by reference (with or without the dash), organisation
name, credit code, contact phone (full or its last four digits), date range and state."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from booking.models import Booking, BookingState, Organisation, Slot, SlotState, Venue
from booking.rules.identifiers import normalise_phone
from booking.rules.tokens import REFERENCE_LENGTH, normalise_reference

RESULT_LIMIT = 100


@dataclass(frozen=True)
class BookingQuery:
    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    state: BookingState | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.date_from or self.date_to or self.state)


def _text_condition(text: str):
    text = " ".join(text.split())
    conditions = [Organisation.name.contains(text, autoescape=True)]
    reference = normalise_reference(text)
    if len(reference) == REFERENCE_LENGTH:
        conditions.append(Booking.reference == reference)
    code = text.replace(" ", "").upper()
    if len(code) == 18:
        conditions.append(Organisation.credit_code == code)
    digits = normalise_phone(text)
    if re.fullmatch(r"\d{4}", digits):
        conditions.append(Booking.contact_phone.endswith(digits, autoescape=True))
    elif re.fullmatch(r"\d{5,11}", digits):
        conditions.append(Booking.contact_phone == digits)
    return or_(*conditions)


def find_bookings(session: Session, query: BookingQuery,
                  limit: int = RESULT_LIMIT) -> list[Booking]:
    """Bookings matching every given criterion, latest session first."""
    statement = (select(Booking).join(Organisation, Booking.organisation_id == Organisation.id)
                 .join(Slot, Booking.slot_id == Slot.id)
                 .options(joinedload(Booking.organisation),
                          joinedload(Booking.slot).joinedload(Slot.venue)))
    if query.text.strip():
        statement = statement.where(_text_condition(query.text))
    if query.date_from:
        statement = statement.where(Slot.day >= query.date_from)
    if query.date_to:
        statement = statement.where(Slot.day <= query.date_to)
    if query.state:
        statement = statement.where(Booking.state == query.state)
    return list(session.scalars(statement.order_by(Slot.starts_at.desc(), Booking.id.desc())
                                .limit(limit)).unique())


def upcoming_open_slots(session: Session, today: date, days: int = 90,
                        venue_id: int | None = None) -> list[Slot]:
    """Open sessions from ``today`` on, for the front desk's session choices."""
    statement = (select(Slot).join(Venue, Venue.id == Slot.venue_id)
                 .options(joinedload(Slot.venue))
                 .where(Slot.state == SlotState.OPEN, Slot.day >= today,
                        Slot.day <= date.fromordinal(today.toordinal() + days)))
    if venue_id is not None:
        statement = statement.where(Slot.venue_id == venue_id)
    return list(session.scalars(statement.order_by(Slot.starts_at, Venue.position, Slot.id)))
