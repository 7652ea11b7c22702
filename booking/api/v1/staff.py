"""Staff JSON API under /api/v1/staff/: the approval queue and decisions, the day's roster
and checking a group in.

Authenticated by the staff session cookie, so every POST needs the CSRF token in an
``X-CSRFToken`` header (read it from the ``csrf_token`` meta or form field of any staff page).
It speaks the public API's dialect (:mod:`.representation`): bookings are the public booking
plus staff-only fields, errors are ``{"error": {"code", "message"[, "fields"]}}``.
"""
from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from booking.api.v1 import staff_bp as bp
from booking.api.v1 import validation as api_schema
from booking.api.v1.representation import (
    booking_error_response,
    booking_json,
    error_response,
    json_response,
    roster_body,
)
from booking.clock import local_today
from booking.errors import BookingError
from booking.models import Attendee, Role
from booking.models.db import db
from booking.rules import approval, checkin, roster
from booking.usecases import staff
from booking.web.auth import role_required
from booking.web.lookups import booking_or_404, day_or_404, guide_filter, venue_or_404


def _validation_response(invalid: api_schema.InvalidRequest):
    return error_response(422, "validation", _l("请求内容有误，请按字段说明修改后重试。"),
                          invalid.fields)


@bp.errorhandler(BookingError)
def _booking_error(error: BookingError):
    return booking_error_response(error)


def _attendee_names(booking_ids: list[int]) -> dict[int, list[str]]:
    """Attendee names per booking, in one query for the whole list."""
    names: dict[int, list[str]] = {booking_id: [] for booking_id in booking_ids}
    if booking_ids:
        rows = db.session.execute(
            select(Attendee.booking_id, Attendee.name)
            .where(Attendee.booking_id.in_(booking_ids))
            .order_by(Attendee.booking_id, Attendee.position, Attendee.id))
        for booking_id, name in rows:
            names[booking_id].append(name)
    return names


@bp.route("/approvals")
@role_required(Role.STAFF)
def approvals():
    """Pending bookings, oldest first, with each organisation's history."""
    queue = approval.pending_queue(db.session, current_app.config["NO_SHOW_WINDOW_DAYS"])
    names = _attendee_names([item.booking.id for item in queue])
    return json_response(200, {"approvals": [
        {**booking_json(item.booking, staff=True, attendees=names[item.booking.id]),
         "attendee_count": item.attendee_count,
         "history": {"past_visits": item.history.past_visits,
                     "recent_no_shows": item.history.recent_no_shows,
                     "suspended_until": item.history.suspended_until.isoformat()
                     if item.history.suspended_until else None}}
        for item in queue]})


@bp.route("/bookings/<reference>/approve", methods=["POST"])
@role_required(Role.STAFF)
def approve(reference: str):
    booking = approval.get_booking(db.session, reference)
    staff.approve(db.session, booking, current_user)
    return json_response(200, {"booking": booking_json(booking, staff=True)})


@bp.route("/bookings/<reference>/decline", methods=["POST"])
@role_required(Role.STAFF)
def decline(reference: str):
    try:
        reason = api_schema.decline_reason_from_json(request.get_json(silent=True))
    except api_schema.InvalidRequest as invalid:
        return _validation_response(invalid)
    booking = approval.get_booking(db.session, reference)
    staff.decline(db.session, booking, current_user, reason)
    return json_response(200, {"booking": booking_json(booking, staff=True)})


RUNS_SESSIONS = (Role.STAFF, Role.GUIDE)










# --- the day's roster and the desk ---------------------------------------------------------

@bp.route("/roster/<venue_code>/<day_text>")
@role_required(*RUNS_SESSIONS)
def roster_json(venue_code: str, day_text: str):
    venue, day_ = venue_or_404(venue_code), day_or_404(day_text)
    plan = roster.load_day(db.session, venue, day_, guide_filter())
    return json_response(200, roster_body(plan, full_phone=_sees_full_phone(day_, venue.tz)))


def _sees_full_phone(day_, tz) -> bool:
    """Guides get contact phones in full only for today's sessions, as on the roster page."""
    return checkin.sees_full_phone(current_user, day_, local_today(tz=tz))


@bp.route("/bookings/<reference>/check-in", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def check_in_json(reference: str):
    booking = booking_or_404(reference)
    try:
        headcount = api_schema.headcount_from_json(request.get_json(silent=True))
    except api_schema.InvalidRequest as invalid:
        return error_response(422, "invalid_headcount",
                              _l("请以 JSON 提交整数 headcount（到场人数）。"), invalid.fields)
    staff.check_in_group(db.session, booking, headcount, current_user)
    return json_response(200, {"booking": booking_json(
        booking, staff=True, full_phone=_sees_full_phone(booking.slot.day, booking.slot.venue.tz))})
