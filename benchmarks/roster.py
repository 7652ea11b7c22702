"""Benchmark: the daily roster for a busy day — 40 groups, 2,000 attendees.

Run from the repo root: python benchmarks/roster.py

Builds the day in a temporary SQLite database through the real rule functions (every group
checked in, so all 2,000 attendance checkboxes are on the page), signs a staff user in, and
times through the Flask test client (best of N, each request in its own app context like a
real one):

* the roster HTML page (target ≤ 50 ms),
* the roster PDF download (target ≤ 300 ms),

and counts the SQL statements of one roster page for a day of 5 groups and for the day of
40 groups: they must be equal. Exits 1 when a target is missed or the counts differ.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gc  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import time as clock_time  # noqa: E402
from datetime import timedelta  # noqa: E402

from sqlalchemy import event  # noqa: E402

from booking.clock import at_local, local_today  # noqa: E402
from booking.models import OrganisationKind, Role, StaffUser, Venue  # noqa: E402
from booking.models.db import db  # noqa: E402
from booking.rules import checkin  # noqa: E402
from booking.rules.slots import SlotFacts, create_slot  # noqa: E402
from booking.rules.workflow import BookingRequest, OrganisationDetails, create_booking  # noqa: E402
from run import create_app  # noqa: E402

HTML_TARGET_MS = 50
PDF_TARGET_MS = 300
HTML_REPEATS = 25
PDF_REPEATS = 7
GROUPS = 40
PER_GROUP = 50
SMALL_GROUPS = 5
PASSWORD = "benchmark password"
STARTS = [(9, 0), (9, 30), (10, 30), (11, 0), (14, 0), (14, 30), (15, 30), (16, 0)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "海燕", "志强", "秀英", "文博", "晓明", "丽华", "德胜", "春梅", "子涵"]


def _build_day(session, venue: Venue, day, groups: int) -> None:
    slots = []
    for hour, minute in STARTS:
        starts_at = at_local(day, clock_time(hour, minute), venue.tz)
        slots.append(create_slot(session, venue, starts_at, starts_at + timedelta(minutes=90), 300,
                                 SlotFacts(title="学习百年党史 感悟刘帅精神", lecturer_name="陈静",
                                           equipment="党旗\n誓词背景板\n音响")))
    for n in range(groups):
        slot = slots[n % len(slots)]
        names = [f"{SURNAMES[(n + i) % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}{i:02d}"
                 for i in range(PER_GROUP)]
        booking, _ = create_booking(session, BookingRequest(
            slot_id=slot.id, party_size=PER_GROUP, contact_name="王建国",
            contact_phone=f"139{n:08d}", attendee_names=names,
            organisation=OrganisationDetails(f"开州区第{n + 1}党支部",
                                             OrganisationKind.PARTY_ORGANISATION),
            notes="需要讲解器" if n % 3 == 0 else ""), now=slot.starts_at - timedelta(days=14))
        checkin.check_in_group(session, booking, PER_GROUP - n % 4, None, slot.starts_at)
        checkin.set_attendance(session, booking, {a.id for a in booking.attendees[::2]}, None,
                               slot.starts_at)
    session.commit()


def _best_ms(fn, repeats: int) -> float:
    fn()  # warm caches: templates, fonts, compiled statements
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/roster.db", "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        busy_day = local_today()
        quiet_day = busy_day + timedelta(days=1)
        with app.app_context():
            db.create_all()
            venue = Venue(code="LBC", name="刘伯承同志纪念馆", groups_on_holidays=True,
                          daily_cap=2500, issuing_unit="刘伯承同志纪念馆")
            user = StaffUser(username="desk", display_name="前台", role=Role.STAFF)
            user.set_password(PASSWORD)
            db.session.add_all([venue, user])
            db.session.flush()
            venue.weekly_closed_day = None  # open every day (None on insert means the default)
            db.session.commit()
            _build_day(db.session, venue, busy_day, GROUPS)
            _build_day(db.session, venue, quiet_day, SMALL_GROUPS)
            engine = db.engine

        client = app.test_client()
        assert client.post("/staff/login", data={"username": "desk",
                                                 "password": PASSWORD}).status_code == 302
        busy_url = f"/staff/roster/LBC/{busy_day.isoformat()}"
        quiet_url = f"/staff/roster/LBC/{quiet_day.isoformat()}"

        def get(url: str) -> bytes:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.data

        page = get(busy_url).decode()
        checkboxes = page.count('name="attended"')
        pdf = get(busy_url + ".pdf")

        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        counts = {}
        for groups, url in ((SMALL_GROUPS, quiet_url), (GROUPS, busy_url)):
            statements.clear()
            get(url)
            counts[groups] = len(statements)
        event.remove(engine, "before_cursor_execute", count)

        html_ms = _best_ms(lambda: get(busy_url), HTML_REPEATS)
        pdf_ms = _best_ms(lambda: get(busy_url + ".pdf"), PDF_REPEATS)

    print(f"roster day: {GROUPS} groups, {GROUPS * PER_GROUP} attendees "
          f"({checkboxes} attendance checkboxes, page {len(page) / 1024:.0f} KiB, "
          f"PDF {len(pdf) / 1024:.0f} KiB)")
    print(f"HTML page      {html_ms:7.1f} ms  "
          f"(best of {HTML_REPEATS}; target ≤ {HTML_TARGET_MS} ms)")
    print(f"PDF download   {pdf_ms:7.1f} ms  "
          f"(best of {PDF_REPEATS}; target ≤ {PDF_TARGET_MS} ms)")
    print(f"SQL queries per roster page: {counts[SMALL_GROUPS]} for {SMALL_GROUPS} groups, "
          f"{counts[GROUPS]} for {GROUPS} groups")
    ok = (html_ms <= HTML_TARGET_MS and pdf_ms <= PDF_TARGET_MS
          and counts[SMALL_GROUPS] == counts[GROUPS])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
