"""Calendar, day and programme pages served by version: rendered once per version and worker,
``ETag`` / ``304`` for browsers, and never a seat out of date; their SQL statements stay the
same in number however much data there is."""
from __future__ import annotations

import gc
import re
from datetime import date, time, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import event, update

from booking.models import Slot, SlotState, VenueDay
from booking.models.db import db
from booking.web.page_cache import PageCache
from tests.fixtures.factories import next_open_day
from tests.fixtures.manage_links import open_manage_link


def seats_text(response) -> list[str]:
    return re.findall(r"余 \d+ 座", response.get_data(as_text=True))


def pages_of(slot) -> list[str]:
    return [f"/venues/LBC/calendar?month={slot.day:%Y-%m}",
            f"/venues/LBC/days/{slot.day.isoformat()}",
            f"/programmes/{slot.programme}"]


@pytest.fixture
def programme_slot(create_course, create_slot):
    course = create_course(code="liushuai-spirit")
    return create_slot(course.venue, programme="liushuai-spirit", capacity=40)


def test_a_page_served_from_the_cache_shows_the_seat_just_taken(client, programme_slot,
                                                                 create_booking):
    for path in pages_of(programme_slot):
        before = client.get(path)
        assert client.get(path).get_data() == before.get_data()  # the second one is cached
        create_booking(programme_slot, party_size=10)
        after = client.get(path)
        assert after.status_code == 200
        assert seats_text(after) != seats_text(before), path
        assert after.headers["ETag"] != before.headers["ETag"]
    assert "余 10 座" in client.get(pages_of(programme_slot)[1]).get_data(as_text=True)


def test_the_browser_holding_the_version_gets_304_until_something_changes(
        client, programme_slot, create_booking):
    for path in pages_of(programme_slot):
        first = client.get(path)
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "no-cache"
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        create_booking(programme_slot, party_size=10)
        changed = client.get(path, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize("change", ["slot_closed", "day_closed", "capacity", "title"])
def test_any_change_to_what_the_calendar_shows_changes_its_version(client, programme_slot,
                                                                   change):
    path = pages_of(programme_slot)[0]
    etag = client.get(path).headers["ETag"]
    slot, venue_day = Slot.__table__, VenueDay.__table__
    statement = {
        "slot_closed": update(slot).values(state=SlotState.CLOSED),
        "day_closed": update(venue_day).values(closed=True, reason="设备检修"),
        "capacity": update(slot).values(capacity=45),
        "title": update(slot).values(title="红色主题党日"),
    }[change]
    db.session.execute(statement)
    db.session.commit()
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_same_page_in_another_language_is_another_version(client, programme_slot):
    path = pages_of(programme_slot)[0]
    chinese = client.get(path)
    client.get("/language/en?next=/")
    refresh()  # the test app context outlives requests; Flask-Babel caches the locale in it
    english = client.get(path)
    assert english.headers["ETag"] != chinese.headers["ETag"]
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert '<html lang="zh-CN"' in chinese.get_data(as_text=True)


def test_a_page_with_a_flashed_message_is_neither_cached_nor_tagged(client, programme_slot):
    with client.session_transaction() as session:
        session["_flashes"] = [("error", "该场次已停止预约。")]
    response = client.get(pages_of(programme_slot)[0])
    assert "ETag" not in response.headers
    assert "该场次已停止预约。" in response.get_data(as_text=True)


def test_the_page_cache_stays_within_its_bounds():
    cache = PageCache(max_entries=3, max_bytes=100)
    for n in range(10):
        cache.put(f"k{n}", b"x" * 30)
    assert len(cache) == 3 and cache.get("k0") is None and cache.get("k9") is not None
    cache.put("big", b"x" * 101)
    assert cache.get("big") is None


# --- statements per page: the same on little and on much data --------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _statements(client, path: str, headers: dict | None = None) -> int:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(statement)
    # As in a real request, nothing already loaded: test requests share one session, whose
    # identity map may still hold the signed-in user until the garbage collector happens to
    # run (then the user's SELECT comes and goes with the machine's timing).
    gc.collect()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def _counts(app, client, paths: list[str]) -> dict[str, tuple[int, int]]:
    """(statements with a cold cache, statements with a warm one) per page."""
    counts = {}
    for path in paths:
        app.extensions.pop("page_cache", None)
        counts[path] = (_statements(client, path), _statements(client, path))
    return counts


def test_statements_per_page_do_not_grow_with_the_data(app, client, create_course, create_slot,
                                                       create_booking, create_user):
    """Public pages, feeds and the API, and the staff's roster and statistics: as many SQL
    statements with 1 booking as with 165 (and 77 slots instead of 1)."""
    course = create_course(code="liushuai-spirit")
    venue = course.venue
    first = next_open_day()
    slot = create_slot(venue, day=first, programme=course.code, capacity=500)
    booking, token = create_booking(slot, party_size=10)
    manage = open_manage_link(client, booking.reference, token)  # the cookie, then no token
    paths = [*pages_of(slot), "/", f"/slots/{slot.id}/book",
             f"/api/v1/slots?venue=LBC&from={first}&to={first + timedelta(days=27)}",
             "/venues/LBC/sessions.ics", f"/programmes/{course.code}/sessions.ics",
             f"{manage}/booking.ics"]
    staff_paths = [f"/staff/roster/LBC/{first.isoformat()}",
                   f"/staff/statistics?start={first - timedelta(days=400)}"
                   f"&end={first + timedelta(days=30)}"]
    staff = app.test_client()  # signed in; the public pages are read by an anonymous visitor
    staff.post("/staff/login", data={"username": create_user().username,
                                     "password": "correct horse battery"})
    api_lookup = (f"/api/v1/bookings/{booking.reference}", {"Authorization": f"Bearer {token}"})
    small = {**_counts(app, client, paths), **_counts(app, staff, staff_paths)}
    small[api_lookup[0]] = (_statements(client, *api_lookup),) * 2

    for offset in range(0, 20):  # inside the 30-day booking window
        for start in (time(9), time(10, 30), time(14), time(15, 30)):
            day = first + timedelta(days=offset)
            if (offset, start) == (0, time(9)) or day.weekday() == venue.weekly_closed_day:
                continue
            extra = create_slot(venue, day=day, start=start, programme=course.code,
                                capacity=500)
            for _ in range(2):
                create_booking(extra, party_size=10)
    for _ in range(5):
        create_booking(slot, party_size=10)
    large = {**_counts(app, client, paths), **_counts(app, staff, staff_paths)}
    large[api_lookup[0]] = (_statements(client, *api_lookup),) * 2

    assert large == small
    assert all(warm <= cold for cold, warm in small.values())
    assert small[paths[0]][1] == 3  # a cached calendar: the venue, its slots' and days' rows


def test_version_queries_see_a_day_with_no_slots_too(client, create_venue):
    create_venue()
    day = date(2031, 3, 4)
    response = client.get(f"/venues/LBC/days/{day.isoformat()}")
    assert response.status_code == 200 and response.headers["ETag"]
