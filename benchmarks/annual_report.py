"""Benchmark: the annual report for a busy year, PDF and XLSX, against a bare baseline.

Run from the repo root: python benchmarks/annual_report.py [--bookings 12000] [--offline 3000]

Fills a temporary SQLite database with a year of records -- two venues, eight sessions a day
on every day but Mondays, groups of 10-50 that came (a few no-shows), and offline visits --
written in bulk (the rules are not what is measured here), then times, best of N, each in its
own app context like a request:

* the annual report PDF: statistics of the year and the year before, then render (target
  <= 2 s);
* the annual report XLSX;
* the bare baseline in the same run: one aggregate SQL query over the same bookings plus a
  one-page reportlab PDF with the same fonts registered (the floor of "query and render").

Exits 1 when the PDF misses its target.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402
from decimal import Decimal  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

from booking.clock import at_local  # noqa: E402
from booking.models import (  # noqa: E402
    Booking,
    BookingState,
    OfflineVisit,
    Organisation,
    OrganisationKind,
    Slot,
    SlotState,
    Venue,
)
from booking.models.db import db  # noqa: E402
from run import create_app  # noqa: E402

TARGET_S = 2.0
YEAR = 2025
PROGRAMMES = [("liushuai-spirit", "学习百年党史 感悟刘帅精神", "themed_course", "1.5"),
              ("party-day", "学党史、悟思想、办实事、开新局 红色主题党日", "party_day", "1.5"),
              ("youth-study-tour", "传承红色基因 接续百年奋斗 青少年研学", "study_tour", "1.5"),
              ("red-kaizhou", "《红色开州 百年锦绣》特展", "exhibition", "1.0")]
STARTS = [clock_time(9), clock_time(10, 30), clock_time(14), clock_time(15, 30)]


def build_year(bookings: int, offline: int) -> None:
    rng = random.Random(2025)
    venues = [Venue(code="LBC", name="刘伯承同志纪念馆"), Venue(code="KZM", name="开州博物馆")]
    db.session.add_all(venues)
    db.session.flush()
    kinds = list(OrganisationKind)
    db.session.execute(insert(Organisation), [
        {"name": f"开州区第{i}单位", "kind": kinds[i % len(kinds)]} for i in range(800)])
    org_ids = db.session.scalars(select(Organisation.id)).all()
    days = [date(YEAR, 1, 1) + timedelta(days=n) for n in range(365)]
    slot_rows = []
    for day in (d for d in days if d.weekday() != 0):
        for venue in venues:
            for index, start in enumerate(STARTS):
                code, title, kind, hours = PROGRAMMES[(index + venue.id) % len(PROGRAMMES)]
                starts_at = at_local(day, start, venue.tz)
                slot_rows.append({
                    "venue_id": venue.id, "day": day, "starts_at": starts_at,
                    "ends_at": starts_at + timedelta(minutes=90), "capacity": 200, "taken": 0,
                    "state": SlotState.OPEN, "title": title, "programme": code, "kind": kind,
                    "training_hours": Decimal(hours), "lecturer_name": "陈静"})
    db.session.execute(insert(Slot), slot_rows)
    slot_ids = db.session.scalars(select(Slot.id)).all()
    states = [BookingState.COMPLETED] * 18 + [BookingState.NO_SHOW, BookingState.CANCELLED]
    db.session.execute(insert(Booking), [{
        "reference": f"B{n:010d}", "manage_token_hash": f"{n:064d}",
        "slot_id": rng.choice(slot_ids), "organisation_id": rng.choice(org_ids),
        "party_size": (size := rng.randint(10, 50)), "seats": size, "state": rng.choice(states),
        "contact_name": "王建国", "contact_phone": "13900001234",
        "arrived_count": size - rng.randint(0, 3)} for n in range(bookings)])
    db.session.execute(insert(OfflineVisit), [{
        "venue_id": venues[n % 2].id, "day": rng.choice(days),
        "organisation_name": f"线下第{n % 500}单位", "organisation_kind": kinds[n % len(kinds)],
        "programme": PROGRAMMES[n % 4][0], "title": PROGRAMMES[n % 4][1],
        "kind": PROGRAMMES[n % 4][2], "people": rng.randint(10, 200),
        "training_hours": Decimal(PROGRAMMES[n % 4][3])} for n in range(offline)])
    db.session.commit()


def best_seconds(app, fn, repeats: int) -> float:
    with app.test_request_context():
        fn()  # warm: fonts, templates, compiled statements
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        with app.test_request_context():
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
            db.session.remove()
    return best


def bare_baseline() -> bytes:
    """One aggregate query over the same bookings, then a one-page PDF."""
    from reportlab.pdfgen.canvas import Canvas

    from booking.render.fonts import SANS, register_fonts
    people = db.session.execute(select(func.count(Booking.id), func.sum(Booking.party_size))
                                .join(Slot, Booking.slot_id == Slot.id)
                                .where(Slot.day >= date(YEAR, 1, 1))).one()
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=SANS)
    canvas.setFont(SANS, 12)
    canvas.drawString(72, 720, f"{YEAR} 年度报告：{people[0]} 批，{people[1]} 人次")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=12000)
    parser.add_argument("--offline", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from booking.web.staff.annual_data import annual_report_pdf, annual_report_xlsx

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder}/year.db",
                          "SECRET_KEY": "benchmark"})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            build_year(args.bookings, args.offline)
            print(f"year built: {args.bookings:,} bookings, {args.offline:,} offline visits "
                  f"in {time.perf_counter() - started:.1f} s")
        pdf = best_seconds(app, lambda: annual_report_pdf(db.session, YEAR, None), args.repeats)
        xlsx = best_seconds(app, lambda: annual_report_xlsx(db.session, YEAR, None),
                            args.repeats)
        bare = best_seconds(app, bare_baseline, args.repeats)
    print(f"annual report PDF : {pdf:6.3f} s  (target <= {TARGET_S:.1f} s)")
    print(f"annual report XLSX: {xlsx:6.3f} s")
    print(f"bare baseline     : {bare:6.3f} s  (one aggregate query + one-page PDF)")
    print(f"PDF / baseline    : {pdf / bare:6.1f} x")
    return 0 if pdf <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
