"""JSON API v1: list slots, book, look a booking up and cancel it, through the same rules.

Every answer is JSON. Errors are ``{"error": {"code", "message"[, "fields"]}}`` with a 4xx
status (``fields`` maps a field path to its message). The API is for machines holding a
bearer secret, not for browsers holding a cookie, so its blueprint is exempt from CSRF.
Messages follow ``?lang=`` or the language cookie; for ``POST /bookings`` without either,
the body's ``language``. The contract is documented in :mod:`booking.api.v1.openapi`.
"""
from __future__ import annotations

import logging

from flask import Response, current_app, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import BadRequest

from booking.api.v1 import bp
from booking.api.v1 import validation as api_schema
from booking.api.v1.openapi import OPENAPI
from booking.api.v1.representation import (
    booking_error_body,
    booking_error_response,
    booking_json,
    created_json,
    dumps,
    error_body,
    error_response,
    json_response,
    replayed_json,
    slot_json,
)
from booking.clock import utcnow
from booking.errors import BookingError
from booking.i18n import LANGUAGE_COOKIE, LANGUAGES
from booking.models import Slot, SlotState, Venue, VenueDay
from booking.models.db import db
from booking.rules import idempotency, manage_links
from booking.rules.availability import slot_availability, windows_by_venue
from booking.usecases import bookings
from booking.web import booking_rate_limits, challenge
from booking.web.extensions import limiter

log = logging.getLogger(__name__)

DEFAULT_LOOKUP_LIMIT = "30 per minute"
# Answers that carry a manage token or personal data must not sit in any cache.
NO_STORE = {"Cache-Control": "no-store"}

def _validation_response(invalid: api_schema.InvalidRequest) -> Response:
    return error_response(422, "validation", _l("请求内容有误，请按字段说明修改后重试。"),
                          invalid.fields)


@bp.errorhandler(BookingError)
def _booking_error(error: BookingError):
    return booking_error_response(error)


# -- slots -------------------------------------------------------------------------------------

@bp.get("/slots")
def list_slots():
    """Slots in a date range, each with its real seats left and whether a group could book it;
    a page of at most ``limit``, ``next`` naming the following one (null on the last).

    A constant number of queries: the venue, the page of slots (with their venues), the
    VenueDays.
    """
    try:
        query = api_schema.slot_query_from_args(request.args)
    except api_schema.InvalidRequest as invalid:
        return error_response(400, "invalid_query", _l("查询参数有误，请按字段说明修改后重试。"),
                              invalid.fields)
    venue = None
    if query.venue:
        venue = db.session.scalar(select(Venue).where(Venue.code == query.venue))
        if venue is None:
            return error_response(404, "venue_not_found",
                                  _l("场馆代码“%(code)s”不存在。", code=query.venue))
    slots = list(db.session.scalars(_slots_statement(query, venue)))
    more, slots = len(slots) > query.limit, slots[:query.limit]
    venue_days = _venue_days_of(slots)
    now = utcnow()
    windows = windows_by_venue(db.session, slots, now)
    return json_response(200, {"slots": [
        slot_json(slot_availability(db.session, slot, venue_days.get((slot.venue_id, slot.day)),
                                    now, windows[slot.venue_id]))
        for slot in slots], "next": api_schema.slot_cursor(slots[-1].starts_at, slots[-1].id)
        if more else None})


def _slots_statement(query, venue: Venue | None):
    """The page of slots ``query`` asks for (one more than the limit, to tell a next page)."""
    statement = (select(Slot).options(joinedload(Slot.venue))
                 .where(Slot.day.between(query.first_day, query.last_day),
                        Slot.state != SlotState.CANCELLED)
                 .order_by(Slot.starts_at, Slot.id).limit(query.limit + 1))
    if venue is not None:
        statement = statement.where(Slot.venue_id == venue.id)
    if query.programme:
        statement = statement.where(Slot.programme == query.programme)
    if query.kind:
        statement = statement.where(Slot.kind == query.kind)
    if query.after:
        starts_at, slot_id = query.after
        statement = statement.where(or_(Slot.starts_at > starts_at,
                                        and_(Slot.starts_at == starts_at, Slot.id > slot_id)))
    return statement


def _venue_days_of(slots: list[Slot]) -> dict:
    """The VenueDays of the page's slots (their venues, from the first day to the last)."""
    if not slots:
        return {}
    rows = db.session.scalars(select(VenueDay).where(
        VenueDay.venue_id.in_({slot.venue_id for slot in slots}),
        VenueDay.day.between(slots[0].day, slots[-1].day)))
    return {(d.venue_id, d.day): d for d in rows}


