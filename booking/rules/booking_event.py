"""A booking as a calendar entry: the one mapping Booking → :class:`BookingEvent` that the
manage page's .ics download and the reminder e-mail's attachment share, so both carry the same
UID and SEQUENCE and importing one updates an entry imported from the other.

:mod:`booking.render.ics` renders the event; it knows nothing of models or Flask.
"""
from __future__ import annotations

from urllib.parse import urlparse

from booking.i18n import DEFAULT_LANGUAGE, LANGUAGES, localized, localized_lines
from booking.models import Booking, BookingState
from booking.render.ics import BookingEvent

ICS_STATUS = {BookingState.PENDING: "tentative", BookingState.CONFIRMED: "confirmed",
              BookingState.CHECKED_IN: "confirmed", BookingState.COMPLETED: "confirmed",
              BookingState.DECLINED: "cancelled", BookingState.CANCELLED: "cancelled",
              BookingState.NO_SHOW: "cancelled"}


def booking_event(booking: Booking, base_url: str | None,
                  manage_link: str | None = None) -> BookingEvent:
    """The plain data the .ics renderer needs for one booking, in the booking's language. The UID is on the host of
    ``base_url`` (the museum's public address); ``manage_link`` goes in only when given."""
    slot = booking.slot
    language = booking.language if booking.language in LANGUAGES else DEFAULT_LANGUAGE
    host = urlparse(base_url or "").hostname or "localhost"
    return BookingEvent(
        uid=f"booking-{booking.reference}@{host}", sequence=booking.sequence,
        starts_at=slot.starts_at, ends_at=slot.ends_at, title=localized(slot, "title", language),
        venue=localized(slot.venue, "name", language),
        address=localized(slot.venue, "address", language),
        room=localized(slot.room, "name", language) if slot.room else None,
        lecturer=slot.lecturer_name or None,
        modules=localized_lines(slot, "modules_text", language), language=language,
        party_size=booking.party_size, reference=booking.display_reference,
        manage_url=manage_link, status=ICS_STATUS[booking.state], notes=booking.notes or None,
        updated_at=booking.updated_at)
