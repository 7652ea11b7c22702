"""The public JSON API v1: slots, booking, managing with a bearer token, errors, idempotency,
and the OpenAPI document that describes it all."""
from __future__ import annotations

import json
import re
import threading
from datetime import time, timedelta

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import event, func, select

from booking.api.v1.openapi import OPENAPI
from booking.clock import local_today, utcnow
from booking.models import (
    Booking,
    BookingState,
    IdempotencyRecord,
    Organisation,
    SlotState,
    VenueDay,
)
from booking.models.db import db
from booking.rules import idempotency
from booking.rules.identifiers import credit_code_check_digit
from tests.fixtures.factories import next_open_day, open_every_day

API = "/api/v1"
CREDIT_CODE_17 = "91500234MA5U12345"
VALID_CREDIT_CODE = CREDIT_CODE_17 + credit_code_check_digit(CREDIT_CODE_17)


def booking_body(slot, **overrides) -> dict:
    body = {"slot_id": slot.id,
            "organisation": {"name": "开州区汉丰街道党工委", "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": "138 1234 1234", "email": "wang@example.org"},
            "party_size": 12, "attendees": ["张三", "李四"], "notes": "需要讲解员"}
    body.update(overrides)
    return body


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- the OpenAPI document as a schema source -----------------------------------------------

def _registry() -> Registry:
    return Registry().with_resource("urn:openapi", DRAFT202012.create_resource(OPENAPI))


def assert_documented(response, path: str, method: str) -> None:
    """The response's status is documented for the route, and its body fits the schema."""
    operation = OPENAPI["paths"][path][method.lower()]
    documented = operation["responses"]
    assert str(response.status_code) in documented, (path, method, response.status_code)
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    schema = json.loads(json.dumps(schema).replace('"#/', '"urn:openapi#/'))
    Draft202012Validator(schema, registry=_registry(),
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        response.get_json())


# -- GET /slots ------------------------------------------------------------------------------

def test_slots_list_every_field_with_local_times(client, create_slot):
    slot = create_slot(capacity=40, title_en="Learning Party History", party_size_min=10,
                       party_size_max=40)
    response = client.get(f"{API}/slots")
    assert response.status_code == 200
    [listed] = response.get_json()["slots"]
    assert listed == {
        "id": slot.id, "venue": "LBC", "programme": "liushuai-spirit", "kind": "themed_course",
        "title": "学习百年党史 感悟刘帅精神",
        "starts_at": f"{slot.day.isoformat()}T09:00:00+08:00",
        "ends_at": f"{slot.day.isoformat()}T10:30:00+08:00",
        "capacity": 40, "seats_left": 40, "party_size_min": 10, "party_size_max": 40,
        "requires_approval": False, "bookable": True, "unavailable_reason": None}
    assert_documented(response, "/slots", "get")


def test_slot_titles_follow_the_chosen_language(client, create_slot):
    create_slot(title_en="Learning Party History")
    # One request per test: the test app context caches the locale of its first request.
    [listed] = client.get(f"{API}/slots?lang=en").get_json()["slots"]
    assert listed["title"] == "Learning Party History"


def test_slots_filter_by_venue_programme_and_dates(client, create_venue, create_slot):
    hall = create_venue("LBC")
    museum = create_venue("KZM", name="开州博物馆")
    first = create_slot(hall)
    afternoon = create_slot(hall, day=first.day, start=time(14, 0), programme="party-day")
    elsewhere = create_slot(museum, day=first.day)
    later = create_slot(hall, day=first.day + timedelta(days=7))

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/slots?{query}")
        assert response.status_code == 200, response.get_json()
        return [s["id"] for s in response.get_json()["slots"]]

    assert len(ids("")) == 4
    assert ids("venue=KZM") == [elsewhere.id]
    assert ids("venue=LBC&programme=liushuai-spirit") == [first.id, later.id]
    assert ids(f"venue=LBC&from={first.day}&to={first.day}") == [first.id, afternoon.id]
    assert ids(f"from={later.day}") == [later.id]
    assert ids("programme=no-such-programme") == []


