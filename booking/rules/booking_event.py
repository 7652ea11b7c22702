"""A booking as a calendar entry: the one mapping Booking → :class:`BookingEvent` that the
manage page's .ics download and the reminder e-mail's attachment share, so both carry the same
UID and SEQUENCE and importing one updates an entry imported from the other.

:mod:`booking.render.ics` renders the event; it knows nothing of models or Flask.
"""
from __future__ import annotations

from urllib.parse import urlparse

from booking.i18n import localized
from booking.models import Booking, BookingState
from booking.render.ics import BookingEvent

ICS_STATUS = {BookingState.PENDING: "tentative", BookingState.CONFIRMED: "confirmed",
              BookingState.CHECKED_IN: "confirmed", BookingState.COMPLETED: "confirmed",
              BookingState.DECLINED: "cancelled", BookingState.CANCELLED: "cancelled",
              BookingState.NO_SHOW: "cancelled"}


def booking_event(booking: Booking, base_url: str | None,
                  manage_link: str | None = None) -> BookingEvent:
    """The plain data the .ics renderer needs for one booking. The UID is on the host of
    ``base_url`` (the museum's public address); ``manage_link`` goes in only when given."""
    slot = booking.slot
    host = urlparse(base_url or "").hostname or "localhost"
    return BookingEvent(
        uid=f"booking-{booking.reference}@{host}", sequence=booking.sequence,
        starts_at=slot.starts_at, ends_at=slot.ends_at, title=localized(slot, "title"),
        venue=localized(slot.venue, "name"), address=localized(slot.venue, "address"),
        room=localized(slot.room, "name") if slot.room else None,
        lecturer=slot.lecturer_name or None,
        modules=[line.strip() for line in slot.modules_text.splitlines() if line.strip()],
        party_size=booking.party_size, reference=booking.display_reference,
        manage_url=manage_link, status=ICS_STATUS[booking.state], notes=booking.notes or None,
        updated_at=booking.updated_at)
