"""Lecturers' and guides' workload: sessions held, hours and people per person and month; staff
see everyone, a guide sees their own sessions; exported to Excel."""
from __future__ import annotations

import io
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from booking.clock import utcnow
from booking.models import BookingState, OfflineVisit, OrganisationKind, Role
from booking.models.db import db
from booking.rules.workload import workload
from tests.fixtures.report_counts import open_day

START, END = date(2025, 1, 1), date(2025, 12, 31)


@pytest.fixture
def sessions(create_venue, create_slot, create_booking, create_user):
    hall = create_venue("LBC", name="刘伯承同志纪念馆")
    guide = create_user("chenjing", Role.GUIDE)

    def held(day, start, lecturer, people, state=BookingState.COMPLETED, minutes=90, **kw):
        slot = create_slot(hall, day=day, start=start, minutes=minutes, capacity=200,
                           lecturer_name=lecturer, **kw)
        for size in people:
            booking, _ = create_booking(slot, party_size=size,
                                        now=slot.starts_at - timedelta(days=10))
            booking.state = state
            db.session.commit()
        return slot

    march, april = open_day(2025, 3, 4), open_day(2025, 4, 8)
    held(march, time(9), "陈静", [20, 15], guide_user_id=guide.id)
    held(march, time(14), "陈静", [30], minutes=60, guide_user_id=guide.id)
    held(april, time(9), "陈静", [25], guide_user_id=guide.id)
    held(april, time(10, 30), "李明", [40])
    held(april, time(14), "李明", [40], state=BookingState.NO_SHOW)   # nobody came: not held
    held(april, time(15, 30), "李明", [40], state=BookingState.CANCELLED)
    db.session.add(OfflineVisit(venue_id=hall.id, day=date(2025, 5, 5), organisation_name="某单位",
                                organisation_kind=OrganisationKind.SCHOOL, title="参观",
                                people=60, training_hours=Decimal("1.5"), lecturer_name="李明"))
    db.session.commit()
    return guide


def test_sessions_hours_and_people_per_person_and_month(sessions):
    result = workload(db.session, START, END, utcnow())
    totals = {r.person: (r.sessions, r.hours, r.people) for r in result.people}
    assert totals == {"陈静": (3, Decimal("4.0"), 90), "李明": (2, Decimal("3.0"), 100)}
    months = {(r.person, r.month): (r.sessions, r.people) for r in result.months}
    assert months == {("陈静", "2025-03"): (2, 65), ("陈静", "2025-04"): (1, 25),
                      ("李明", "2025-04"): (1, 40), ("李明", "2025-05"): (1, 60)}


def test_staff_see_everyone_and_a_guide_only_their_own(sessions, client, create_user, login):
    query = {"start": START.isoformat(), "end": END.isoformat()}
    login(create_user("desk", Role.STAFF))
    html = client.get("/staff/workload", query_string=query).get_data(as_text=True)
    assert "陈静" in html and "李明" in html
    sheet = load_workbook(io.BytesIO(client.get("/staff/workload.xlsx", query_string=query)
                                     .get_data()))["按人员"]
    assert [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ["陈静", 3, 4, 90], ["李明", 2, 3, 100]]
    client.post("/staff/logout")
    login(sessions)
    html = client.get("/staff/workload", query_string=query).get_data(as_text=True)
    assert "我的讲解工作量" in html and "陈静" in html and "李明" not in html