# -- bookings ----------------------------------------------------------------------------------

def _response_language(payload) -> str | None:
    """The body's language, unless the client chose one by ``?lang=`` or cookie."""
    if request.args.get("lang") in LANGUAGES or request.cookies.get(LANGUAGE_COOKIE) in LANGUAGES:
        return None
    language = payload.get("language") if isinstance(payload, dict) else None
    return language if language in LANGUAGES else None


def _json_payload():
    if not request.is_json:
        return None, error_response(415, "unsupported_media_type",
                                    _l("请以 application/json 格式发送请求内容。"))
    try:
        return request.get_json(), None
    except BadRequest:
        return None, error_response(400, "malformed_json", _l("请求内容不是有效的 JSON。"))


@bp.post("/bookings")
@booking_rate_limits.per_address
@booking_rate_limits.per_phone
def create_booking():
    payload, refused = _json_payload()
    if refused is not None:
        return refused
    language = _response_language(payload)
    if language is None:
        return _create_booking(payload)
    with force_locale(language):
        return _create_booking(payload)


def _create_booking(payload) -> Response:
    human = challenge.booking_attempt(_contact_phone(payload),
                                      request.headers.get(challenge.HEADER))
    if not human.passed:
        return _challenge_response(human)
    try:
        booking_request = api_schema.booking_request_from_json(payload)
    except api_schema.InvalidRequest as invalid:
        return _validation_response(invalid)
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        booking, token = bookings.book(db.session, booking_request)
        return json_response(201, created_json(booking, token), headers=NO_STORE)
    if not idempotency.is_valid_key(key):
        return error_response(400, "invalid_idempotency_key",
                              _l("Idempotency-Key 应为 1 至 200 个可见 ASCII 字符。"))
    answer = bookings.book_once(
        db.session, booking_request, key,
        idempotency.fingerprint(request.method, request.path, payload),
        answer_created=lambda booking, token: dumps(created_json(booking, token)),
        answer_refused=lambda refused: dumps(booking_error_body(refused)),
        answer_replayed=lambda booking: dumps(replayed_json(booking)))
    headers = {**NO_STORE, "Idempotent-Replayed": "true"} if answer.replayed else NO_STORE
    return json_response(answer.status, answer.body, headers=headers)


def _contact_phone(payload) -> str | None:
    contact = payload.get("contact") if isinstance(payload, dict) else None
    return contact.get("phone") if isinstance(contact, dict) else None


CHALLENGE_MESSAGES = {
    "challenge_required": _l("此地址或手机号近期预约请求较多：请先 GET /api/v1/challenge 取得验证题并求解，"
                             "将结果放在 Altcha 请求头中重新提交。"),
    "challenge_invalid": _l("Altcha 请求头中的验证结果无效、已过期或已使用过：请重新取得验证题并求解。"),
}


def _challenge_response(human: challenge.HumanCheck) -> Response:
    body = error_body(human.problem, CHALLENGE_MESSAGES[human.problem])
    body["error"]["challenge_url"] = url_for("api.challenge_for_booking")
    return json_response(428, body, headers=NO_STORE)


@bp.get("/challenge")
@limiter.limit("30 per minute")
def challenge_for_booking():
    """A fresh proof-of-work challenge (see booking.web.challenge): solve it and send the
    base64 payload in the ``Altcha`` header of POST /bookings."""
    return json_response(200, challenge.new_challenge(), headers=NO_STORE)


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _lookup_limit() -> str:
    return current_app.config.get("API_LOOKUP_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)


# Looking a booking up by reference + token is what a guesser would hammer: GET and DELETE
# share one budget per client address.
lookup_limit = limiter.shared_limit(_lookup_limit, scope="api-booking-lookup")


@bp.get("/bookings/<reference>")
@lookup_limit
def show_booking(reference: str):
    booking = manage_links.find_booking_by_token(db.session, reference, _bearer_token())
    return json_response(200, booking_json(booking), headers=NO_STORE)


@bp.delete("/bookings/<reference>")
@lookup_limit
def cancel_booking(reference: str):
    """Cancel the booking (until the deadline): its seats go back, and on to the waiting list."""
    booking = manage_links.find_booking_by_token(db.session, reference, _bearer_token())
    bookings.cancel_by_organisation(db.session, booking)
    return json_response(200, booking_json(booking), headers=NO_STORE)


@bp.get("/openapi.json")
def openapi_document():
    return json_response(200, OPENAPI)
