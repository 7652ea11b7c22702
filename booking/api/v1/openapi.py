"""The OpenAPI 3.1 description of the JSON API v1, public and staff, served at
/api/v1/openapi.json (the staff half is in :mod:`.openapi_staff`).

Kept by hand next to the code it describes; tests/test_api.py and tests/test_api_dialect.py
check that every route is here (and nothing else), that real responses validate against these
schemas, and that the request schemas refuse what the API refuses.
"""
from __future__ import annotations

from booking.api.v1.openapi_parts import (
    CREDIT_CODE_INPUT,
    DATE_TIME,
    EMAIL_INPUT,
    MOBILE_INPUT,
    NOT_BLANK,
    REFERENCE,
    error_content,
    json_content,
    ref,
)
from booking.api.v1.openapi_staff import STAFF_PATHS, STAFF_SECURITY_SCHEMES, staff_schemas
from booking.api.v1.validation import (
    DEFAULT_PAGE_SIZE,
    MAX_ATTENDEES,
    MAX_CONTACT_NAME,
    MAX_EMAIL,
    MAX_NOTES,
    MAX_ORGANISATION_NAME,
    MAX_PAGE_SIZE,
    MAX_PARTY_SIZE,
    MAX_RANGE_DAYS,
    ORGANISATION_KINDS,
)
from booking.models import BookingState
from booking.rules.vocabulary import PROGRAMME_KIND_NAMES
from booking.rules.workflow import MAX_ATTENDEE_NAME

