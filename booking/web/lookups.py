"""What staff pages and the staff API look up from a URL the same way: a venue by code, a day
by ISO date, a booking by reference (a miss is a 404 in both), and the guide whose sessions
alone the signed-in user may run."""
from __future__ import annotations

from datetime import date

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.models import Booking, Role, Slot, StaffUser, Venue
from booking.models.db import db
from booking.rules.tokens import normalise_reference


def guide_filter() -> StaffUser | None:
    """The signed-in guide (whose sessions alone they see), or None for staff and admins."""
    return current_user if current_user.role is Role.GUIDE else None


def venue_or_404(code: str) -> Venue:
    venue = db.session.scalar(select(Venue).filter_by(code=code.upper()))
    if venue is None:
        abort(404)
    return venue


def day_or_404(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


def booking_or_404(reference: str) -> Booking:
    booking = db.session.scalar(
        select(Booking).filter_by(reference=normalise_reference(reference))
        .options(joinedload(Booking.slot).joinedload(Slot.venue)))
    if booking is None:
        abort(404)
    return booking
