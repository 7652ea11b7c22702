"""The API's one JSON dialect, public and staff: how a time, a slot, a booking and an error
look on the wire. Every JSON answer under /api/ is built here.

- Times are ISO 8601 at the venue's offset (Asia/Shanghai, ``+08:00``), to the second.
- A booking is one object: the public view (phone masked) and the staff view, which is the
  same object with the full contact, the credit code and the desk's facts added.
- An error is ``{"error": {"code", "message"[, "fields"]}}``; ``fields`` maps a field path
  (``contact.phone``, ``headcount``) to its message.
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response
from flask_babel import lazy_gettext as _l

from booking.clock import MUSEUM_TZ, local
from booking.errors import BookingError
from booking.i18n import localized
from booking.models import Booking, Slot
from booking.rules.identifiers import mask_phone


def iso_time(moment: datetime | None, tz: ZoneInfo = MUSEUM_TZ) -> str | None:
    """``2026-05-12T09:00:00+08:00``: the moment at the venue, to the second."""
    return None if moment is None else local(moment, tz).isoformat(timespec="seconds")


# -- slots and bookings ------------------------------------------------------------------------

def slot_json(availability) -> dict:
    """A slot as ``GET /slots`` lists it: with its seats left and whether a group could book."""
    slot = availability.slot
    return {
        "id": slot.id, "venue": slot.venue.code, "programme": slot.programme, "kind": slot.kind,
        "title": localized(slot, "title"),
        "starts_at": iso_time(slot.starts_at, slot.venue.tz),
        "ends_at": iso_time(slot.ends_at, slot.venue.tz),
        "capacity": slot.capacity, "seats_left": availability.seats_left,
        "party_size_min": slot.party_size_min, "party_size_max": slot.party_size_max,
        "requires_approval": slot.requires_approval,
        "bookable": availability.bookable,
        "unavailable_reason": None if availability.bookable else availability.state.value,
    }


def booking_slot_json(slot: Slot) -> dict:
    """The slot a booking is for, as every booking carries it."""
    return {"id": slot.id, "title": localized(slot, "title"), "venue": slot.venue.code,
            "starts_at": iso_time(slot.starts_at, slot.venue.tz),
            "ends_at": iso_time(slot.ends_at, slot.venue.tz)}


def booking_json(booking: Booking, *, staff: bool = False, full_phone: bool = True,
                 attendees: list[str] | None = None) -> dict:
    """The booking: the public view, or with ``staff`` the same object plus what only staff see.

    ``attendees`` (the names, in order) saves a query per booking when the caller read them
    for many bookings at once.
    """
    slot, organisation = booking.slot, booking.organisation
    tz = slot.venue.tz
    names = attendees if attendees is not None else [a.name for a in booking.attendees]
    body = {
        "reference": booking.reference, "status": booking.state.value,
        "slot": booking_slot_json(slot),
        "party_size": booking.party_size, "adults": booking.adults, "minors": booking.minors,
        "seats": booking.seats,
        "organisation": {"name": organisation.name, "kind": organisation.kind.value},
        "contact": {"name": booking.contact_name, "phone": mask_phone(booking.contact_phone)},
        "attendees": names,
        "notes": booking.notes, "language": booking.language,
        "created_at": iso_time(booking.created_at, tz),
        "updated_at": iso_time(booking.updated_at, tz),
    }
    if staff:
        body["organisation"]["credit_code"] = organisation.credit_code
        # ``full_phone`` False: a guide away from the day of the visit (checkin.sees_full_phone).
        body["contact"] = {"name": booking.contact_name,
                           "phone": booking.contact_phone if full_phone
                           else mask_phone(booking.contact_phone),
                           "email": booking.contact_email if full_phone else ""}
        body.update({"sequence": booking.sequence, "arrived_count": booking.arrived_count,
                     "checked_in_at": iso_time(booking.checked_in_at, tz)})
    return body


def roster_body(plan, full_phone: bool = True) -> dict:
    """A venue's day (:class:`booking.rules.roster.DayPlan`): its sessions in time order, each
    with its groups as staff bookings, and the day's totals against the daily cap."""
    return {"venue": plan.venue.code, "date": plan.day.isoformat(), "roster": {
        "venue": plan.venue.name, "daily_cap": plan.daily_cap,
        "booked_total": plan.booked_total, "arrived_total": plan.arrived_total,
        "sessions": [{
            "slot": booking_slot_json(item.slot),
            "room": item.slot.room.name if item.slot.room else None,
            "lecturer": item.slot.lecturer_name, "equipment": item.equipment,
            "capacity": item.slot.capacity, "seats_taken": item.slot.taken,
            "booked": item.booked, "arrived": item.arrived,
            "groups": [booking_json(group.booking, staff=True, full_phone=full_phone,
                                    attendees=[row.name for row in group.attendees])
                       for group in item.groups]}
            for item in plan.sessions]}}


def created_json(booking: Booking, token: str) -> dict:
    """The answer to ``POST /bookings``: the one time the manage token is shown."""
    return {"reference": booking.reference, "manage_token": token,
            "status": booking.state.value, "seats": booking.seats}


def replayed_json(booking: Booking) -> dict:
    """What a retry with the same Idempotency-Key gets: the booking, not its secret (which
    is never stored in clear)."""
    return {"reference": booking.reference, "status": booking.state.value,
            "seats": booking.seats, "message": str(_l(
                "该预约已创建，请使用首次创建时返回的管理令牌或邮件中的管理链接。"))}


# -- errors and responses ----------------------------------------------------------------------

def error_body(code: str, message, fields: dict | None = None) -> dict:
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = {name: str(text) for name, text in fields.items()}
    return {"error": error}


def booking_error_body(error: BookingError) -> dict:
    """A rule's refusal; the field it names, if any, carries the message too."""
    return error_body(error.code, error.message,
                      {error.field: error.message} if error.field else None)


def dumps(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def json_response(status: int, body: str | dict, headers: dict | None = None) -> Response:
    """``body`` as JSON (a ``str`` is sent as it is: a stored answer replayed)."""
    text = body if isinstance(body, str) else dumps(body)
    return Response(text, status=status, mimetype="application/json", headers=headers)


def error_response(status: int, code: str, message, fields: dict | None = None) -> Response:
    return json_response(status, error_body(code, message, fields))


def booking_error_response(error: BookingError) -> Response:
    return json_response(error.status, booking_error_body(error))
