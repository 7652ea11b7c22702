"""Waiting-list forms. The join form is the booking form's organisation and contact part:
the same fields and validators, without the attendee list and notes (a queued group has no
seats yet)."""
from __future__ import annotations

from flask_wtf import FlaskForm

from booking.web.public.forms import BookingForm


class WaitlistForm(BookingForm):
    """Join a full slot's waiting list. ``party_size_min`` / ``_max`` as for BookingForm."""

    attendees = None  # WTForms drops a field set to None in a subclass
    attendee_file = None
    notes = None


class WaitlistActionForm(FlaskForm):
    """Accept, decline or withdraw, offer now: a button with only the CSRF token."""
