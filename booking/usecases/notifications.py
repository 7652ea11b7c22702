"""E-mail (and SMS) to organisations, queued in the outbox in the same transaction as the change.

Edges (views, API, CLI) call these after the rule and before their one commit, so a message
exists exactly when the change it reports was committed: a rolled-back action leaves none,
and nothing leaves the building before the commit, because only ``flask --app run send-mail``
(:mod:`booking.usecases.mailer`) sends, and it reads committed rows only.

Rendering needs an application context (templates, Flask-Babel) but no request: messages are
rendered in the recipient's language (``Booking.language`` / ``WaitlistEntry.language``) with
``force_locale``, and links are built on the ``base_url`` passed in, else the public address
(:func:`booking.public_address.public_base_url`: ``PUBLIC_BASE_URL``, or the request's own
address when it is unset; outside a request an unset address raises rather than guess one).

Which link a message carries. A booking's manage token exists in clear only at the moment
the booking is made (or its link is recovered): it is stored hashed. So only the message sent
at creation carries the secret manage link; every later message points to the recovery page
(``/find``: reference + contact phone give a fresh link) and names the museum's phone, rather
than a link we could not build honestly.

Each message also goes out as a text message when the organisation chose SMS (or gave no
e-mail address): :mod:`booking.usecases.sms_outbox` queues it beside the e-mail, and
:func:`booking.rules.channels.channels_for` decides which channels a message takes.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking import dates
from booking.clock import local, local_today
from booking.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    localized,
    localized_lines,
)
from booking.models import Booking, BookingState, OutboxMessage, Slot, WaitlistEntry
from booking.public_address import configured_base_url, public_base_url
from booking.render.booking_pass import qr_svg
from booking.render.ics import render_booking_ics
from booking.rules import feedback, opening
from booking.rules.booking_event import booking_event
from booking.rules.channels import channels_for
from booking.usecases import sms_outbox

BookingMailKind = Literal["received", "confirmed", "declined", "cancelled",
                          "cancelled_by_museum", "reminder", "certificates_ready", "changed",
                          "moved"]
BOOKING_MAIL_KINDS = ("received", "confirmed", "declined", "cancelled", "cancelled_by_museum",
                      "reminder", "certificates_ready", "changed", "moved")
WAITLIST_OFFER = "waitlist_offer"
WAITLIST_CLOSED = "waitlist_closed"
PENDING_DIGEST = "pending_digest"
#: Messages that carry the booking's .ics (same UID, the booking's current SEQUENCE).
ICS_ATTACHED_KINDS = ("confirmed", "reminder")
#: Messages that carry the door pass (the QR as an SVG attachment). A message has one
#: attachment: "confirmed" carries the calendar file, and its text points to the pass on the
#: manage page (QR and printable PDF).
PASS_MAIL_KINDS = ("moved",)
#: Bookings that get the day-before reminder.
REMINDED_STATES = (BookingState.CONFIRMED,)


# --- queueing ------------------------------------------------------------------------------

def queue_booking_mail(session: Session, booking: Booking, kind: BookingMailKind,
                       base_url: str | None = None, *,
                       manage_token: str | None = None) -> OutboxMessage | None:
    """Add the ``kind`` message about ``booking`` to the outbox (flushed, not committed):
    the e-mail, and the text message when the organisation hears by SMS.

    ``manage_token`` — the clear manage token, when the caller holds it (right after the
    booking was made) — puts the secret manage link in the e-mail (never in a text).
    Returns the e-mail, or None when the organisation gets none (no address, SMS only).
    """
    if kind not in BOOKING_MAIL_KINDS:
        raise ValueError(f"unknown booking mail kind {kind!r}")
    sms_outbox.queue_booking_sms(session, booking, kind)
    if not channels_for(booking.notify_by, booking.contact_email, booking.contact_phone).email:
        return None
    base_url = _base(base_url)
    with force_locale(_language(booking.language)):
        context = _booking_context(booking, base_url, manage_token)
        attachment = (_booking_ics(booking) if kind in ICS_ATTACHED_KINDS
                      else _pass_svg(booking) if kind in PASS_MAIL_KINDS else None)
        subject, body = _render(kind, context)
    message = OutboxMessage(recipient=booking.contact_email.strip(), subject=subject,
                            body_text=body, kind=kind, booking_id=booking.id)
    if attachment is not None:
        message.attachment_name, message.attachment_type, message.attachment_body = attachment
    return _add(session, message)


def queue_new_booking_mail(session: Session, booking: Booking, manage_token: str,
                           base_url: str | None = None) -> OutboxMessage | None:
    """The message for a booking just made: "received" while it awaits approval, else
    "confirmed"; both carry the manage link (the token is at hand only now)."""
    kind = "received" if booking.state is BookingState.PENDING else "confirmed"
    return queue_booking_mail(session, booking, kind, base_url, manage_token=manage_token)


def queue_booking_mails(session: Session, bookings: Iterable[Booking], kind: BookingMailKind,
                        base_url: str | None = None) -> int:
    """``kind`` to each of ``bookings`` (e.g. everyone in a slot the museum cancelled).
    Returns how many were queued."""
    return sum(queue_booking_mail(session, booking, kind, base_url) is not None
               for booking in bookings)


def queue_waitlist_offer(session: Session, entry: WaitlistEntry, offer_token: str,
                         base_url: str | None = None) -> OutboxMessage | None:
    """Tell a waiting-list entry its seats are held: the accept link and the deadline (a
    text message gives the deadline only: the link is a secret)."""
    sms_outbox.queue_waitlist_sms(session, entry, WAITLIST_OFFER)
    if not _entry_wants_email(entry):
        return None
    base_url = _base(base_url)
    with force_locale(_language(entry.language)):
        slot = entry.slot
        context = {**_slot_context(slot, base_url), "organisation": entry.organisation.name,
                   "contact_name": entry.contact_name, "party_size": entry.party_size,
                   "reference": "",
                   "accept_url": absolute_url(base_url, "waitlist.entry", token=offer_token),
                   "deadline": _local_text(entry.offer_expires_at, slot)}
        subject, body = _render(WAITLIST_OFFER, context)
    return _add(session, OutboxMessage(recipient=entry.contact_email.strip(), subject=subject,
                                       body_text=body, kind=WAITLIST_OFFER))


def queue_waitlist_closed(session: Session, entry: WaitlistEntry, reason: str,
                          base_url: str | None = None, reason_en: str = "") -> OutboxMessage | None:
    """Tell a waiting-list entry that the museum cancelled its session (or closed the day),
    so its place in the queue, and any seats held for it, are gone."""
    sms_outbox.queue_waitlist_sms(session, entry, WAITLIST_CLOSED, reason)
    if not _entry_wants_email(entry):
        return None
    base_url = _base(base_url)
    with force_locale(_language(entry.language)):
        context = {**_slot_context(entry.slot, base_url), "organisation": entry.organisation.name,
                   "contact_name": entry.contact_name, "party_size": entry.party_size,
                   "reference": "",
                   "reason": reason_en if reason_en and entry.language == "en" else reason}
        subject, body = _render(WAITLIST_CLOSED, context)
    return _add(session, OutboxMessage(recipient=entry.contact_email.strip(), subject=subject,
                                       body_text=body, kind=WAITLIST_CLOSED))


def queue_pending_digest(session: Session, venue, bookings: list[Booking], recipients: list[str],
                         base_url: str | None = None) -> int:
    """One message to each staff address: the venue's new bookings awaiting approval, each
    with its staff link. Staff read it in the source language. Returns how many were queued."""
    base_url = _base(base_url)
    with force_locale(DEFAULT_LANGUAGE):
        groups = [{"reference": b.display_reference, "organisation": b.organisation.name,
                   "party_size": b.party_size, "when": _local_text(b.slot.starts_at, b.slot),
                   "programme": localized(b.slot, "title"),
                   "url": absolute_url(base_url, "staff.booking_detail", reference=b.reference)}
                  for b in bookings]
        subject, body = _render(PENDING_DIGEST, {
            "venue": localized(venue, "name"), "groups": groups,
            "approvals_url": absolute_url(base_url, "staff.approvals")})
    for recipient in recipients:
        _add(session, OutboxMessage(recipient=recipient, subject=subject, body_text=body,
                                    kind=PENDING_DIGEST))
    return len(recipients)


def queue_certificates_ready(session: Session, bookings: Iterable[Booking],
                             base_url: str | None = None) -> int:
    """"Certificates ready" once to each booking (a set of bookings: duplicates collapse)."""
    unique = {booking.id: booking for booking in bookings}
    return queue_booking_mails(session, unique.values(), "certificates_ready", base_url)


def queue_reminders(session: Session, now: datetime, base_url: str | None = None) -> int:
    """Queue the day-before reminder (with the booking's .ics) for tomorrow's confirmed
    bookings that have not had one (by e-mail, SMS or both). Idempotent: each booking is
    marked by a conditional UPDATE of ``reminder_queued_at``, so reruns and overlapping runs
    never queue twice. Returns how many bookings were reminded; the caller commits.
    """
    tomorrow = local_today(now) + timedelta(days=1)
    candidates = session.scalars(
        select(Booking).join(Slot, Slot.id == Booking.slot_id)
        .where(Slot.day == tomorrow, Booking.state.in_(REMINDED_STATES),
               Booking.reminder_queued_at.is_(None))
        .order_by(Booking.id)).all()
    queued = 0
    for booking in candidates:
        claimed = session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.reminder_queued_at.is_(None))
            .values(reminder_queued_at=now).execution_options(synchronize_session=False))
        session.expire(booking, ["reminder_queued_at"])
        if claimed.rowcount == 1:
            queue_booking_mail(session, booking, "reminder", base_url)
            queued += 1
    session.flush()
    return queued


def _entry_wants_email(entry: WaitlistEntry) -> bool:
    return channels_for(entry.notify_by, entry.contact_email, entry.contact_phone).email


def _add(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.flush()
    return message


# --- rendering -----------------------------------------------------------------------------

def _base(base_url: str | None) -> str:
    return (base_url or public_base_url()).rstrip("/")


def _language(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def absolute_url(base_url: str, endpoint: str, **values) -> str:
    """``base_url`` + the path of ``endpoint``: works without a request (and SERVER_NAME)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base_url.rstrip("/") + path


def _local_text(moment: datetime | None, slot: Slot) -> str:
    if moment is None:
        return ""
    return dates.date_and_time(moment, current_language(), slot.venue.tz)


def _slot_context(slot: Slot, base_url: str) -> dict:
    venue, tz = slot.venue, slot.venue.tz
    starts_at, ends_at = local(slot.starts_at, tz), local(slot.ends_at, tz)
    return {
        "programme": localized(slot, "title"),
        "venue": localized(venue, "name"),
        "address": localized(venue, "address"),
        "room": localized(slot.room, "name") if slot.room else "",
        "lecturer": slot.lecturer_name,
        "modules": localized_lines(slot, "modules_text"),
        "date": dates.long_date(starts_at.date(), current_language()),
        "time": f"{starts_at:%H:%M}–{ends_at:%H:%M}",
        "phone": venue.phone,
        "find_url": absolute_url(base_url, "booking.find"),
    }


def _booking_context(booking: Booking, base_url: str, manage_token: str | None) -> dict:
    return {
        **_slot_context(booking.slot, base_url),
        "reference": booking.display_reference,
        "organisation": booking.organisation.name,
        "contact_name": booking.contact_name,
        "party_size": booking.party_size,
        "reason": _reason(booking),
        "change_deadline": dates.long_date(
            opening.cancellation_deadline(booking.slot.venue, booking.slot.day),
            current_language()),
        "manage_url": absolute_url(base_url, "booking.manage", reference=booking.reference,
                                   token=manage_token) if manage_token else "",
        "certificates_url": _optional_url(base_url, "certificates.visitor"),
        "feedback_url": absolute_url(base_url, "booking.feedback", reference=booking.reference,
                                     token=feedback.feedback_token(
                                         booking.reference, current_app.config["SECRET_KEY"])),
    }


def _reason(booking: Booking) -> str:
    """Why the booking was cancelled or declined: the museum's English words for a session it
    cancelled, when it gave them and the reader reads English."""
    if booking.cancelled_by_museum and booking.state_reason == booking.slot.cancel_reason:
        return localized(booking.slot, "cancel_reason")
    return booking.state_reason


def _optional_url(base_url: str, endpoint: str) -> str:
    """A link to a page another part of the app provides, or "" when it is not installed."""
    try:
        return absolute_url(base_url, endpoint)
    except LookupError:  # werkzeug's BuildError
        return ""


def _render(kind: str, context: dict) -> tuple[str, str]:
    """(subject, body) from ``templates/mail/<kind>.txt``: the body is the template's output,
    the subject its top-level ``{% set subject = … %}``."""
    template = current_app.jinja_env.get_template(f"mail/{kind}.txt")
    module = template.make_module(context)
    subject = " ".join(str(getattr(module, "subject", "")).split())
    return subject, _tidy(str(module))


def _tidy(text: str) -> str:
    """Templates may leave trailing spaces and runs of blank lines: trim them."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _pass_svg(booking: Booking) -> tuple[str, str, str] | None:
    """(file name, type, text) of the booking's door pass QR, or None without a pass code."""
    if not booking.pass_code:
        return None
    return (f"pass-{booking.display_reference}.svg", "image/svg+xml",
            qr_svg(booking.pass_code, 300))


def _booking_ics(booking: Booking) -> tuple[str, str, str]:
    """(file name, type, text) of the booking's .ics, as the manage page serves it (same UID
    and SEQUENCE, so importing it updates an entry imported earlier), without the link."""
    # The UID's host is the configured public address, as on the manage page, whatever base
    # the message's links were given.
    body = render_booking_ics(booking_event(booking, configured_base_url())).decode("utf-8")
    return f"booking-{booking.display_reference}.ics", "text/calendar", body
