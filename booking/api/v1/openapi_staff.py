"""The staff half of the OpenAPI document: /staff/ routes, their bodies and answers.

Staff are signed in by the session cookie; a POST also needs the CSRF token in the
``X-CSRFToken`` header. A staff booking is the public Booking plus staff-only fields.
"""
from __future__ import annotations

import copy

from booking.api.v1.openapi_parts import (
    DATE_TIME_OR_NULL,
    error_content,
    json_content,
    ref,
)
from booking.api.v1.validation import MAX_EMAIL
from booking.rules.identifiers import CREDIT_CODE_ALPHABET, MOBILE_PATTERN

STORED_CREDIT_CODE = {"type": ["string", "null"], "pattern": f"^[{CREDIT_CODE_ALPHABET}]{{18}}$",
                      "description": "统一社会信用代码 as stored (upper case), or null."}


def staff_schemas(booking: dict) -> dict:
    """StaffBooking (derived from the public ``booking`` schema) and the staff answers."""
    staff = copy.deepcopy(booking)
    properties = staff["properties"]
    properties["organisation"]["properties"]["credit_code"] = STORED_CREDIT_CODE
    properties["organisation"]["required"].append("credit_code")
    properties["contact"] = {
        "type": "object", "additionalProperties": False, "required": ["name", "phone", "email"],
        "properties": {
            "name": {"type": "string"},
            "phone": {"type": "string", "pattern": MOBILE_PATTERN.pattern.replace("\\d", "[0-9]"),
                      "description": "In full, for staff: 13812341234."},
            "email": {"type": "string", "maxLength": MAX_EMAIL,
                      "description": "Empty when none was given."}}}
    properties.update({
        "sequence": {"type": "integer", "minimum": 0,
                     "description": "iCalendar SEQUENCE of the booking's event."},
        "arrived_count": {"type": ["integer", "null"], "minimum": 0,
                          "description": "Headcount at check-in; null before."},
        "checked_in_at": {**DATE_TIME_OR_NULL, "description": "When the group was checked in "
                          "(+08:00), or null."},
    })
    staff["required"] = [*staff["required"], "sequence", "arrived_count", "checked_in_at"]
    staff["description"] = "A booking as staff see it: the public Booking with the full " \
        "contact, the credit code and the desk's facts."

    approval = copy.deepcopy(staff)
    approval["properties"].update({
        "attendee_count": {"type": "integer", "minimum": 0},
        "history": {
            "type": "object", "additionalProperties": False,
            "required": ["past_visits", "recent_no_shows", "suspended_until"],
            "properties": {
                "past_visits": {"type": "integer", "minimum": 0},
                "recent_no_shows": {"type": "integer", "minimum": 0},
                "suspended_until": {"type": ["string", "null"], "format": "date"}}},
    })
    approval["required"] = [*approval["required"], "attendee_count", "history"]
    approval["description"] = "A pending booking with its organisation's history."

    return {
        "StaffBooking": staff,
        "Approval": approval,
        "ApprovalList": {
            "type": "object", "additionalProperties": False, "required": ["approvals"],
            "properties": {"approvals": {"type": "array", "items": ref("Approval")}}},
        "StaffBookingAnswer": {
            "type": "object", "additionalProperties": False, "required": ["booking"],
            "properties": {"booking": ref("StaffBooking")}},
        "RosterSession": {
            "type": "object", "additionalProperties": False,
            "required": ["slot", "room", "lecturer", "equipment", "capacity", "seats_taken",
                         "booked", "arrived", "groups"],
            "properties": {
                "slot": booking["properties"]["slot"],
                "room": {"type": ["string", "null"]},
                "lecturer": {"type": "string"},
                "equipment": {"type": "array", "items": {"type": "string"}},
                "capacity": {"type": "integer", "minimum": 0},
                "seats_taken": {"type": "integer", "minimum": 0},
                "booked": {"type": "integer", "minimum": 0},
                "arrived": {"type": "integer", "minimum": 0},
                "groups": {"type": "array", "items": ref("StaffBooking"),
                           "description": "Groups holding seats, oldest booking first."}}},
        "Roster": {
            "type": "object", "additionalProperties": False,
            "required": ["venue", "date", "roster"],
            "properties": {
                "venue": {"type": "string", "description": "Venue code."},
                "date": {"type": "string", "format": "date"},
                "roster": {
                    "type": "object", "additionalProperties": False,
                    "required": ["venue", "daily_cap", "booked_total", "arrived_total",
                                 "sessions"],
                    "properties": {
                        "venue": {"type": "string", "description": "Venue name."},
                        "daily_cap": {"type": "integer", "minimum": 0},
                        "booked_total": {"type": "integer", "minimum": 0},
                        "arrived_total": {"type": "integer", "minimum": 0},
                        "sessions": {"type": "array", "items": ref("RosterSession")}}}}},
        "CheckIn": {
            "type": "object", "additionalProperties": False, "required": ["headcount"],
            "properties": {"headcount": {
                "type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                "description": "People who arrived: at least 1, at most the party size and "
                "no fewer than attendees already ticked (else 422 `headcount`)."}}},
        "Decline": {
            "type": "object", "additionalProperties": False, "required": ["reason"],
            "properties": {"reason": {
                "type": "string", "pattern": "\\S",
                "description": "Shown to the organisation; at most 300 characters once blanks "
                "are collapsed (else 422 `reason_too_long`)."}}},
    }