_ref, _json, _error = ref, json_content, error_content

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Stable, for machines, e.g. "
                         "`validation`, `slot_full`, `not_found`, `idempotency_key_reused`."},
                "message": {"type": "string", "description": "For people, in the chosen "
                            "language (Simplified Chinese unless `lang=en`)."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Message per faulty field, keyed by path "
                           "(`contact.phone`, `attendees[2]`)."},
                "challenge_url": {"type": "string", "description": "With 428 "
                                  "`challenge_required` / `challenge_invalid`: where to get "
                                  "a proof-of-work challenge (`/api/v1/challenge`)."},
            }}},
    },
    "Challenge": {
        "type": "object", "required": ["parameters", "signature"],
        "description": "An ALTCHA v2 proof-of-work challenge, signed by the server. Solve it "
        "with an ALTCHA library (e.g. Python `altcha.solve_challenge`), then send "
        "base64(JSON `{\"challenge\": <this>, \"solution\": {\"counter\", "
        "\"derivedKey\"}}`) in the `Altcha` header of POST /bookings. Valid until "
        "`parameters.expiresAt` (Unix seconds); each solution is accepted once.",
        "properties": {
            "parameters": {"type": "object", "required": [
                "algorithm", "nonce", "salt", "cost", "keyLength", "keyPrefix", "expiresAt"],
                "properties": {
                    "algorithm": {"type": "string", "examples": ["PBKDF2/SHA-256"]},
                    "nonce": {"type": "string"}, "salt": {"type": "string"},
                    "cost": {"type": "integer"}, "keyLength": {"type": "integer"},
                    "keyPrefix": {"type": "string"}, "keySignature": {"type": "string"},
                    "expiresAt": {"type": "integer"}}},
            "signature": {"type": "string"},
        },
    },
    "Slot": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "venue", "programme", "kind", "title", "starts_at", "ends_at", "capacity",
                     "seats_left", "party_size_min", "party_size_max", "requires_approval",
                     "bookable", "unavailable_reason"],
        "properties": {
            "id": {"type": "integer"},
            "venue": {"type": "string", "description": "Venue code, e.g. `LBC`."},
            "programme": {"type": ["string", "null"], "description": "Programme code."},
            "kind": {"type": ["string", "null"], "enum": [*PROGRAMME_KIND_NAMES, None],
                     "description": "Programme kind. A `study_tour` is booked with `adults` and "
                     "`minors` (see BookingCreate)."},
            "title": {"type": "string"},
            "starts_at": DATE_TIME, "ends_at": DATE_TIME,
            "capacity": {"type": "integer", "minimum": 1},
            "seats_left": {"type": "integer", "minimum": 0,
                           "description": "The smaller of the slot's and the venue day's "
                           "seats left."},
            "party_size_min": {"type": "integer"}, "party_size_max": {"type": "integer"},
            "requires_approval": {"type": "boolean",
                                  "description": "Bookings start `pending` until staff approve."},
            "bookable": {"type": "boolean",
                         "description": "Open, in the future, inside the booking window, "
                         "the venue receives groups that day, and at least `party_size_min` "
                         "seats left."},
            "unavailable_reason": {
                "type": ["string", "null"],
                "description": "Null when bookable; else one of `full`, `past`, `too_soon`, "
                "`not_yet_open`, `closed` (venue closed that day), `stopped` (slot closed)."},
        },
    },
    "SlotList": {
        "type": "object", "required": ["slots", "next"], "additionalProperties": False,
        "properties": {"slots": {"type": "array", "items": _ref("Slot")},
                       "next": {"type": ["string", "null"],
                                "description": "Pass as `after` for the next page; null on "
                                "the last page."}},
    },
    "BookingCreate": {
        "type": "object", "additionalProperties": False,
        "required": ["slot_id", "organisation", "contact", "party_size", "attendees"],
        "properties": {
            "slot_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "organisation": {
                "type": "object", "required": ["name", "kind"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": NOT_BLANK,
                             "maxLength": MAX_ORGANISATION_NAME},
                    "kind": {"type": "string", "enum": list(ORGANISATION_KINDS)},
                    "credit_code": {"type": ["string", "null"], "pattern": CREDIT_CODE_INPUT,
                                    "description": "统一社会信用代码: 18 characters (digits "
                                    "and capitals without I, O, Z, S, V), the last a GB 32100 "
                                    "check digit (checked by the API, 422). Optional."},
                }},
            "contact": {
                "type": "object", "required": ["name", "phone"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": NOT_BLANK,
                             "maxLength": MAX_CONTACT_NAME},
                    "phone": {"type": "string", "maxLength": 20, "pattern": MOBILE_INPUT,
                              "description": "Mainland mobile number (11 digits; spaces, "
                              "dashes and +86 are accepted)."},
                    "email": {"type": ["string", "null"], "maxLength": MAX_EMAIL,
                              "pattern": EMAIL_INPUT},
                }},
            "party_size": {"type": "integer", "minimum": 1, "maximum": MAX_PARTY_SIZE,
                           "description": "Must also fit the programme's group size bounds "
                           "(else 422 `party_size`)."},
            "adults": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_PARTY_SIZE,
                       "description": "Study tours (slot `kind` `study_tour`) only, and "
                       "required there with `minors`: the adults (teachers, leaders) in the "
                       "party. `adults` + `minors` must equal `party_size` (else 422 "
                       "`makeup_sum`), and there must be one adult per "
                       "`STUDY_TOUR_MINORS_PER_ADULT` minors, default 10, rounded up (else "
                       "422 `adult_ratio`, whose message names the adults needed); missing: "
                       "422 `makeup_required`. Ignored for other programmes."},
            "minors": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_PARTY_SIZE,
                       "description": "Study tours only: the minors (pupils) in the party; "
                       "see `adults`."},
            "attendees": {"type": "array", "maxItems": MAX_ATTENDEES,
                          "items": {"type": "string", "maxLength": MAX_ATTENDEE_NAME},
                          "description": "Attendee names; may be empty and filled in later. "
                          "No more names than `party_size`."},
            "notes": {"type": ["string", "null"], "maxLength": MAX_NOTES},
            "language": {"type": "string", "enum": ["zh", "en"], "default": "zh",
                         "description": "The organisation's language for messages about "
                         "this booking."},
            "notify_by": {"type": "string", "enum": ["sms", "email", "both"],
                          "description": "How the organisation hears about this booking "
                          "(approval, decline, cancellation, reminder …). Default: `both` "
                          "with an e-mail address, else `sms`; `email` needs "
                          "`contact.email`. Text messages never carry the manage link."},
        },
    },
    "BookingCreated": {
        "type": "object", "additionalProperties": False,
        "required": ["reference", "status", "seats"],
        "properties": {
            "reference": REFERENCE,
            "manage_token": {"type": "string", "minLength": 22,
                             "description": "Secret (≥128 bits) for GET/DELETE "
                             "/bookings/{reference}. Shown once; the museum keeps only a hash, "
                             "so a replayed answer (Idempotent-Replayed) leaves it out."},
            "message": {"type": "string",
                        "description": "On a replay: the booking exists, use your link."},
            "status": {"type": "string", "enum": ["pending", "confirmed"]},
            "seats": {"type": "integer", "minimum": 1, "description": "Seats held."},
        },
    },
    "Booking": {
        "type": "object", "additionalProperties": False,
        "required": ["reference", "status", "slot", "party_size", "adults", "minors", "seats", "organisation",
                     "contact", "attendees", "notes", "language", "created_at", "updated_at"],
        "properties": {
            "reference": REFERENCE,
            "status": {"type": "string", "enum": [state.value for state in BookingState]},
            "slot": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "title", "venue", "starts_at", "ends_at"],
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                               "venue": {"type": "string"},
                               "starts_at": DATE_TIME, "ends_at": DATE_TIME}},
            "party_size": {"type": "integer", "minimum": 1},
            "adults": {"type": ["integer", "null"], "minimum": 0,
                       "description": "A study tour's adults; null for other programmes."},
            "minors": {"type": ["integer", "null"], "minimum": 0,
                       "description": "A study tour's minors; null for other programmes."},
            "seats": {"type": "integer", "minimum": 0,
                      "description": "Seats held now (0 once cancelled)."},
            "organisation": {
                "type": "object", "additionalProperties": False, "required": ["name", "kind"],
                "properties": {"name": {"type": "string"},
                               "kind": {"type": "string", "enum": list(ORGANISATION_KINDS)}}},
            "contact": {
                "type": "object", "additionalProperties": False, "required": ["name", "phone"],
                "properties": {"name": {"type": "string"},
                               "phone": {"type": "string", "pattern": r"^\d{3}\*{4}\d{4}$",
                                         "description": "Masked: 138****1234."}}},
            "attendees": {"type": "array", "items": {"type": "string"}},
            "notes": {"type": "string"},
            "language": {"type": "string"},
            "created_at": DATE_TIME, "updated_at": DATE_TIME,
        },
    },
}
SCHEMAS.update(staff_schemas(SCHEMAS["Booking"]))

