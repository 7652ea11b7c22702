"""Benchmark: release day. Hundreds of organisations arrive at once for freshly opened sessions.

Run from the repo root: python benchmarks/rush.py [--clients 500] [--sessions 16]
    [--capacity 100] [--database postgresql://postgres@127.0.0.1:5432/scratch_db]

Served by gunicorn (2 sync workers) on loopback only, as benchmarks/booking.py does, on a
temporary SQLite file in WAL mode or on ``--database`` (a scratch database: it is emptied).
A venue gets ``--sessions`` freshly released sessions of ``--capacity`` seats (groups of
exactly 10, so that the sessions can fill to the last seat). First, for reference, the month
calendar and a bare Flask page (benchmarks/bare_app.py ``GET /page``, same server, same
settings) are each loaded by 16 threads for a few seconds: requests per second, same run.
Then ``--clients`` threads start together; each loads the calendar, picks a bookable day,
loads the day page, picks a bookable session, loads its booking form and books through
``POST /api/v1/bookings`` with an ``Idempotency-Key``. Every fifth client "loses" the answer
and sends the same request again with the same key (the answer must be the same, replayed);
a refused client starts again from the calendar with a new key, until the calendar shows
nothing bookable. Printed: p50/p95/p99 per page and for bookings, errors, seats booked vs
capacity, the capacity counters' check (as `check-integrity`), and the workers' RSS. Last,
the same number of clients load the bare page four times each, all at once: its p99 is what
this server set-up gives any page at that concurrency.
The whole run is bounded (``--time-limit``); exits 1 on errors or seats not equal to capacity.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import http.client  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import time as clock  # noqa: E402
from datetime import timedelta  # noqa: E402

_spec = importlib.util.spec_from_file_location("booking_benchmark", ROOT / "benchmarks" /
                                               "booking.py")
serving = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serving)

PARTY = 10
TIMES = (clock(9), clock(10, 30), clock(14), clock(15, 30))
REFERENCE_SECONDS = 3.0
REFERENCE_THREADS = 16
MAX_ATTEMPTS = 12
TIMEOUT = 60
BIG = 1_000_000
DAY_LINK = re.compile(r'<li class="day state-(available|few_left)[^"]*">.*?href="([^"]+)"',
                      re.S)
BOOK_LINK = re.compile(r'href="/slots/(\d+)/book"')
REFUSED = {409, 422, 403}  # the rule said no (full, closed ...): try elsewhere


def prepare_database(url: str, sessions: int, seats: int) -> tuple[str, str]:
    """A fresh schema, a venue and ``sessions`` open sessions. Returns (calendar path, month)."""
    from sqlalchemy import text

    from booking.clock import at_local, local_today
    from booking.models import Venue
    from booking.models.db import db
    from booking.rules.opening import booking_window
    from booking.rules.slots import SlotFacts, create_slot
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        migrated = app.test_cli_runner().invoke(args=["init-db"])
        if migrated.exit_code != 0:
            raise SystemExit(f"init-db failed:\n{migrated.output}{migrated.exception!r}")
        venue = Venue(code="RUSH", name="刘伯承同志纪念馆", weekly_closed_day=None,
                      groups_on_holidays=True, daily_cap=BIG)
        db.session.add(venue)
        db.session.flush()
        first = booking_window(venue, local_today()).first_day
        for n in range(sessions):
            starts_at = at_local(first + timedelta(days=n // len(TIMES)), TIMES[n % len(TIMES)])
            create_slot(db.session, venue, starts_at, starts_at + timedelta(minutes=90), seats,
                        SlotFacts(title="学党史、悟思想、办实事、开新局", party_size_min=PARTY,
                                  party_size_max=50))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return f"/venues/RUSH/calendar?month={first:%Y-%m}", f"{first:%Y-%m}"


def check_database(url: str) -> tuple[int, int, list]:
    """(seats held by bookings, capacity offered, counter drift as check-integrity sees it)."""
    from sqlalchemy import func, select

    from booking.models import Booking, Slot
    from booking.models.db import db
    from booking.rules.capacity import find_drift
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    with app.app_context():
        result = (db.session.scalar(select(func.coalesce(func.sum(Booking.seats), 0))),
                  db.session.scalar(select(func.sum(Slot.capacity))), find_drift(db.session))
        db.session.remove()
        db.engine.dispose()
    return result


def worker_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker, in MB."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    sizes = []
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes.append(int(match.group(1)) / 1024)
    return sizes


class Recorder:
    """Latencies per kind of request, and what went wrong."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.outcomes = {"booked": 0, "refused": 0, "sold_out": 0, "replayed": 0}

    def request(self, port: int, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            status, answer_headers = response.status, dict(response.getheaders())
        except OSError as error:
            status, answer_headers, payload = 0, {}, repr(error).encode()
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.setdefault(kind, []).append(elapsed)
            if status == 0 or status >= 500:
                self.errors.append(f"{kind} {path}: {status} {payload[:200]!r}")
        return status, answer_headers, payload

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def _without_secret(answer: bytes):
    """A booking answer as its replay must repeat it: the manage token is shown once, never
    kept in the idempotency record, so a replay leaves it out and says so in a ``message``
    (``booking/api/v1/representation.replayed_json``)."""
    try:
        body = json.loads(answer)
    except ValueError:
        return answer
    if isinstance(body, dict):
        body.pop("manage_token", None)
        body.pop("message", None)
    return body


def organisation_body(slot_id: int, n: int) -> bytes:
    return json.dumps({
        "slot_id": slot_id,
        "organisation": {"name": f"开州区第{n}党支部", "kind": "party_organisation"},
        "contact": {"name": "王建国", "phone": f"138{n:08d}"}, "party_size": PARTY,
        "attendees": [],
    }, ensure_ascii=False).encode()


def organisation(recorder: Recorder, port: int, calendar: str, n: int, start: threading.Event,
                 deadline: float) -> None:
    """One organisation on release morning, from the calendar to a booking (or sold out)."""
    rng = random.Random(n)
    start.wait()
    for _attempt in range(MAX_ATTEMPTS):
        if time.monotonic() > deadline:
            recorder.error(f"client {n}: out of time")
            return
        status, _, page = recorder.request(port, "calendar", "GET", calendar)
        if status != 200:
            return recorder.error(f"client {n}: calendar answered {status}")
        days = [href for _, href in DAY_LINK.findall(page.decode())]
        if not days:
            return recorder.count("sold_out")
        status, _, page = recorder.request(port, "day", "GET", rng.choice(days).replace(
            "&amp;", "&"))
        if status != 200:
            return recorder.error(f"client {n}: day page answered {status}")
        slots = BOOK_LINK.findall(page.decode())
        if not slots:
            continue  # filled up between the two pages: back to the calendar
        slot_id = int(rng.choice(slots))
        status, _, _ = recorder.request(port, "booking form", "GET", f"/slots/{slot_id}/book")
        if status != 200:
            return recorder.error(f"client {n}: booking form answered {status}")
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        body = organisation_body(slot_id, n)
        status, _, answer = recorder.request(port, "booking", "POST", "/api/v1/bookings",
                                             body, headers)
        if n % 5 == 0 and status in (201, *REFUSED):  # the answer "got lost": send it again
            again, again_headers, repeated = recorder.request(
                port, "booking retry", "POST", "/api/v1/bookings", body, headers)
            if (again, _without_secret(repeated)) != (status, _without_secret(answer)) or \
                    again_headers.get("Idempotent-Replayed") != "true":
                first, second = _without_secret(answer), _without_secret(repeated)
                differ = sorted(k for k in {*first, *second} if first.get(k) != second.get(k)) \
                    if isinstance(first, dict) and isinstance(second, dict) else "body"
                recorder.error(f"client {n}: retry answered {again}, not the first {status} "
                               f"(differs: {differ}; replayed: "
                               f"{again_headers.get('Idempotent-Replayed')})")
            else:
                recorder.count("replayed")
        if status == 201:
            return recorder.count("booked")
        if status not in REFUSED:
            return recorder.error(f"client {n}: booking answered {status} {answer[:200]!r}")
        recorder.count("refused")
    recorder.error(f"client {n}: no booking after {MAX_ATTEMPTS} attempts")


def reference_rates(port: int, bare_port: int, calendar: str) -> dict[str, float]:
    """Requests per second of the calendar and of the bare page, alternating, same threads."""
    rates = {}
    for name, (target, path) in (("bare page", (bare_port, "/page")),
                                 ("calendar", (port, calendar)),
                                 ("bare page ", (bare_port, "/page")),
                                 ("calendar ", (port, calendar))):
        recorder, stop = Recorder(), time.monotonic() + REFERENCE_SECONDS

        def load(recorder=recorder, stop=stop, target=target, path=path):
            while time.monotonic() < stop:
                recorder.request(target, "x", "GET", path)

        threads = [threading.Thread(target=load) for _ in range(REFERENCE_THREADS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = len(recorder.latencies.get("x", [])) - len(recorder.errors)
        rates[name.strip()] = rates.get(name.strip(), 0) + done / (time.monotonic() - began) / 2
    return rates


def bare_rush(bare_port: int, clients: int) -> tuple[list[float], float]:
    """The ceiling of this set-up: as many clients start together and each loads the bare
    Flask page four times (an organisation's calendar, day, form and booking). Returns the
    latencies and the seconds it took."""
    recorder, start = Recorder(), threading.Event()

    def client():
        start.wait()
        for _ in range(4):
            recorder.request(bare_port, "bare page", "GET", "/page")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    start.set()
    for thread in threads:
        thread.join()
    return recorder.latencies.get("bare page", []), time.monotonic() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def _too_long(signum, frame):
    raise TimeoutError("benchmark exceeded its time limit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500, help="organisations (<= 1000)")
    parser.add_argument("--sessions", type=int, default=16, help="sessions released")
    parser.add_argument("--capacity", type=int, default=100, help="seats per session")
    parser.add_argument("--database", help="a scratch database URL (it is emptied)")
    parser.add_argument("--time-limit", type=float, default=240, help="seconds, whole run")
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000:
        parser.error("--clients must be between 1 and 1000")
    began = time.monotonic()
    signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(int(args.time_limit) + 30)
    threading.stack_size(512 * 1024)

    with tempfile.TemporaryDirectory(prefix="rush-bench-") as tmp, ExitStack() as servers:
        tmp = Path(tmp)
        url = args.database or f"sqlite:///{tmp / 'museum.db'}"
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="benchmark", RATELIMIT_ENABLED="0",
                   BARE_DATABASE=str(tmp / "bare.db"))
        env.pop("FLASK_APP", None)
        extra = ("--backlog", "2048")
        bare, bare_port = servers.enter_context(serving.gunicorn(
            "bare_app:create_app()", env, tmp / "bare.log",
            ("--pythonpath", str(ROOT / "benchmarks"), *extra)))
        calendar, month = prepare_database(url, args.sessions, args.capacity)
        app, port = servers.enter_context(serving.gunicorn("run:create_app()", env,
                                                           tmp / "app.log", extra))
        serving.wait_until_ready(bare, bare_port, "/", tmp / "bare.log")
        serving.wait_until_ready(app, port, calendar, tmp / "app.log")
        rss_start = worker_rss_mb(app.pid)
        rates = reference_rates(port, bare_port, calendar)

        recorder, start = Recorder(), threading.Event()
        deadline = time.monotonic() + args.time_limit - (time.monotonic() - began)
        threads = [threading.Thread(target=organisation,
                                    args=(recorder, port, calendar, n, start, deadline))
                   for n in range(args.clients)]
        for thread in threads:
            thread.start()
        rush_began = time.monotonic()
        start.set()
        for thread in threads:
            thread.join()
        rush_seconds = time.monotonic() - rush_began
        rss_end = worker_rss_mb(app.pid)
        bare_latencies, bare_seconds = bare_rush(bare_port, args.clients)
        log = (tmp / "app.log").read_text()
        servers.close()
        seats, capacity, drift = check_database(url)
    signal.alarm(0)

    database = url.split(":")[0].split("+")[0]
    print(f"release-day rush: {args.clients} organisations, {args.sessions} sessions x "
          f"{args.capacity} seats, groups of {PARTY}; gunicorn {serving.WORKERS} sync workers, "
          f"{database}; clients on the same 2 cores")
    print(f"  reference, {REFERENCE_THREADS} threads x {REFERENCE_SECONDS:g} s x 2, "
          f"alternating: calendar {rates['calendar']:.0f} req/s, bare Flask page "
          f"{rates['bare page']:.0f} req/s, ratio {rates['calendar'] / rates['bare page']:.2f}")
    print(f"  {'request':14} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in ("calendar", "day", "booking form", "booking", "booking retry"):
        values = recorder.latencies.get(kind, [])
        if values:
            print(f"  {kind:14} {len(values):6d} {percentile(values, 0.5):8.0f} "
                  f"{percentile(values, 0.95):8.0f} {percentile(values, 0.99):8.0f}")
    if bare_latencies:
        print(f"  {'bare page':14} {len(bare_latencies):6d} {percentile(bare_latencies, 0.5):8.0f}"
              f" {percentile(bare_latencies, 0.95):8.0f} {percentile(bare_latencies, 0.99):8.0f}"
              f"   (the ceiling: {args.clients} clients x 4 bare Flask pages, after the rush, "
              f"took {bare_seconds:.1f} s)")
    outcomes = recorder.outcomes
    print(f"  organisations: {outcomes['booked']} booked, {outcomes['sold_out']} found it sold "
          f"out, {outcomes['refused']} refusals on the way, {outcomes['replayed']} retries "
          f"answered by replay; rush took {rush_seconds:.1f} s")
    fill = ("exactly full" if seats == capacity else "NOT FULL" if seats < capacity
            else "OVERSOLD")
    print(f"  seats booked {seats} of capacity {capacity} ({fill}); counters "
          f"{drift if drift else 'agree (check-integrity clean)'}")
    print(f"  errors: {len(recorder.errors)}"
          + "".join(f"\n    {e}" for e in recorder.errors[:10]))
    print("  worker RSS MB: start " + ", ".join(f"{r:.0f}" for r in rss_start) + "; end "
          + ", ".join(f"{r:.0f}" for r in rss_end) + f"; total run {time.monotonic() - began:.0f} s")
    if recorder.errors and "Traceback" in log:
        print(log[-3000:])
    return 1 if recorder.errors or seats != capacity or drift else 0


if __name__ == "__main__":
    sys.exit(main())
