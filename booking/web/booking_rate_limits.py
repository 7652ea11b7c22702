"""Rate limits on creating bookings and joining waiting lists, per client address and per
contact phone (a phone rotated per request still meets the address limit; one phone used
from many addresses meets its own). Shared by the booking form, the API and the waiting-list
form; the figures come from BOOKING_RATE_LIMIT and BOOKING_PHONE_RATE_LIMIT."""
from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address

from booking.web.extensions import limiter


def _per_address() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _per_phone() -> str:
    return current_app.config["BOOKING_PHONE_RATE_LIMIT"]


def _phone_key() -> str:
    if request.is_json:
        payload = request.get_json(silent=True)
        contact = payload.get("contact") if isinstance(payload, dict) else None
        phone = contact.get("phone") if isinstance(contact, dict) else None
    else:
        phone = request.form.get("contact_phone")
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())[-11:]
    # No phone yet (a form with errors): count against the address instead.
    return "phone:" + digits if digits else "address:" + get_remote_address()


def _created(response) -> bool:
    """Only what was made counts: a form sent back with an error costs nothing."""
    return response.status_code in (201, 302)


per_address = limiter.shared_limit(_per_address, scope="booking-create", methods=["POST"],
                                   deduct_when=_created)
per_phone = limiter.shared_limit(_per_phone, scope="booking-create-phone", methods=["POST"],
                                 key_func=_phone_key, deduct_when=_created)
