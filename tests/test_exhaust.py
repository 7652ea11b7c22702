"""The calendar-exhaustion attacker of benchmarks/exhaust.py, over HTTP against a small
calendar (SQLite and PostgreSQL): from one address with rotating phones, and from rotating
addresses with one phone, it takes no more than the configured limits, solving every
proof-of-work challenge it is asked for; a real group still books afterwards."""
from __future__ import annotations

import importlib.util
import sys
import time as clock
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.models import Booking
from booking.models.db import db
from tests.fixtures.factories import next_open_day

_spec = importlib.util.spec_from_file_location(
    "exhaust_benchmark", Path(__file__).resolve().parent.parent / "benchmarks" / "exhaust.py")
exhaust = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = exhaust       # dataclasses look their module up there
_spec.loader.exec_module(exhaust)

LIMITS = {"RATELIMIT_ENABLED": True, "TRUSTED_PROXIES": 1,
          "BOOKING_LIMITS": {"upcoming": 3, "seats_per_day": 150},
          # Windows of an hour and more, so the test's own speed cannot change the outcome.
          "BOOKING_RATE_LIMIT": "4 per hour;20 per day", "BOOKING_PHONE_RATE_LIMIT": "10 per day",
          "CHALLENGE_AFTER": "2 per hour", "ALTCHA_COST": 5, "ALTCHA_COUNTER_MAX": 30}


@pytest.fixture
def app_config() -> dict:
    return LIMITS


def test_an_attacker_cannot_take_more_than_the_limits_and_a_real_group_still_books(
        app, create_slot, live_server):
    starts = [time(9), time(10, 30), time(14), time(15, 30)]
    for n in range(12):
        create_slot(day=next_open_day(7 + n // 4), start=starts[n % 4], capacity=50,
                    party_size_min=10)
    db.session.commit()             # the test holds no transaction while the server writes
    client = exhaust.Client(live_server)
    slots = exhaust.bookable_slots(client)
    assert len(slots) == 12
    allowed = exhaust.allowed(LIMITS, venues=1)
    assert allowed == {"one address": 4, "rotating addresses": 3}

    deadline = clock.monotonic() + 600
    one = exhaust.attack(client, slots, "one address", False, give_up=5, deadline=deadline)
    assert one.bookings == allowed["one address"]
    assert one.challenges_solved >= 1              # past CHALLENGE_AFTER it had to solve
    assert one.answers["429 rate_limited"] == 5

    rotating = exhaust.attack(client, slots[one.bookings:], "rotating addresses", True,
                              give_up=5, deadline=deadline)
    assert rotating.bookings == allowed["rotating addresses"]
    assert rotating.challenges_solved >= 1
    assert rotating.answers["422 too_many_bookings"] >= 1

    assert exhaust.real_group_books(client) == (201, "")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 4 + 3 + 1
