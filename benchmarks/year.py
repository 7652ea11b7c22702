"""Benchmark: the public and staff pages on the demo data, then on a year of history.

Run from the repo root: python benchmarks/year.py [--scale 1.0] [--database URL] [--repeat 8]

A fresh database (a temporary SQLite file, or ``--database`` e.g. a scratch PostgreSQL
database, which is emptied first) gets ``init-db`` and ``load-demo``; every page below is
timed in-process (Flask test client, CPU seconds of this process per request, SQL statements
per request). Then a year of past sessions is bulk-inserted with Core ``executemany``
(``--scale 1.0``: ~2,500 sessions, ~50,000 bookings, ~1,000,000 attendees and a certificate
for each attendee who came; ``--scale 0.1`` is a tenth of that) and the same pages are timed
again. Printed: each page's CPU ms and statements on demo and on the year, and their ratio
(target: <= 2x; statistics, whose work follows the range asked for, <= 200 ms for a year).
Bounded by ``--repeat``; loopback only (no network at all).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from datetime import time as clock  # noqa: E402

from sqlalchemy import event, func, insert, select, text  # noqa: E402

SESSIONS = 2_500
BOOKINGS_PER_SESSION = 20
ATTENDEES_PER_BOOKING = 20
CHUNK = 20_000
TIMES = (clock(9), clock(10, 30), clock(14), clock(15, 30))


class StatementCounter:
    """Counts the SQL statements sent on an engine while ``active``."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1


def measure(client, counter, path: str, repeat: int, headers=None) -> tuple[float, float, int]:
    """(CPU ms per request, wall ms per request, statements per request) after a warm-up."""
    response = client.get(path, headers=headers or {})
    assert response.status_code in (200, 304), (path, response.status_code)
    counter.count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        client.get(path, headers=headers or {}).close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / repeat, wall * 1000 / repeat, counter.count // repeat


def pages(app) -> dict[str, str]:
    """The pages measured, by name, on the data in ``app``'s database."""
    from booking.clock import local_today
    from booking.models import Slot, Venue
    from booking.models.db import db
    from courses.models import Course

    with app.app_context():
        today = local_today()
        venue = db.session.scalar(select(Venue).order_by(Venue.position, Venue.id))
        course = db.session.scalar(select(Course).filter_by(venue_id=venue.id))
        busy = db.session.scalar(select(Slot.day).where(Slot.venue_id == venue.id,
                                                        Slot.day >= today)
                                 .order_by(Slot.day).limit(1)) or today
        slot_id = db.session.scalar(select(Slot.id).where(Slot.venue_id == venue.id,
                                                          Slot.day > today + timedelta(days=3))
                                    .order_by(Slot.starts_at).limit(1))
        code = venue.code
        return {
            "calendar": f"/venues/{code}/calendar",
            "calendar next month": f"/venues/{code}/calendar?month="
                                   f"{(today.replace(day=1) + timedelta(days=32)):%Y-%m}",
            "day": f"/venues/{code}/days/{busy.isoformat()}",
            "booking form": f"/slots/{slot_id}/book",
            "programme": f"/programmes/{course.code}",
            "home": "/",
            "venue feed": f"/venues/{code}/sessions.ics",
            "api slots": f"/api/v1/slots?venue={code}",
            "roster (staff)": f"/staff/roster/{code}/{busy.isoformat()}",
            "statistics year (staff)": f"/staff/statistics?start={today.year - 1}-"
                                       f"{today.month:02d}-01&end={today.isoformat()}",
        }


def measure_all(app, repeat: int) -> dict[str, tuple[float, float, int]]:
    from booking.models.db import db

    with app.app_context():
        counter = StatementCounter(db.engine)
    client = app.test_client()
    response = client.post("/staff/login", data={"username": "bench", "password": "bench-pass-1"})
    assert response.status_code == 302, "login failed"
    anonymous = app.test_client()
    results = {}
    for name, path in pages(app).items():
        user = client if "(staff)" in name else anonymous
        results[name] = measure(user, counter, path, repeat)
    return results


