"""One JSON dialect for the whole API: every answer, public and staff, fits the schema the
OpenAPI document gives it; every time is at +08:00; every error has one shape; and the
request schemas refuse exactly what the API refuses."""
from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from booking.api.v1.openapi import OPENAPI
from booking.models import Role
from booking.models.db import db
from booking.rules.identifiers import credit_code_check_digit, is_mainland_mobile
from tests.fixtures.factories import started_a_moment_ago
from tests.test_api import booking_body

API = "/api/v1"
CODE_17 = "91500234MA5U12345"
CREDIT_CODE = CODE_17 + credit_code_check_digit(CODE_17)
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def validator(schema: dict) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(OPENAPI))
    schema = json.loads(json.dumps(schema).replace('"#/', '"urn:openapi#/'))
    return Draft202012Validator(schema, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def component(name: str) -> Draft202012Validator:
    return validator({"$ref": f"urn:openapi#/components/schemas/{name}"})


def times_in(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from times_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from times_in(item)
    elif isinstance(value, str) and TIME.match(value):
        yield value


def check_answer(response, path: str, method: str) -> dict:
    """The answer fits its documented schema, its times are at +08:00, an error has one shape."""
    documented = OPENAPI["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (path, method, response.status_code)
    body = response.get_json()
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    validator(schema).validate(body)
    assert all(moment.endswith("+08:00") for moment in times_in(body)), body
    if response.status_code >= 400:
        assert set(body) == {"error"}
        assert set(body["error"]) in ({"code", "message"}, {"code", "message", "fields"}), body
        assert all(isinstance(v, str) for v in body["error"].get("fields", {}).values())
    return body


@pytest.fixture
def venue(create_venue):
    venue = create_venue()
    venue.weekly_closed_day = None
    db.session.commit()
    return venue


@pytest.fixture
def running_slot(venue, create_slot):
    start = started_a_moment_ago(venue)
    return create_slot(venue, day=start.date(), start=start.time())


def test_the_document_is_openapi_3_1_with_the_staff_api(client):
    document = client.get(f"{API}/openapi.json").get_json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert {"staffSession", "csrfToken"} <= set(document["components"]["securitySchemes"])
    check_in = document["paths"]["/staff/bookings/{reference}/check-in"]["post"]
    assert check_in["security"] == [{"staffSession": [], "csrfToken": []}]


def test_public_answers_fit_their_schemas(client, create_slot):
    slot = create_slot()
    check_answer(client.get(f"{API}/slots"), "/slots", "get")
    check_answer(client.get(f"{API}/slots?from=2026-13-01"), "/slots", "get")
    check_answer(client.get(f"{API}/slots?venue=NOPE"), "/slots", "get")
    created = check_answer(client.post(f"{API}/bookings", json=booking_body(slot)),
                           "/bookings", "post")
    check_answer(client.post(f"{API}/bookings", json=booking_body(slot, party_size="x")),
                 "/bookings", "post")
    auth = {"Authorization": f"Bearer {created['manage_token']}"}
    url = f"{API}/bookings/{created['reference']}"
    shown = check_answer(client.get(url, headers=auth), "/bookings/{reference}", "get")
    assert shown["status"] == "confirmed" and "sequence" not in shown
    check_answer(client.get(url), "/bookings/{reference}", "get")
    check_answer(client.delete(url, headers=auth), "/bookings/{reference}", "delete")
    check_answer(client.delete(url, headers=auth), "/bookings/{reference}", "delete")


def test_staff_answers_fit_their_schemas(client, login, create_user, create_slot,
                                         create_booking, running_slot, book_ahead):
    pending, _ = create_booking(create_slot(requires_approval=True), party_size=10)
    declined, _ = create_booking(create_slot(requires_approval=True, capacity=40), party_size=5)
    group = book_ahead(running_slot, 10)
    reference, day = group.reference, running_slot.day.isoformat()
    check_answer(client.get(f"{API}/staff/approvals"), "/staff/approvals", "get")  # 401
    login(create_user("desk", Role.STAFF))
    check_answer(client.get(f"{API}/staff/approvals"), "/staff/approvals", "get")
    approve = "/staff/bookings/{reference}/approve"
    answer = check_answer(client.post(f"{API}/staff/bookings/{pending.reference}/approve"),
                          approve, "post")
    assert answer["booking"]["status"] == "confirmed"
    assert answer["booking"]["contact"]["phone"] == pending.contact_phone
    check_answer(client.post(f"{API}/staff/bookings/{pending.reference}/approve"),
                 approve, "post")
    check_answer(client.post(f"{API}/staff/bookings/NOSUCHREF/approve"), approve, "post")
    decline = "/staff/bookings/{reference}/decline"
    url = f"{API}/staff/bookings/{declined.reference}/decline"
    check_answer(client.post(url, json={"reason": " "}), decline, "post")
    refused = check_answer(client.post(url, json=[]), decline, "post")
    assert refused["error"]["code"] == "validation"
    check_answer(client.post(url, json={"reason": "已满"}), decline, "post")
    roster = check_answer(client.get(f"{API}/staff/roster/lbc/{day}"),
                          "/staff/roster/{venue}/{date}", "get")
    assert roster["roster"]["sessions"][0]["groups"][0]["reference"] == reference
    check_answer(client.get(f"{API}/staff/roster/LBC/2026-13-45"),
                 "/staff/roster/{venue}/{date}", "get")
    check_in = "/staff/bookings/{reference}/check-in"
    url = f"{API}/staff/bookings/{reference}/check-in"
    refused = check_answer(client.post(url, json={"headcount": 11}), check_in, "post")
    assert refused["error"]["fields"] == {"headcount": refused["error"]["message"]}
    check_answer(client.post(url, json={"headcount": "8"}), check_in, "post")
    done = check_answer(client.post(url, json={"headcount": 8}), check_in, "post")["booking"]
    assert (done["reference"], done["status"], done["arrived_count"]) == (
        reference, "checked_in", 8)
    assert done["checked_in_at"].endswith("+08:00")


@pytest.mark.parametrize("change", [
    {"contact": {"name": "王建国", "phone": "12812341234"}},
    {"contact": {"name": "王建国", "phone": "138123412345"}},
    {"organisation": {"name": "开州中学", "kind": "school", "credit_code": "9150023"}},
    {"organisation": {"name": "开州中学", "kind": "school",
                      "credit_code": "91500234MA5U1234I"}},
    {"organisation": {"name": "开州中学", "kind": "club"}},
    {"contact": {"name": "   ", "phone": "13812341234"}},
    {"contact": {"name": "王建国", "phone": "13812341234", "email": "wang@"}},
    {"surprise": True},
])
def test_a_body_the_schema_refuses_the_api_refuses(client, create_slot, change):
    body = booking_body(create_slot(), **change)
    assert not component("BookingCreate").is_valid(body)
    response = client.post(f"{API}/bookings", json=body)
    assert response.status_code == 422, response.get_json()
    check_answer(response, "/bookings", "post")


@pytest.mark.parametrize("change", [
    {},
    {"contact": {"name": "王建国", "phone": "+86 138-1234-1234", "email": ""}},
    {"contact": {"name": "王建国", "phone": "86 (138) 1234 1234", "email": None}},
    {"organisation": {"name": "开州中学", "kind": "school",
                      "credit_code": f" {CREDIT_CODE.lower()} "}},
    {"organisation": {"name": "开州中学", "kind": "school", "credit_code": ""}},
])
def test_a_body_the_schema_accepts_the_api_accepts(client, create_slot, change):
    body = booking_body(create_slot(), **change)
    component("BookingCreate").validate(body)
    response = client.post(f"{API}/bookings", json=body)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("phone", [
    "13812341234", "138 1234 1234", "+8613812341234", "8613812341234", "(138)1234-1234",
    "12812341234", "1381234123", "+87 13812341234", "86138123412", "138123412345",
    "+86+8613812341234", "23812341234", "1381234123a",
])
def test_the_phone_pattern_is_the_mobile_rule(phone):
    schema = OPENAPI["components"]["schemas"]["BookingCreate"]["properties"]["contact"]
    assert validator(schema["properties"]["phone"]).is_valid(phone) == is_mainland_mobile(phone)


@pytest.mark.parametrize(("body", "schema_accepts"), [
    ({"headcount": 8}, True), ({"headcount": 8, "note": "x"}, False), ({}, False),
    ({"headcount": "8"}, False),
])
def test_the_check_in_schema_and_the_api_agree(client, login, create_user, running_slot,
                                               book_ahead, body, schema_accepts):
    booking = book_ahead(running_slot, 10)
    login(create_user("desk", Role.STAFF))
    assert component("CheckIn").is_valid(body) is schema_accepts
    response = client.post(f"{API}/staff/bookings/{booking.reference}/check-in", json=body)
    assert response.status_code == (200 if schema_accepts else 422)


@pytest.mark.parametrize(("body", "schema_accepts"), [
    ({"reason": "已满"}, True), ({"reason": "已满", "extra": 1}, False), ({}, False),
    ({"reason": 3}, False),
])
def test_the_decline_schema_and_the_api_agree(client, login, create_user, create_slot,
                                              create_booking, body, schema_accepts):
    booking, _ = create_booking(create_slot(requires_approval=True), party_size=10)
    login(create_user("desk", Role.STAFF))
    assert component("Decline").is_valid(body) is schema_accepts
    response = client.post(f"{API}/staff/bookings/{booking.reference}/decline", json=body)
    assert response.status_code == (200 if schema_accepts else 422)
