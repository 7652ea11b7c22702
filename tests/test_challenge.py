"""Past the soft threshold CHALLENGE_AFTER, a booking attempt (form or API) must carry a solved
ALTCHA proof-of-work challenge; each solution is accepted once; expired and forged ones are
refused; below the threshold nobody sees a challenge."""
from __future__ import annotations

import base64
import json
from datetime import time

import altcha
import pytest
from sqlalchemy import func, select

from booking.models import Booking
from booking.models.db import db
from tests.fixtures.factories import next_open_day

# Easy challenges, so the test solves them in milliseconds.
CHALLENGE = {"RATELIMIT_ENABLED": True, "CHALLENGE_AFTER": "2 per hour",
             "BOOKING_RATE_LIMIT": "100 per minute", "BOOKING_PHONE_RATE_LIMIT": "100 per day",
             "ALTCHA_COST": 5, "ALTCHA_COUNTER_MAX": 30}


@pytest.fixture
def app_config() -> dict:
    return CHALLENGE


def _slots(create_slot, count):
    starts = [time(9), time(10, 30), time(14), time(15, 30)]
    return [create_slot(day=next_open_day(7 + n // 4), start=starts[n % 4]) for n in range(count)]


def _body(slot, phone="13812341234", org="开州区汉丰街道党工委"):
    return {"slot_id": slot.id, "organisation": {"name": org, "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": phone}, "party_size": 12, "attendees": []}


def _form(phone="13812341234", org="开州区汉丰街道党工委", **extra):
    return {"organisation_name": org, "organisation_kind": "party_organisation",
            "contact_name": "王建国", "contact_phone": phone, "party_size": "12",
            "consent": "y", **extra}


def _solve(client) -> str:
    answer = client.get("/api/v1/challenge")
    assert answer.status_code == 200
    challenge = altcha.Challenge.from_dict(answer.get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_below_the_threshold_nobody_sees_a_challenge(client, create_slot):
    slots = _slots(create_slot, 2)
    assert "altcha-widget" not in client.get(f"/slots/{slots[0].id}/book").get_data(as_text=True)
    assert client.post(f"/slots/{slots[0].id}/book", data=_form()).status_code == 302
    assert client.post("/api/v1/bookings", json=_body(slots[1], org="另一单位")).status_code == 201
    assert _count() == 2


def test_the_api_asks_for_a_challenge_past_the_threshold_and_takes_a_solution_once(
        client, create_slot):
    slots = _slots(create_slot, 5)
    for n in range(2):
        assert client.post("/api/v1/bookings",
                           json=_body(slots[n], phone=f"1391234000{n}")).status_code == 201
    refused = client.post("/api/v1/bookings", json=_body(slots[2], phone="13912340002"))
    assert refused.status_code == 428
    error = refused.get_json()["error"]
    assert error["code"] == "challenge_required"
    assert error["challenge_url"] == "/api/v1/challenge"
    assert "Altcha" in error["message"]

    solution = _solve(client)
    made = client.post("/api/v1/bookings", json=_body(slots[2], phone="13912340002"),
                       headers={"Altcha": solution})
    assert made.status_code == 201
    replay = client.post("/api/v1/bookings", json=_body(slots[3], phone="13912340003"),
                         headers={"Altcha": solution})
    assert replay.status_code == 428
    assert replay.get_json()["error"]["code"] == "challenge_invalid"
    assert _count() == 3


def test_the_phone_is_counted_too_whatever_the_address(client, create_slot):
    slots = _slots(create_slot, 3)
    for n in range(2):
        answer = client.post("/api/v1/bookings", json=_body(slots[n], org=f"单位{n}"),
                             environ_base={"REMOTE_ADDR": f"10.9.0.{n}"})
        assert answer.status_code == 201
    third = client.post("/api/v1/bookings", json=_body(slots[2], org="单位2"),
                        environ_base={"REMOTE_ADDR": "10.9.0.7"})
    assert third.status_code == 428


def _tampered(solution: str) -> str:
    payload = json.loads(base64.b64decode(solution))
    payload["challenge"]["parameters"]["cost"] = 1
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _forged_with_another_key() -> str:
    challenge = altcha.create_challenge("PBKDF2/SHA-256", 5, counter=3,
                                        expires_at=2_000_000_000, hmac_secret="not-ours")
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def _expired(app) -> str:
    with app.test_request_context():
        app.config["ALTCHA_EXPIRES_SECONDS"] = -5
        from booking.web.challenge import new_challenge
        challenge = altcha.Challenge.from_dict(new_challenge())
        app.config["ALTCHA_EXPIRES_SECONDS"] = 600
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


@pytest.mark.parametrize("bad", ["forged", "tampered", "expired", "garbage", "wrong_answer"])
def test_forged_tampered_expired_or_wrong_solutions_are_refused(app, client, create_slot, bad):
    slot = _slots(create_slot, 1)[0]
    for _ in range(2):
        client.post("/api/v1/bookings", json={})          # two attempts: past the threshold
    if bad == "wrong_answer":
        payload = json.loads(base64.b64decode(_solve(client)))
        payload["solution"]["derivedKey"] = "00" * 32
        solution = base64.b64encode(json.dumps(payload).encode()).decode()
    else:
        solution = {"forged": _forged_with_another_key, "tampered": lambda: _tampered(
            _solve(client)), "expired": lambda: _expired(app),
            "garbage": lambda: "\u00e9not base64 at all"}[bad]()
    answer = client.post("/api/v1/bookings", json=_body(slot), headers={"Altcha": solution})
    assert answer.status_code == 428
    assert answer.get_json()["error"]["code"] == "challenge_invalid"
    assert _count() == 0


def test_the_form_shows_the_widget_past_the_threshold_and_needs_a_solution(client, create_slot):
    slots = _slots(create_slot, 4)
    for n in range(2):
        assert client.post(f"/slots/{slots[n].id}/book",
                           data=_form(phone=f"1391234000{n}")).status_code == 302
    page = client.get(f"/slots/{slots[2].id}/book").get_data(as_text=True)
    assert '<altcha-widget challenge="/api/v1/challenge"' in page
    assert "此项验证需要启用浏览器的 JavaScript" in page           # the no-JS explanation
    assert "vendor/altcha/altcha.min.js" in page

    refused = client.post(f"/slots/{slots[2].id}/book", data=_form(phone="13912340002"))
    assert refused.status_code == 422
    assert "请等待下方的人机验证完成" in refused.get_data(as_text=True)
    solution = _solve(client)
    made = client.post(f"/slots/{slots[2].id}/book",
                       data=_form(phone="13912340002", altcha=solution))
    assert made.status_code == 302
    replay = client.post(f"/slots/{slots[3].id}/book",
                         data=_form(phone="13912340003", altcha=solution))
    assert replay.status_code == 422
    assert "已过期或已使用过" in replay.get_data(as_text=True)
    assert _count() == 3


def test_the_form_explains_the_check_in_english(client, create_slot):
    slot = _slots(create_slot, 1)[0]
    client.set_cookie("lang", "en")
    for _ in range(2):
        client.post(f"/slots/{slot.id}/book", data={})
    refused = client.post(f"/slots/{slot.id}/book", data=_form()).get_data(as_text=True)
    assert "needs JavaScript" in refused
    assert "solves it by itself" in refused


@pytest.mark.parametrize("app_config", [{**CHALLENGE, "CHALLENGE_AFTER": ""},
                                        {**CHALLENGE, "CHALLENGE_AFTER": 0}])
def test_an_empty_or_zero_threshold_switches_the_challenge_off(client, create_slot):
    slots = _slots(create_slot, 4)
    answers = [client.post("/api/v1/bookings", json=_body(slot, phone=f"1391234000{n}"))
               .status_code for n, slot in enumerate(slots)]
    assert answers == [201] * 4
