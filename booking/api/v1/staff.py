"""Staff JSON API under /api/v1/staff/: the approval queue and decisions.

Authenticated by the staff session cookie, so every POST needs the CSRF token in an
``X-CSRFToken`` header (read it from the ``csrf_token`` meta or form field of any staff page).
Errors are ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.api.v1 import staff_bp as bp
from booking.clock import local
from booking.errors import BookingError
from booking.models import Booking, Role, Slot, Venue
from booking.models.db import db
from booking.rules import approval
from booking.rules.roster import build_roster
from booking.rules.tokens import normalise_reference
from booking.usecases import staff
from booking.web.auth import role_required


@bp.errorhandler(BookingError)
def _booking_error(error: BookingError):
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
    staff.approve(db.session, booking, current_user)
    return jsonify(booking=_booking_json(booking))


@bp.route("/bookings/<reference>/decline", methods=["POST"])
@role_required(Role.STAFF)
def decline(reference: str):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("reason", ""), str):
        raise BookingError("bad_request", _l("请求须为 JSON 对象，reason 为字符串。"), status=400)
    booking = approval.get_booking(db.session, reference)
    staff.decline(db.session, booking, current_user, payload.get("reason", ""))
    return jsonify(booking=_booking_json(booking))


RUNS_SESSIONS = (Role.STAFF, Role.GUIDE)


def _guide_filter():
    """The signed-in guide (whose sessions alone they see), or None for staff and admins."""
    return current_user if current_user.role is Role.GUIDE else None


def _venue_or_404(code: str) -> Venue:
    venue = db.session.scalar(select(Venue).filter_by(code=code.upper()))
    if venue is None:
        abort(404)
    return venue


def _day_or_404(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


def _booking_or_404(reference: str) -> Booking:
    booking = db.session.scalar(
        select(Booking).filter_by(reference=normalise_reference(reference))
        .options(joinedload(Booking.slot).joinedload(Slot.venue)))
    if booking is None:
        abort(404)
    return booking


# --- JSON API ---------------------------------------------------------------------------------

def _api_error(code: str, message, status: int):
    return jsonify(error={"code": code, "message": str(message)}), status


@bp.route("/roster/<venue_code>/<day_text>")
@role_required(*RUNS_SESSIONS)
def roster_json(venue_code: str, day_text: str):
    venue, day_ = _venue_or_404(venue_code), _day_or_404(day_text)
    roster = build_roster(db.session, venue, day_, _guide_filter())
    return jsonify(venue=venue.code, date=day_.isoformat(), roster=asdict(roster))


@bp.route("/bookings/<reference>/check-in", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def check_in_json(reference: str):
    booking = _booking_or_404(reference)
    payload = request.get_json(silent=True)
    headcount = payload.get("headcount") if isinstance(payload, dict) else None
    if isinstance(headcount, bool) or not isinstance(headcount, int):
        return _api_error("invalid_headcount",
                          _l("请以 JSON 提交整数 headcount（到场人数）。"), 422)
    try:
        staff.check_in_group(db.session, booking, headcount, current_user)
    except BookingError as error:
        return _api_error(error.code, error.message, error.status)
    return jsonify(booking={
        "reference": booking.display_reference, "state": booking.state.value,
        "party_size": booking.party_size, "arrived_count": booking.arrived_count,
        "checked_in_at": booking.checked_in_at.isoformat() if booking.checked_in_at else None})