PARAMETERS = {
    "Lang": {"name": "lang", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["zh", "en"]},
             "description": "Language of messages and titles (default zh; the `lang` cookie "
             "is honoured too)."},
    "Reference": {"name": "reference", "in": "path", "required": True, "schema": REFERENCE},
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                   "pattern": "^[\\x21-\\x7e]+$"},
        "description": "A random string the client chooses per booking attempt. A retry with "
        "the same key and body creates nothing new and gets the first answer again (same "
        "status and body, header `Idempotent-Replayed: true`) for 24 hours. Same key with "
        "another body: 422 `idempotency_key_reused`. Stored answers: 201 and the booking "
        "rules' 4xx refusals; not stored: 400/415/422 shape errors (fix and retry with the "
        "same key) and 5xx."},
    "Altcha": {
        "name": "Altcha", "in": "header", "required": False, "schema": {"type": "string"},
        "description": "A solved proof-of-work challenge (see GET /challenge), needed only "
        "once this address or contact phone made more booking attempts than the museum's "
        "soft threshold (`CHALLENGE_AFTER`, default 5 an hour); otherwise ignored."},
}

NOT_FOUND_OR_NO_TOKEN = _error(
    "Unknown reference, missing or wrong token: one answer for all three (`not_found`).")
RATE_LIMITED = _error("Too many lookups from this address (`rate_limited`).")

