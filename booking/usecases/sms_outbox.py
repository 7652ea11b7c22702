"""Text messages to organisations, queued in the SMS outbox with the change they report.

:mod:`booking.usecases.notifications` calls these beside each e-mail it queues, so every
message kind reaches a group by the channels it chose (:func:`booking.rules.channels.
channels_for`), in the same transaction as the change. ``flask --app run send-sms``
(:mod:`booking.usecases.sms_sender`) sends them. No secret goes into a text message: the
templates point to the recovery page (``/find``) instead of a manage or offer link.
"""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from booking.clock import local
from booking.models import Booking, Slot, SmsMessage, WaitlistEntry
from booking.rules.channels import channels_for
from booking.rules.sms_content import TEMPLATE_VARIABLES, encode_params, template_params


def wants_sms(notify_by: str, email: str, phone: str) -> bool:
    return channels_for(notify_by, email, phone).sms


def queue_booking_sms(session: Session, booking: Booking, kind: str) -> bool:
    """The ``kind`` text about ``booking``, if the organisation hears by SMS (inserted in the
    caller's transaction). Returns whether one was queued."""
    if kind not in TEMPLATE_VARIABLES or not wants_sms(
            booking.notify_by, booking.contact_email, booking.contact_phone):
        return False
    values = {**_slot_values(booking.slot), "ref": booking.display_reference,
              "reason": booking.state_reason}
    return _add(session, phone=booking.contact_phone.strip(), kind=kind,
                booking_id=booking.id,
                template_params=encode_params(template_params(kind, values)))


def queue_waitlist_sms(session: Session, entry: WaitlistEntry, kind: str,
                       reason: str = "") -> bool:
    """The ``kind`` text ("waitlist_offer", "waitlist_closed") to a waiting-list entry (a
    flushed one). Returns whether one was queued."""
    if not wants_sms(entry.notify_by, entry.contact_email, entry.contact_phone):
        return False
    slot = entry.slot
    deadline = (local(entry.offer_expires_at, slot.venue.tz).strftime("%m-%d %H:%M")
                if entry.offer_expires_at else "")
    values = {**_slot_values(slot), "deadline": deadline, "reason": reason}
    return _add(session, phone=entry.contact_phone.strip(), kind=kind,
                waitlist_entry_id=entry.id,
                template_params=encode_params(template_params(kind, values)))


def _slot_values(slot: Slot) -> dict[str, str]:
    """Date, time and venue as the (Chinese) templates print them."""
    tz = slot.venue.tz
    starts_at, ends_at = local(slot.starts_at, tz), local(slot.ends_at, tz)
    return {"date": f"{starts_at:%Y-%m-%d}", "time": f"{starts_at:%H:%M}-{ends_at:%H:%M}",
            "venue": slot.venue.name}


#: A plain INSERT on the session's connection, built once: a text goes with every booking, and
#: the unit of work's flush of one new object costs several times more.
_INSERT = insert(SmsMessage.__table__)


def _add(session: Session, **values) -> bool:
    session.connection().execute(_INSERT, values)
    return True
