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

Each of them finds its rows through an index, so a booking costs the same with a year of
history behind it: ``test_the_booking_path_searches_indexes_and_scans_no_table`` reads
SQLite's query plans (an ``OR`` of two columns, an ``IS NULL`` on a unique column or an
``ORDER BY id`` made it walk whole tables before).
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


#: What a plan may SCAN: SQLite's one-row stand-in for a FROM-less SELECT, and the contact's
#: few bookings once collected (a materialised subquery).
_SCANS_ALLOWED = ("SCAN CONSTANT ROW", "SCAN anon_")


@pytest.mark.parametrize("organisation", ["new", "known"])
def test_the_booking_path_searches_indexes_and_scans_no_table(tmp_path, organisation):
    from tests.fixtures.app import make_app
    from tests.fixtures.factories import next_open_day

    app = make_app(f"sqlite:///{tmp_path / 'plans.db'}")
    app.config["BOOKING_LIMITS"] = _default_config(Path(app.instance_path))["BOOKING_LIMITS"]
    client = app.test_client()
    with app.app_context():
        db.create_all()
        slot_id = _open_slot(next_open_day())
        if organisation == "known":
            assert client.post("/api/v1/bookings", data=_body(slot_id, "开州区汉丰街道党工委"),
                               content_type="application/json").status_code == 201
        seen: list[tuple[str, tuple]] = []

        def record(conn, cursor, statement, parameters, *args):
            seen.append((statement, parameters))
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.post("/api/v1/bookings", data=_body(slot_id, "开州区汉丰街道党工委"),
                               content_type="application/json").status_code == 201
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        reads = [(s, p) for s, p in seen if s.lstrip().startswith(("SELECT", "UPDATE"))]
        assert len(reads) >= 5  # slot, organisation, limits, the two counters
        connection = db.session.connection()
        for statement, parameters in reads:
            plan = [row[-1] for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)]
            scans = [step for step in plan
                     if step.startswith("SCAN") and not step.startswith(_SCANS_ALLOWED)]
            assert not scans, f"{statement.splitlines()[0]}\n" + "\n".join(plan)
            assert not any("ix_booking_state" in step for step in plan), "\n".join(plan)
        db.session.rollback()
        db.engine.dispose()


def _open_slot(day) -> int:
    from datetime import time, timedelta

    from booking.clock import at_local
    from booking.models import Venue
    from booking.rules.slots import SlotFacts, create_slot

    venue = Venue(code="LBC", name="刘伯承同志纪念馆", weekly_closed_day=None,
                  groups_on_holidays=True, daily_cap=10_000)
    db.session.add(venue)
    db.session.flush()
    starts_at = at_local(day, time(9), venue.tz)
    slot = create_slot(db.session, venue, starts_at, starts_at + timedelta(minutes=90), 500,
                       SlotFacts(title="学习百年党史 感悟刘帅精神", party_size_min=1,
                                 party_size_max=50))
    db.session.commit()
    return slot.id