def test_slots_default_range_is_today_to_thirty_days(client, create_slot):
    near = create_slot()
    far = create_slot(day=local_today() + timedelta(days=45))
    assert [s["id"] for s in client.get(f"{API}/slots").get_json()["slots"]] == [near.id]
    to = (local_today() + timedelta(days=60)).isoformat()
    assert far.id in [s["id"] for s in client.get(f"{API}/slots?to={to}").get_json()["slots"]]


def test_cancelled_slots_are_not_listed(client, create_slot):
    slot = create_slot()
    slot.state = SlotState.CANCELLED
    db.session.commit()
    assert client.get(f"{API}/slots").get_json()["slots"] == []


def test_bookable_flag_and_seats_left_follow_the_rules(client, create_venue, create_slot,
                                                       create_booking):
    venue = open_every_day(create_venue(daily_cap=60))
    open_slot = create_slot(venue, capacity=50, party_size_min=10)
    full = create_slot(venue, day=open_slot.day, start=time(10, 30), capacity=20)
    create_booking(full, party_size=20)
    # The day has 60 - 20 = 40 left; a 50-seat slot can offer only those.
    capped = create_slot(venue, day=open_slot.day, start=time(14, 0), capacity=50,
                         party_size_min=45)
    too_soon = create_slot(venue, day=local_today() + timedelta(days=1), capacity=50)
    stopped = create_slot(venue, day=open_slot.day, start=time(15, 30), capacity=50)
    stopped.state = SlotState.CLOSED
    db.session.commit()

    slots = {s["id"]: s for s in client.get(f"{API}/slots").get_json()["slots"]}
    assert (slots[open_slot.id]["bookable"], slots[open_slot.id]["seats_left"]) == (True, 40)
    assert (slots[full.id]["bookable"], slots[full.id]["seats_left"],
            slots[full.id]["unavailable_reason"]) == (False, 0, "full")
    assert (slots[capped.id]["bookable"], slots[capped.id]["seats_left"]) == (False, 40)
    assert slots[too_soon.id]["bookable"] is False
    assert slots[too_soon.id]["unavailable_reason"] == "too_soon"
    assert slots[stopped.id]["bookable"] is False


def test_slots_on_a_day_closed_by_staff_are_not_bookable(client, create_slot):
    slot = create_slot()
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    day.closed = True
    db.session.commit()
    [listed] = client.get(f"{API}/slots").get_json()["slots"]
    assert (listed["bookable"], listed["unavailable_reason"]) == (False, "closed")