STAFF_SECURITY_SCHEMES = {
    "staffSession": {"type": "apiKey", "in": "cookie", "name": "session",
                     "description": "The session cookie of a signed-in staff user "
                     "(POST /staff/login)."},
    "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                  "description": "The `csrf_token` of any staff page; every POST needs it."},
}

READ = [{"staffSession": []}]
WRITE = [{"staffSession": [], "csrfToken": []}]
UNAUTHORIZED = error_content("Not signed in (`unauthorized`).")
FORBIDDEN = error_content("Signed in without the role (`forbidden`).")
CSRF_FAILED = error_content("Missing or wrong `X-CSRFToken` (`csrf_failed`).")
NO_SUCH_BOOKING = error_content("No booking with this reference (`not_found`).")
REFERENCE_PARAMETER = {"name": "reference", "in": "path", "required": True,
                       "schema": {"type": "string"},
                       "description": "Booking reference; a dash and lower case are accepted."}


def _decision(summary: str, operation_id: str, *, body: str | None, refusals: str) -> dict:
    operation = {
        "summary": summary, "operationId": operation_id, "security": WRITE,
        "parameters": [REFERENCE_PARAMETER],
        "responses": {
            "200": json_content("StaffBookingAnswer", "The booking after the change."),
            "400": CSRF_FAILED, "401": UNAUTHORIZED, "403": FORBIDDEN, "404": NO_SUCH_BOOKING,
            "409": error_content("Not in a state for this (`not_pending`, `not_checkable`, …)."),
            "422": error_content(refusals),
        },
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref(body)}}}
    return {"post": operation}


STAFF_PATHS = {
    "/staff/approvals": {"get": {
        "summary": "Pending bookings, oldest first, with each organisation's history",
        "operationId": "listApprovals", "security": READ,
        "responses": {"200": json_content("ApprovalList", "The approval queue."),
                      "401": UNAUTHORIZED, "403": FORBIDDEN},
    }},
    "/staff/bookings/{reference}/approve": _decision(
        "Approve a pending booking", "approveBooking", body=None,
        refusals="Refused by a rule."),
    "/staff/bookings/{reference}/decline": _decision(
        "Decline a pending booking with a reason; its seats go back", "declineBooking",
        body="Decline", refusals="Body not `{\"reason\": string}` (`validation`, with "
        "`fields`), blank reason (`reason_required`) or too long (`reason_too_long`)."),
    "/staff/bookings/{reference}/check-in": _decision(
        "Check a group in with the headcount that arrived (or correct it)", "checkInBooking",
        body="CheckIn", refusals="Body not `{\"headcount\": integer}` (`invalid_headcount`, "
        "with `fields`) or a headcount the rule refuses (`headcount`)."),
    "/staff/roster/{venue}/{date}": {"get": {
        "summary": "A venue's day: sessions in time order with their groups",
        "operationId": "getRoster", "security": READ,
        "parameters": [
            {"name": "venue", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "Venue code (any case)."},
            {"name": "date", "in": "path", "required": True,
             "schema": {"type": "string", "format": "date"}, "description": "Local day."}],
        "responses": {"200": json_content("Roster", "The day's roster (guides see only "
                                          "their own sessions)."),
                      "401": UNAUTHORIZED, "403": FORBIDDEN,
                      "404": error_content("Unknown venue or date (`not_found`).")},
    }},
}