def add_year(app, scale: float, seed: int = 2026) -> dict[str, int]:
    """Bulk-insert a year of past sessions with their groups, attendees and certificates."""
    from booking.clock import at_local, local_today
    from booking.models import Attendee, Booking, BookingState, Organisation, Slot, VenueDay
    from booking.models.db import db
    from courses.models import Certificate, CertificateCounter, Course, CourseSession

    rng = random.Random(seed)
    with app.app_context():
        connection = db.session.connection()
        courses = list(db.session.scalars(select(Course).order_by(Course.id)))
        venues = {c.venue_id: c.venue for c in courses}
        organisations = [row[0] for row in connection.execute(select(Organisation.id))]
        for n in range(200 - len(organisations)):
            organisations.append(connection.execute(insert(Organisation.__table__).values(
                name=f"开州区第{n}党支部（历史）", kind="party_organisation",
                suspension_reason="", created_at=at_local(date(2020, 1, 1), clock(9)))
            ).inserted_primary_key[0])
        today = local_today()
        last = today - timedelta(days=40)  # below the demo's own four weeks of history
        sessions_wanted = int(SESSIONS * scale)
        slot_id = (connection.scalar(select(func.max(Slot.id))) or 0) + 1
        booking_id = (connection.scalar(select(func.max(Booking.id))) or 0) + 1
        attendee_id = (connection.scalar(select(func.max(Attendee.id))) or 0) + 1
        cert_id = (connection.scalar(select(func.max(Certificate.id))) or 0) + 1
        counters: dict[tuple[int, int], int] = {
            (v, y): n for v, y, n in connection.execute(select(
                CertificateCounter.venue_id, CertificateCounter.year,
                CertificateCounter.last_number))}
        existing_counters = set(counters)
        slots, course_sessions, bookings, attendees, certificates, days = [], [], [], [], [], {}
        totals = {"sessions": 0, "bookings": 0, "attendees": 0, "certificates": 0}

        def flush(final: bool = False) -> None:
            for table, rows in ((Slot, slots), (CourseSession, course_sessions),
                                (Booking, bookings), (Attendee, attendees),
                                (Certificate, certificates)):
                if rows and (final or len(rows) >= CHUNK or table is not Attendee):
                    connection.execute(insert(table.__table__), rows)
                    rows.clear()

        day = last
        while totals["sessions"] < sessions_wanted:
            day -= timedelta(days=1)
            if day.weekday() == 0:
                continue
            for start in TIMES:
                pick = day.toordinal() + start.hour
                for course in (courses[pick % len(courses)], courses[(pick + 1) % len(courses)]):
                    if totals["sessions"] >= sessions_wanted:
                        break
                    venue = venues[course.venue_id]
                    starts = at_local(day, start, venue.tz)
                    taken = 0
                    for _ in range(rng.randint(BOOKINGS_PER_SESSION - 5,
                                               BOOKINGS_PER_SESSION + 5)):
                        size = rng.randint(ATTENDEES_PER_BOOKING - 10, ATTENDEES_PER_BOOKING + 10)
                        cancelled = rng.random() < 0.08
                        state = BookingState.CANCELLED if cancelled else BookingState.COMPLETED
                        seats = 0 if cancelled else size
                        taken += seats
                        booked = starts - timedelta(days=10)
                        bookings.append(dict(
                            id=booking_id, reference=f"Y{booking_id:09d}"[:12],
                            manage_token_hash=f"{booking_id:064d}", slot_id=slot_id,
                            organisation_id=rng.choice(organisations), party_size=size,
                            seats=seats, state=state, contact_name="王建国",
                            contact_phone=f"139{booking_id:08d}"[-11:], contact_email="",
                            notes="", language="zh", arrived_count=None if cancelled else size,
                            state_reason="", cancelled_by_museum=False, sequence=0,
                            created_at=booked, updated_at=booked))
                        for position in range(size):
                            came = not cancelled and rng.random() < 0.9
                            attendees.append(dict(id=attendee_id, booking_id=booking_id,
                                                  name="党员" + str(position), position=position,
                                                  attended=came, walk_in=False))
                            if came:
                                key = (venue.id, day.year)
                                counters[key] = number = counters.get(key, 0) + 1
                                certificates.append(dict(
                                    id=cert_id, serial=f"Y{venue.id}-{day.year}-{number:07d}",
                                    venue_id=venue.id, year=day.year, number=number,
                                    verification_code=f"Y{cert_id:015d}", attendee_id=attendee_id,
                                    session_id=slot_id, state="valid", latest=True,
                                    name="党员" + str(position), organisation="开州区党支部",
                                    programme=course.title, programme_kind=course.kind.value,
                                    title="学习证明", session_starts_at=starts,
                                    session_ends_at=starts + timedelta(minutes=90),
                                    venue_name=venue.name, training_hours=course.training_hours,
                                    lecturer="", issuing_unit=venue.name, issued_at=starts,
                                    revoked_reason=""))
                                cert_id += 1
                            attendee_id += 1
                        booking_id += 1
                    slots.append(dict(
                        id=slot_id, venue_id=venue.id, room_id=course.default_room_id, day=day,
                        starts_at=starts, ends_at=starts + timedelta(minutes=90),
                        capacity=max(taken, 50), taken=taken, state="open", title=course.title,
                        title_en=course.title_en, programme=course.code, kind=course.kind.value,
                        party_size_min=1, party_size_max=50, requires_approval=False,
                        lecturer_name="", modules_text="", equipment="", cancel_reason="",
                        updated_at=starts))
                    course_sessions.append(dict(id=slot_id, slot_id=slot_id, course_id=course.id))
                    days[(venue.id, day)] = days.get((venue.id, day), 0) + taken
                    totals["sessions"] += 1
                    slot_id += 1
                    totals["bookings"] = booking_id
                    if len(attendees) >= CHUNK:
                        totals["attendees"] += len(attendees)
                        totals["certificates"] += len(certificates)
                        flush()
        totals["attendees"] += len(attendees)
        totals["certificates"] += len(certificates)
        flush(final=True)
        connection.execute(insert(VenueDay.__table__), [
            dict(venue_id=v, day=d, capacity=max(taken, venues[v].daily_cap), taken=taken,
                 closed=None, reason="") for (v, d), taken in days.items()])
        for (venue_id, year), number in counters.items():
            table = CertificateCounter.__table__
            if (venue_id, year) in existing_counters:
                connection.execute(table.update().where(table.c.venue_id == venue_id,
                                                        table.c.year == year)
                                   .values(last_number=number))
            else:
                connection.execute(insert(table).values(venue_id=venue_id, year=year,
                                                        last_number=number))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:  # ids were given explicitly
                if "id" in table.c:
                    connection = db.session.connection()
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table.name}), 1))"))
            connection.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
        totals["bookings"] = db.session.scalar(select(func.count(Booking.id)))
        totals["attendees"] = db.session.scalar(select(func.count(Attendee.id)))
        totals["certificates"] = db.session.scalar(select(func.count(Certificate.id)))
        db.session.remove()
    return totals


