"""Nobody can empty the calendar: limits per contact (organisation or phone) at a venue on
the form, the API and the waiting list, and booking rate limits per address and per phone.
The exhaustion script at the end books as an attacker would, from one address with rotating
phones and from rotating addresses with one phone; real groups still get their sessions."""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from booking.models import Booking
from booking.models.db import db
from booking.rules.capacity import claim_seats
from tests.fixtures.factories import next_open_day

LIMITS = {"BOOKING_LIMITS": {"upcoming": 2, "seats_per_day": 30}}


def _form(phone="13812341234", org="开州区汉丰街道党工委", size=12):
    return {"organisation_name": org, "organisation_kind": "party_organisation",
            "contact_name": "王建国", "contact_phone": phone, "party_size": str(size),
            "consent": "y"}


def _api_body(slot, phone="13812341234", org="开州区汉丰街道党工委", size=12):
    return {"slot_id": slot.id, "organisation": {"name": org, "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": phone}, "party_size": size, "attendees": []}


def _slots(create_slot, count, capacity=50):
    slots = []
    for n in range(count):
        day = next_open_day(7 + n // 4)
        slots.append(create_slot(day=day, start=[time(9), time(10, 30), time(14), time(15, 30)]
                                 [n % 4], capacity=capacity))
    return slots


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking))


@pytest.mark.parametrize("app_config", [LIMITS])
def test_one_contact_holds_at_most_the_upcoming_limit_on_the_form(client, create_slot):
    slots = _slots(create_slot, 3)
    for slot in slots[:2]:
        assert client.post(f"/slots/{slot.id}/book", data=_form()).status_code == 302
    refused = client.post(f"/slots/{slots[2].id}/book", data=_form())
    assert refused.status_code == 422
    assert "最多可同时有 2 个未完成的预约" in refused.get_data(as_text=True)
    # Another organisation with the same phone is the same contact.
    again = client.post(f"/slots/{slots[2].id}/book", data=_form(org="另一个单位"))
    assert again.status_code == 422
    assert _count() == 2


@pytest.mark.parametrize("app_config", [LIMITS])
def test_the_api_applies_the_same_limits_with_an_error_code(client, create_slot):
    slots = _slots(create_slot, 3)
    for slot in slots[:2]:
        assert client.post("/api/v1/bookings", json=_api_body(slot)).status_code == 201
    refused = client.post("/api/v1/bookings", json=_api_body(slots[2], org="换个名字"))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "too_many_bookings"


@pytest.mark.parametrize("app_config", [LIMITS])
def test_seats_per_day_are_limited_per_contact(client, create_slot):
    day = next_open_day()
    morning, afternoon = create_slot(day=day, start=time(9)), create_slot(day=day, start=time(14))
    assert client.post("/api/v1/bookings", json=_api_body(morning, size=20)).status_code == 201
    refused = client.post("/api/v1/bookings", json=_api_body(afternoon, size=11))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "too_many_seats"


@pytest.mark.parametrize("app_config", [LIMITS])
def test_the_waiting_list_counts_against_the_same_limit(client, create_slot):
    slots = _slots(create_slot, 3)
    for slot in slots[:2]:
        assert client.post("/api/v1/bookings", json=_api_body(slot)).status_code == 201
    full = slots[2]
    claim_seats(db.session, full, full.capacity)
    db.session.commit()
    refused = client.post(f"/slots/{full.id}/waitlist", data=_form(org="候补单位"))
    assert refused.status_code == 422
    assert "最多可同时有 2 个未完成的预约" in refused.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"BOOKING_LIMITS": {"upcoming": 5},
                                         "BOOKING_LIMITS_BY_VENUE": {"LBC": {"upcoming": 1}}}])
def test_limits_are_configured_per_venue(client, create_slot):
    slots = _slots(create_slot, 2)
    assert client.post("/api/v1/bookings", json=_api_body(slots[0])).status_code == 201
    assert client.post("/api/v1/bookings", json=_api_body(slots[1])).status_code == 422


# --- the exhaustion script ----------------------------------------------------------------

ATTACK = {"RATELIMIT_ENABLED": True, "BOOKING_LIMITS": {"upcoming": 6, "seats_per_day": 150},
          "BOOKING_RATE_LIMIT": "5 per minute;30 per hour;100 per day",
          "BOOKING_PHONE_RATE_LIMIT": "10 per day"}


@pytest.mark.parametrize("app_config", [ATTACK])
def test_one_address_with_rotating_phones_cannot_empty_the_calendar(app, create_slot):
    slots = _slots(create_slot, 40)
    attacker, museum_visitor = app.test_client(), app.test_client()
    taken = 0
    for n, slot in enumerate(slots):
        response = attacker.post("/api/v1/bookings", json=_api_body(
            slot, phone=f"139{n:08d}", org=f"假单位{n}", size=50),
            environ_base={"REMOTE_ADDR": "203.0.113.5"})
        taken += response.status_code == 201
        assert response.status_code in (201, 429)
    assert taken == 5                                   # the per-address limit a minute
    real = museum_visitor.post("/api/v1/bookings", json=_api_body(slots[-1], size=30),
                               environ_base={"REMOTE_ADDR": "198.51.100.20"})
    assert real.status_code == 201


@pytest.mark.parametrize("app_config", [ATTACK])
def test_rotating_addresses_with_one_phone_meet_the_contact_limits(app, create_slot):
    slots = _slots(create_slot, 20)
    attacker = app.test_client()
    answers = [attacker.post("/api/v1/bookings", json=_api_body(slot, org=f"假单位{n}"),
                             environ_base={"REMOTE_ADDR": f"10.1.{n}.1"}).status_code
               for n, slot in enumerate(slots)]
    assert answers.count(201) == 6                      # upcoming bookings per contact
    assert _count() == 6
