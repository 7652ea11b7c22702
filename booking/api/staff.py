"""Staff JSON API under /api/v1/staff/: the approval queue and decisions.

Authenticated by the staff session cookie, so every POST needs the CSRF token in an
``X-CSRFToken`` header (read it from the ``csrf_token`` meta or form field of any staff page).
Errors are ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.rules import approval, waitlist
from booking.usecases import notifications
from booking.web.auth import role_required
from booking.clock import local
from booking.models.db import db
from booking.errors import BookingError
from booking.models import Booking, Role

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")


@bp.errorhandler(BookingError)
def _booking_error(error: BookingError):
    db.session.rollback()
    body = {"code": error.code, "message": str(error.message)}
    if error.field:
        body["field"] = error.field
    return jsonify(error=body), error.status


def _booking_json(booking: Booking) -> dict:
    slot = booking.slot
    return {
        "reference": booking.reference,
        "state": booking.state.value,
        "party_size": booking.party_size,
        "seats": booking.seats,
        "organisation": {"name": booking.organisation.name,
                         "kind": booking.organisation.kind.value,
                         "credit_code": booking.organisation.credit_code},
        "contact": {"name": booking.contact_name, "phone": booking.contact_phone,
                    "email": booking.contact_email},
        "notes": booking.notes,
        "slot": {"id": slot.id, "day": slot.day.isoformat(),
                 "starts_at": local(slot.starts_at).isoformat(),
                 "ends_at": local(slot.ends_at).isoformat(),
                 "title": slot.title, "venue": slot.venue.name,
                 "seats_left": slot.seats_left},
        "created_at": local(booking.created_at).isoformat(),
        "sequence": booking.sequence,
    }


@bp.route("/approvals")
@role_required(Role.STAFF)
def approvals():
    """Pending bookings, oldest first, with each organisation's history."""
    queue = approval.pending_queue(db.session, current_app.config["NO_SHOW_WINDOW_DAYS"])
    return jsonify(approvals=[
        {**_booking_json(item.booking), "attendee_count": item.attendee_count,
         "history": {"past_visits": item.history.past_visits,
                     "recent_no_shows": item.history.recent_no_shows,
                     "suspended_until": item.history.suspended_until.isoformat()
                     if item.history.suspended_until else None}}
        for item in queue])


@bp.route("/bookings/<reference>/approve", methods=["POST"])
@role_required(Role.STAFF)
def approve(reference: str):
    booking = approval.get_booking(db.session, reference)
    approval.approve_booking(db.session, booking, current_user)
    notifications.queue_booking_mail(db.session, booking, "confirmed")
    db.session.commit()
    return jsonify(booking=_booking_json(booking))


@bp.route("/bookings/<reference>/decline", methods=["POST"])
@role_required(Role.STAFF)
def decline(reference: str):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("reason", ""), str):
        raise BookingError("bad_request", _l("请求须为 JSON 对象，reason 为字符串。"), status=400)
    booking = approval.get_booking(db.session, reference)
    approval.decline_booking(db.session, booking, current_user, payload.get("reason", ""),
                             on_seats_freed=waitlist.offer_to_queue(
                                 current_app.config["WAITLIST_OFFER_HOURS"]))
    notifications.queue_booking_mail(db.session, booking, "declined")
    db.session.commit()
    return jsonify(booking=_booking_json(booking))