def build_app(url: str):
    from booking.models.db import db
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        runner = app.test_cli_runner()
        for args in (["init-db"], ["load-demo"],
                     ["create-user", "bench", "--role", "admin", "--name", "Bench"]):
            result = runner.invoke(args=args, input="bench-pass-1\nbench-pass-1\n")
            if result.exit_code != 0:
                raise SystemExit(f"{args[0]} failed:\n{result.output}{result.exception!r}")
        db.session.remove()
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a full year")
    parser.add_argument("--database", help="a scratch database URL (emptied!)")
    parser.add_argument("--repeat", type=int, default=8, help="requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="year-bench-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'museum.db'}"
        began = time.monotonic()
        app = build_app(url)
        demo = measure_all(app, args.repeat)
        loaded = time.monotonic()
        totals = add_year(app, args.scale)
        print(f"{app.config['DATABASE_URL'].split(':')[0]}: a year at scale {args.scale:g}: "
              f"{totals['sessions']} sessions, {totals['bookings']} bookings, "
              f"{totals['attendees']} attendees, {totals['certificates']} certificates, "
              f"inserted in {time.monotonic() - loaded:.0f} s")
        year = measure_all(app, args.repeat)
        print(f"{'page':26} {'demo CPU ms':>11} {'SQL':>4} {'year CPU ms':>11} {'SQL':>4} "
              f"{'ratio':>6}  (target <= 2x)")
        for name in demo:
            (cpu_d, _, sql_d), (cpu_y, _, sql_y) = demo[name], year[name]
            flag = ("" if cpu_y <= (200 if name.startswith("statistics") else 2 * cpu_d)
                    else "  OVER")
            print(f"{name:26} {cpu_d:11.1f} {sql_d:4d} {cpu_y:11.1f} {sql_y:4d} "
                  f"{cpu_y / cpu_d:6.2f}{flag}")
        stats = year["statistics year (staff)"][0]
        print(f"statistics for a year: {stats:.0f} ms CPU (target <= 200 ms); "
              f"total run {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
