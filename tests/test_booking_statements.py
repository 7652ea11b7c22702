"""The booking path stays short: at most 9 SQL statements (transaction control included)
for a booking through the API by a known organisation, one more (its INSERT) for a new one,
with the limits per contact of the shipped configuration and the confirmation queued by text
message included (issue 12's target: at most 10).

The statements, in order (SQLite; PostgreSQL's BEGIN is implicit, so one fewer there):

1. BEGIN IMMEDIATE
2. SELECT the slot, its VenueDay and venue, and the working-day corrections around today
   (a scalar subquery)
3. SELECT the organisation by credit code or name, together with every organisation suspended
   today (the suspension check by normalised name and phone reads them)
   - new organisation only: INSERT INTO organisation
4. SELECT the limits per contact: upcoming bookings, waiting-list places and the day's seats
   (three scalar subqueries)
5. UPDATE slot (seats claimed if they fit)
6. UPDATE venue_day (likewise)
7. INSERT INTO booking ... ON CONFLICT (reference) DO NOTHING RETURNING (the booking loaded)
8. INSERT INTO attendee
9. INSERT INTO sms_message (the confirmation)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import event

from booking.models.db import db
from run import _default_config

#: SQLite opens the transaction with a statement of its own (BEGIN IMMEDIATE).
MAX_STATEMENTS = {("sqlite", "known"): 9, ("sqlite", "new"): 10,
                  ("postgresql", "known"): 8, ("postgresql", "new"): 9}


def _body(slot_id: int, name: str) -> str:
    return json.dumps({"slot_id": slot_id, "party_size": 10, "attendees": ["王伟", "李芳"],
                       "organisation": {"name": name, "kind": "party_organisation"},
                       "contact": {"name": "王建国", "phone": "13800138000"}})


@pytest.mark.parametrize("organisation", ["new", "known"])
def test_a_booking_sends_at_most_nine_statements_plus_a_new_organisation(
        app, backend, client, create_slot, organisation):
    shipped = _default_config(Path(app.instance_path))
    app.config["BOOKING_LIMITS"] = shipped["BOOKING_LIMITS"]
    assert app.config["BOOKING_LIMITS"]["upcoming"] and app.config["BOOKING_LIMITS"]["seats_per_day"]
    slot = create_slot(capacity=500)
    if organisation == "known":
        assert client.post("/api/v1/bookings", data=_body(slot.id, "开州区汉丰街道党工委"),
                           content_type="application/json").status_code == 201
    slot_id = slot.id
    db.session.remove()  # as in a real request: nothing already loaded
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post("/api/v1/bookings", data=_body(slot_id, "开州区汉丰街道党工委"),
                               content_type="application/json")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 201
    assert len(seen) <= MAX_STATEMENTS[backend, organisation], "\n".join(s.split("\n")[0] for s in seen)
    assert any("calendar_correction" in s and "FROM slot" in s for s in seen)