def test_slot_list_costs_the_same_queries_for_many_slots(app, client, create_venue,
                                                         create_slot):
    first_day = create_slot(create_venue()).day

    def queries_for_listing() -> int:
        db.session.expunge_all()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"{API}/slots?venue=LBC").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = queries_for_listing()
    for days in range(1, 8):
        create_slot(day=first_day + timedelta(days=days), start=time(10, 30))
    assert len(client.get(f"{API}/slots").get_json()["slots"]) == 8
    assert queries_for_listing() == few


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("from=tomorrow", "from"), ("to=2026-02-30", "to"),
    ("from=2030-01-10&to=2030-01-09", "to"), ("from=2030-01-01&to=2030-06-01", "to"),
])
def test_bad_slot_queries_are_400_with_the_field_named(client, query, field):
    response = client.get(f"{API}/slots?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query" and field in error["fields"]
    assert_documented(response, "/slots", "get")


def test_unknown_venue_is_404(client, create_venue):
    create_venue()
    response = client.get(f"{API}/slots?venue=NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "venue_not_found"
    assert_documented(response, "/slots", "get")


# -- POST /bookings --------------------------------------------------------------------------

def test_booking_is_created_with_seats_held(client, create_slot):
    slot = create_slot(capacity=40)
    response = client.post(f"{API}/bookings", json=booking_body(slot, organisation={
        "name": "开州中学", "kind": "school", "credit_code": VALID_CREDIT_CODE.lower()}))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert set(created) == {"reference", "manage_token", "status", "seats"}
    assert (created["status"], created["seats"]) == ("confirmed", 12)
    assert response.headers["Cache-Control"] == "no-store"  # it carries the manage token
    assert_documented(response, "/bookings", "post")
    booking = db.session.scalar(select(Booking).filter_by(reference=created["reference"]))
    assert booking.contact_phone == "13812341234"
    assert [a.name for a in booking.attendees] == ["张三", "李四"]
    assert booking.organisation.credit_code == VALID_CREDIT_CODE
    db.session.refresh(slot)
    assert slot.taken == 12


def test_programme_needing_approval_books_pending(client, create_slot):
    slot = create_slot(requires_approval=True)
    created = client.post(f"{API}/bookings", json=booking_body(slot, language="en")).get_json()
    assert created["status"] == "pending"
    booking = db.session.scalar(select(Booking).filter_by(reference=created["reference"]))
    assert (booking.state, booking.language) == (BookingState.PENDING, "en")


def _without(body: dict, path: str) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    del target[last]
    return body


def _with(body: dict, path: str, value) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    target[last] = value
    return body


@pytest.mark.parametrize("change, field", [
    (lambda b: _without(b, "slot_id"), "slot_id"),
    (lambda b: _with(b, "slot_id", "1"), "slot_id"),
    (lambda b: _with(b, "party_size", True), "party_size"),
    (lambda b: _with(b, "party_size", 0), "party_size"),
    (lambda b: _with(b, "party_size", 12.5), "party_size"),
    (lambda b: _without(b, "organisation"), "organisation"),
    (lambda b: _with(b, "organisation", "开州中学"), "organisation"),
    (lambda b: _with(b, "organisation.name", "   "), "organisation.name"),
    (lambda b: _with(b, "organisation.name", "长" * 121), "organisation.name"),
    (lambda b: _with(b, "organisation.kind", "club"), "organisation.kind"),
    (lambda b: _with(b, "organisation.credit_code", CREDIT_CODE_17 + "0"
                     if VALID_CREDIT_CODE[-1] != "0" else CREDIT_CODE_17 + "1"),
     "organisation.credit_code"),
    (lambda b: _with(b, "organisation.extra", 1), "organisation.extra"),
    (lambda b: _without(b, "contact.name"), "contact.name"),
    (lambda b: _with(b, "contact.phone", "0233-1234567"), "contact.phone"),
    (lambda b: _with(b, "contact.phone", 13812341234), "contact.phone"),
    (lambda b: _with(b, "contact.email", "wang@"), "contact.email"),
    (lambda b: _without(b, "attendees"), "attendees"),
    (lambda b: _with(b, "attendees", "张三\n李四"), "attendees"),
    (lambda b: _with(b, "attendees", ["张三", 7]), "attendees[1]"),
    (lambda b: _with(b, "attendees", ["名" * 61]), "attendees[0]"),
    (lambda b: _with(b, "notes", "注" * 2001), "notes"),
    (lambda b: _with(b, "language", "fr"), "language"),
    (lambda b: _with(b, "slot", 1), "slot"),
])
def test_invalid_bodies_are_422_per_field_and_write_nothing(client, create_slot, change,
                                                            field):
    slot = create_slot()
    response = client.post(f"{API}/bookings", json=change(booking_body(slot)))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert field in error["fields"], error
    assert_documented(response, "/bookings", "post")
    assert count(Booking) == count(Organisation) == 0


def test_optional_fields_may_be_left_out(client, create_slot):
    slot = create_slot()
    body = _without(_without(booking_body(slot, attendees=[]), "notes"), "contact.email")
    response = client.post(f"{API}/bookings", json=body)
    assert response.status_code == 201, response.get_json()


def test_full_slot_is_409_json_and_writes_nothing(client, create_slot, create_booking):
    slot = create_slot(capacity=20)
    create_booking(slot, party_size=15)
    response = client.post(f"{API}/bookings", json=booking_body(slot, organisation={
        "name": "开州中学", "kind": "school"}, party_size=10))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_full" and "余位不足" in error["message"]
    assert_documented(response, "/bookings", "post")
    assert count(Booking) == 1
    assert count(Organisation) == 1  # the refused school was not left behind
    db.session.refresh(slot)
    assert slot.taken == 15


@pytest.mark.parametrize("overrides, status, code", [
    ({"party_size": 60}, 422, "party_size"),
    ({"party_size": 2, "attendees": ["张三", "李四", "王五"]}, 422, "too_many_attendees"),
    ({"slot_id": 999}, 404, "not_found"),
])
def test_rule_refusals_keep_their_status_and_code(client, create_slot, overrides, status,
                                                  code):
    slot = create_slot()
    response = client.post(f"{API}/bookings", json=booking_body(slot, **overrides))
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert_documented(response, "/bookings", "post")
    assert count(Booking) == 0


def test_slot_past_the_booking_window_is_refused(client, create_slot):
    slot = create_slot(day=next_open_day(45))
    response = client.post(f"{API}/bookings", json=booking_body(slot))
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "too_far")


def test_malformed_json_is_400(client):
    response = client.post(f"{API}/bookings", data='{"slot_id": 1,',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert_documented(response, "/bookings", "post")


def test_body_that_is_not_an_object_is_422(client):
    response = client.post(f"{API}/bookings", json=[1, 2])
    assert response.status_code == 422
    assert "body" in response.get_json()["error"]["fields"]


def test_form_encoded_body_is_415(client, create_slot):
    slot = create_slot()
    response = client.post(f"{API}/bookings", data={"slot_id": slot.id})
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert_documented(response, "/bookings", "post")


def test_oversized_body_is_413_json(client):
    response = client.post(f"{API}/bookings", data=b"[" + b"1," * 3_500_000 + b"1]",  # 7 MB
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


class TestWithCsrfOn:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_api_needs_no_csrf_token(self, client, create_slot):
        slot = create_slot()
        response = client.post(f"{API}/bookings", json=booking_body(slot))
        assert response.status_code == 201, response.get_data(as_text=True)


# -- Idempotency-Key -------------------------------------------------------------------------

def test_retry_with_same_key_returns_same_answer_and_books_once(client, create_slot):
    slot = create_slot()
    headers = {"Idempotency-Key": "order-7f3a"}
    first = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    # Same content, different key order and spacing: still the same request.
    retry = client.post(f"{API}/bookings", headers=headers, content_type="application/json",
                        data=json.dumps(dict(reversed(booking_body(slot).items())), indent=2))
    assert first.status_code == retry.status_code == 201
    # The same booking, but not its secret: the record never keeps the token in clear.
    assert retry.get_json()["reference"] == first.get_json()["reference"]
    assert "manage_token" in first.get_json() and "manage_token" not in retry.get_json()
    assert first.get_json()["manage_token"] not in db.session.scalar(
        select(IdempotencyRecord.response_body))
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Booking) == 1
    db.session.refresh(slot)
    assert slot.taken == 12


def test_same_key_with_another_body_is_refused(client, create_slot):
    slot = create_slot()
    headers = {"Idempotency-Key": "order-7f3a"}
    client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    response = client.post(f"{API}/bookings", json=booking_body(slot, party_size=20),
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert_documented(response, "/bookings", "post")
    assert count(Booking) == 1


def test_a_rule_refusal_is_stored_and_replayed(client, create_slot, create_booking):
    slot = create_slot(capacity=20)
    other, _ = create_booking(slot, party_size=15)
    headers = {"Idempotency-Key": "k-1"}
    body = booking_body(slot, party_size=10, organisation={"name": "开州中学", "kind": "school"})
    refused = client.post(f"{API}/bookings", json=body, headers=headers)
    assert refused.status_code == 409
    assert count(IdempotencyRecord) == 1 and count(Organisation) == 1
    from booking.rules.workflow import cancel_booking
    cancel_booking(db.session, other)
    db.session.commit()
    replay = client.post(f"{API}/bookings", json=body, headers=headers)
    assert (replay.status_code, replay.get_data()) == (409, refused.get_data())
    fresh = client.post(f"{API}/bookings", json=body, headers={"Idempotency-Key": "k-2"})
    assert fresh.status_code == 201


def test_invalid_body_is_not_stored_so_the_key_can_be_reused_after_fixing(client,
                                                                          create_slot):
    slot = create_slot()
    headers = {"Idempotency-Key": "k-1"}
    bad = client.post(f"{API}/bookings", headers=headers,
                      json=_with(booking_body(slot), "contact.phone", "123"))
    assert bad.status_code == 422 and count(IdempotencyRecord) == 0
    good = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    assert good.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 201, "with space", "密钥"])
def test_unusable_idempotency_keys_are_400(client, create_slot, key):
    slot = create_slot()
    response = client.post(f"{API}/bookings", json=booking_body(slot),
                           headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert count(Booking) == 0


def test_crash_after_booking_leaves_neither_booking_nor_key(client, create_slot, monkeypatch):
    slot = create_slot()

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(idempotency, "record_answer", crash)
    with pytest.raises(RuntimeError):
        client.post(f"{API}/bookings", json=booking_body(slot),
                    headers={"Idempotency-Key": "k-1"})
    db.session.rollback()
    assert count(Booking) == count(IdempotencyRecord) == 0
    db.session.refresh(slot)
    assert slot.taken == 0
    monkeypatch.undo()
    assert client.post(f"{API}/bookings", json=booking_body(slot),
                       headers={"Idempotency-Key": "k-1"}).status_code == 201


def test_key_committed_by_a_racing_request_yields_its_answer(client, create_slot,
                                                             monkeypatch):
    """The losing insert of a race falls back to the winner's stored answer."""
    slot = create_slot()
    headers = {"Idempotency-Key": "k-1"}
    first = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    # Replay the moment of the race: this request's lookup ran before the winner committed.
    real_find = idempotency._find
    calls = []

    def find_missing_first_time(session, key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(session, key)
    monkeypatch.setattr(idempotency, "_find", find_missing_first_time)
    second = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    assert len(calls) == 2
    assert second.status_code == 201
    assert second.get_json()["reference"] == first.get_json()["reference"]
    assert count(Booking) == 1


def test_concurrent_requests_with_one_key_book_once(app, create_slot):
    slot = create_slot(capacity=50)
    body = booking_body(slot)
    db.session.commit()
    barrier = threading.Barrier(4)
    answers = []

    def send():
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = client.post(f"{API}/bookings", json=body,
                                   headers={"Idempotency-Key": "same-key"})
            answers.append((response.status_code, response.get_data()))
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {201}
    # One booking: the winner's answer carries the token, the replays the same reference.
    assert len({json.loads(body)["reference"] for _, body in answers}) == 1
    assert sum("manage_token" in json.loads(body) for _, body in answers) == 1
    assert count(Booking) == 1
    db.session.refresh(slot)
    assert slot.taken == 12


def test_keys_are_forgotten_after_a_day(client, create_slot):
    slot = create_slot()
    headers = {"Idempotency-Key": "k-1"}
    first = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    record = db.session.scalar(select(IdempotencyRecord))
    record.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    again = client.post(f"{API}/bookings", json=booking_body(slot), headers=headers)
    assert again.status_code == 201 and again.get_data() != first.get_data()
    assert count(Booking) == 2


def test_purge_deletes_only_expired_records(app):
    now = utcnow()
    db.session.add_all([
        IdempotencyRecord(key="old", request_hash="h", status_code=201, response_body="{}",
                          created_at=now - timedelta(hours=24, minutes=1)),
        IdempotencyRecord(key="new", request_hash="h", status_code=201, response_body="{}",
                          created_at=now - timedelta(hours=23))])
    db.session.commit()
    assert idempotency.purge_expired_records(db.session, now) == 1
    db.session.commit()
    assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["new"]


def test_purging_runs_at_most_once_per_interval():
    ticks = iter([10_000.0, 10_001.0, 10_000.0 + idempotency.PURGE_INTERVAL_SECONDS + 1])
    clock = lambda: next(ticks)  # noqa: E731
    schedule = idempotency.PurgeSchedule(clock=clock)
    assert [schedule.due(), schedule.due(), schedule.due()] == [True, False, True]


# -- GET / DELETE /bookings/<reference> ------------------------------------------------------

def _book(client, slot, **overrides) -> dict:
    response = client.post(f"{API}/bookings", json=booking_body(slot, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_holder_sees_the_booking_with_phone_masked(client, create_slot):
    slot = create_slot(title_en="Learning Party History")
    created = _book(client, slot)
    reference = created["reference"]
    response = client.get(f"{API}/bookings/{reference}", headers=bearer(created["manage_token"]))
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["reference"] == reference and shown["status"] == "confirmed"
    assert shown["slot"] == {"id": slot.id, "title": "学习百年党史 感悟刘帅精神", "venue": "LBC",
                             "starts_at": f"{slot.day}T09:00:00+08:00",
                             "ends_at": f"{slot.day}T10:30:00+08:00"}
    assert (shown["party_size"], shown["seats"]) == (12, 12)
    assert shown["organisation"]["name"] == "开州区汉丰街道党工委"
    assert shown["contact"] == {"name": "王建国", "phone": "138****1234"}
    assert "13812341234" not in response.get_data(as_text=True)
    assert shown["attendees"] == ["张三", "李四"]
    assert shown["created_at"].endswith("+08:00") and shown["updated_at"].endswith("+08:00")
    assert response.headers["Cache-Control"] == "no-store"
    assert_documented(response, "/bookings/{reference}", "get")
    # People type references with a dash and in lower case.
    dashed = f"{reference[:4]}-{reference[4:]}".lower()
    assert client.get(f"{API}/bookings/{dashed}",
                      headers=bearer(created["manage_token"])).status_code == 200


@pytest.mark.parametrize("method", ["get", "delete"])
def test_missing_wrong_token_and_unknown_reference_look_the_same(client, create_slot, method):
    slot = create_slot()
    created = _book(client, slot)
    other = _book(client, slot, organisation={"name": "开州中学", "kind": "school"})
    reference = created["reference"]
    call = getattr(client, method)
    answers = [
        call(f"{API}/bookings/{reference}"),
        call(f"{API}/bookings/{reference}", headers=bearer("wrong-token")),
        call(f"{API}/bookings/{reference}", headers=bearer(other["manage_token"])),
        call(f"{API}/bookings/{reference}", headers={"Authorization": created["manage_token"]}),
        call(f"{API}/bookings/{reference}", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        call(f"{API}/bookings/ZZZZ9999", headers=bearer(created["manage_token"])),
    ]
    assert {(r.status_code, r.get_data()) for r in answers} == {(404, answers[0].get_data())}
    assert answers[0].get_json()["error"]["code"] == "not_found"
    for response in answers:
        assert_documented(response, "/bookings/{reference}", method)
    assert {b.state for b in db.session.scalars(select(Booking))} == {BookingState.CONFIRMED}


def test_cancelling_gives_the_seats_back(client, create_slot):
    slot = create_slot(capacity=40)
    created = _book(client, slot)
    db.session.refresh(slot)
    assert slot.taken == 12
    response = client.delete(f"{API}/bookings/{created['reference']}",
                             headers=bearer(created["manage_token"]))
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["seats"]) == ("cancelled", 0)
    assert_documented(response, "/bookings/{reference}", "delete")
    db.session.refresh(slot)
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    assert (slot.taken, day.taken) == (0, 0)
    again = client.delete(f"{API}/bookings/{created['reference']}",
                          headers=bearer(created["manage_token"]))
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "not_changeable")
    assert_documented(again, "/bookings/{reference}", "delete")
    shown = client.get(f"{API}/bookings/{created['reference']}",
                       headers=bearer(created["manage_token"])).get_json()
    assert shown["status"] == "cancelled"


def test_cancelling_offers_the_freed_seats_to_the_waiting_list(client, create_slot):
    from booking.models import OrganisationKind, WaitlistEntry, WaitlistState
    from booking.rules.waitlist import WaitlistRequest, join_waitlist
    from booking.rules.workflow import OrganisationDetails
    slot = create_slot(capacity=12)
    created = _book(client, slot)
    entry, _ = join_waitlist(db.session, slot, WaitlistRequest(
        organisation=OrganisationDetails(name="开州中学", kind=OrganisationKind.SCHOOL),
        contact_name="李老师", contact_phone="13912345678", party_size=10))
    db.session.commit()
    response = client.delete(f"{API}/bookings/{created['reference']}",
                             headers=bearer(created["manage_token"]))
    assert response.status_code == 200
    entry = db.session.get(WaitlistEntry, entry.id)
    db.session.refresh(entry)
    db.session.refresh(slot)
    assert (entry.state, entry.seats_held, slot.taken) == (WaitlistState.OFFERED, 10, 10)


def test_cancelling_after_the_deadline_is_refused(client, create_venue, create_slot,
                                                  create_booking):
    venue = open_every_day(create_venue())
    slot = create_slot(venue, day=local_today() - timedelta(days=1))
    booking, token = create_booking(slot, now=slot.starts_at - timedelta(days=10))
    response = client.delete(f"{API}/bookings/{booking.reference}", headers=bearer(token))
    assert (response.status_code, response.get_json()["error"]["code"]) == (409,
                                                                            "past_deadline")
    db.session.refresh(slot)
    assert slot.taken == 10


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_booking_lookups_are_rate_limited_with_a_json_429(self, client, create_slot):
        slot = create_slot()
        created = _book(client, slot)
        url = f"{API}/bookings/{created['reference']}"
        # GET and DELETE share the budget of 30 a minute per address.
        for attempt in range(30):
            call = client.get if attempt % 2 else client.delete
            assert call(url, headers=bearer(f"guess-{attempt}")).status_code == 404
        refused = client.get(url, headers=bearer(created["manage_token"]))
        assert refused.status_code == 429
        assert refused.get_json()["error"]["code"] == "rate_limited"
        assert_documented(refused, "/bookings/{reference}", "get")
        # Listing slots is not a lookup of someone's booking.
        assert client.get(f"{API}/slots").status_code == 200


# -- errors for routes and methods -----------------------------------------------------------

def test_unknown_api_route_is_json_404(client):
    response = client.get(f"{API}/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "未找到。"}}


def test_wrong_method_is_json_405(client):
    response = client.put(f"{API}/slots")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# -- the OpenAPI document --------------------------------------------------------------------

def test_openapi_document_is_served_and_valid(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate_openapi(document)
    assert document["components"]["securitySchemes"]["manageToken"]["scheme"] == "bearer"
    post = document["paths"]["/bookings"]["post"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in post["parameters"]


def test_openapi_describes_exactly_the_api_routes_public_and_staff(app):
    def shape(template: str) -> str:  # parameter names may differ: /roster/{venue}/{date}
        return re.sub(r"\{[^}]*\}", "{}", template)

    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(f"{API}/"):
            continue
        template = path[len(API):].replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((shape(template), method.lower()))
    documented = {(shape(path), method) for path, item in OPENAPI["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert any(path.startswith("/staff/") for path, _ in routes)
    assert routes == documented


def test_openapi_example_request_validates_against_request_schema(create_slot):
    slot = create_slot()
    schema = {"$ref": "urn:openapi#/components/schemas/BookingCreate"}
    validator = Draft202012Validator(schema, registry=_registry())
    validator.validate(booking_body(slot, organisation={
        "name": "开州中学", "kind": "school", "credit_code": VALID_CREDIT_CODE}, language="en"))
    assert not validator.is_valid(booking_body(slot, party_size="12"))