PATHS = {
    "/slots": {"get": {
        "summary": "List slots with seats left and whether they can be booked",
        "operationId": "listSlots",
        "parameters": [
            {"name": "venue", "in": "query", "schema": {"type": "string"},
             "description": "Venue code, e.g. `LBC`, `KZM`."},
            {"name": "programme", "in": "query", "schema": {"type": "string"},
             "description": "Programme code."},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "First local day (YYYY-MM-DD), default today."},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": f"Last local day, inclusive; default `from` + 30 days; at most "
             f"{MAX_RANGE_DAYS} days after `from`."},
            {"name": "kind", "in": "query",
             "schema": {"type": "string", "enum": list(PROGRAMME_KIND_NAMES)},
             "description": "Programme kind."},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                        "default": DEFAULT_PAGE_SIZE},
             "description": "Slots per page, in start order."},
            {"name": "after", "in": "query", "schema": {"type": "string"},
             "description": "The `next` of the previous page (opaque); absent for the first "
             "page."},
            {"$ref": "#/components/parameters/Lang"},
        ],
        "responses": {
            "200": _json("SlotList", "Slots ordered by start time (cancelled ones omitted)."),
            "400": _error("Bad date, `to` before `from`, range too long, or a bad `limit`, "
                          "`kind`, `after` (`invalid_query`)."),
            "404": _error("Unknown venue code (`venue_not_found`)."),
        },
    }},
    "/bookings": {"post": {
        "summary": "Book a slot for a group",
        "operationId": "createBooking",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"},
                       {"$ref": "#/components/parameters/Altcha"},
                       {"$ref": "#/components/parameters/Lang"}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("BookingCreate")}}},
        "responses": {
            "201": {**_json("BookingCreated", "Booked; seats are held (pending bookings too)."),
                    "headers": {"Idempotent-Replayed": {
                        "schema": {"type": "string", "enum": ["true"]},
                        "description": "Present when this is a stored answer replayed."}}},
            "400": _error("Malformed JSON (`malformed_json`) or bad Idempotency-Key "
                          "(`invalid_idempotency_key`)."),
            "403": _error("The organisation is suspended (`organisation_suspended`)."),
            "404": _error("No such slot (`not_found`)."),
            "409": _error("Refused by a rule: `slot_full`, `day_full`, `slot_closed`, "
                          "`slot_past`, `venue_closed`, `too_soon`, `too_far`, "
                          "`idempotency_in_progress`."),
            "413": _error("Body too large (`payload_too_large`)."),
            "415": _error("Not sent as application/json (`unsupported_media_type`)."),
            "422": _error("Invalid body (`validation`, with `fields`), party size outside "
                          "the programme's bounds (`party_size`), a study tour's adults and "
                          "minors missing, not adding up or short of adults "
                          "(`makeup_required`, `makeup_sum`, `adult_ratio`), too many bookings "
                          "or seats for one contact (`too_many_bookings`, `too_many_seats`), "
                          "more names than people (`too_many_attendees`), or "
                          "`idempotency_key_reused`."),
            "428": _error("Past the soft threshold of booking attempts: no `Altcha` header "
                          "(`challenge_required`), or a solution that is forged, expired, "
                          "wrong or already used (`challenge_invalid`). `challenge_url` says "
                          "where to get a challenge."),
            "429": _error("Too many bookings from this address or phone (`rate_limited`)."),
        },
    }},
    "/challenge": {"get": {
        "summary": "A proof-of-work challenge for POST /bookings past the soft threshold",
        "operationId": "getChallenge",
        "responses": {"200": _json("Challenge", "A fresh challenge (not stored: no cookie, "
                                   "no tracking)."),
                      "429": _error("Too many challenges asked for (`rate_limited`).")},
    }},
    "/bookings/{reference}": {
        "parameters": [{"$ref": "#/components/parameters/Reference"}],
        "get": {
            "summary": "Show a booking to the holder of its manage token",
            "operationId": "getBooking",
            "security": [{"manageToken": []}],
            "parameters": [{"$ref": "#/components/parameters/Lang"}],
            "responses": {"200": _json("Booking", "The booking (phone masked)."),
                          "404": NOT_FOUND_OR_NO_TOKEN, "429": RATE_LIMITED},
        },
        "delete": {
            "summary": "Cancel a booking (until the venue's deadline); seats go back at once",
            "operationId": "cancelBooking",
            "security": [{"manageToken": []}],
            "parameters": [{"$ref": "#/components/parameters/Lang"}],
            "responses": {
                "200": _json("Booking", "Cancelled: `status` is `cancelled`, `seats` 0."),
                "404": NOT_FOUND_OR_NO_TOKEN,
                "409": _error("Already cancelled or otherwise final (`not_changeable`), or "
                              "past the cancellation deadline (`past_deadline`)."),
                "429": RATE_LIMITED,
            },
        },
    },
    "/openapi.json": {"get": {
        "summary": "This document",
        "operationId": "getOpenApi",
        "responses": {"200": {"description": "OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
    **STAFF_PATHS,
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "刘伯承同志纪念馆 · 开州博物馆 group booking API",
        "version": "1.0.0",
        "description": "JSON API v1 for group visit bookings: the public API and, under "
        "`/staff/`, the staff API (session cookie and `X-CSRFToken` header). Every error is "
        "`{\"error\": {\"code\", \"message\"}}` with a 4xx status (validation errors add "
        "`fields`). Unknown routes answer 404 `not_found`, wrong methods 405 "
        "`method_not_allowed`. No cookies and no CSRF token: a booking is managed with the "
        "bearer `manage_token` returned when it was created. Times are ISO 8601 in "
        "Asia/Shanghai (+08:00).",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "securitySchemes": {
            "manageToken": {
                "type": "http", "scheme": "bearer",
                "description": "`Authorization: Bearer <manage_token>` from POST /bookings."},
            **STAFF_SECURITY_SCHEMES},
    },
}
