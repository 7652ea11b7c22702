"""Rule 1 over real HTTP: many groups race for one slot on a multi-process server.

gunicorn runs the app with four sync workers (four processes, each with its own connection
pool) on a fresh database — a SQLite file in WAL mode, and PostgreSQL when TEST_DATABASE_URL
is set. Far more seats are asked for than the slot has; the seat counter must stop exactly
where the bookings say, every refusal must be a clear "full" answer, and the integrity check
must be clean.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.clock import at_local, local_today
from booking.models import Booking, Slot, Venue
from booking.models.db import db
from booking.rules.identifiers import credit_code_check_digit
from booking.rules.opening import booking_window
from booking.rules.slots import SlotFacts, create_slot
from tests.fixtures.app import make_app
from tests.fixtures.browser import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
CAPACITY = 60
REQUESTS = 240
CONCURRENCY = 80
# The smallest group is 10 and many groups are that size, so once a 10 is refused fewer than
# 10 seats can be left: "nobody refused while seats for them remained" becomes checkable.
PARTY_SIZES = (10, 25, 10, 18, 12, 10, 20, 15, 10, 22)
REQUEST_TIMEOUT = 30
STARTUP_TIMEOUT = 30


def _prepare_slots(database_url: str) -> tuple[int, int]:
    """`init-db`, then one venue open every day; the raced slot of CAPACITY seats on the first
    bookable day, and a roomy slot the next day to warm the workers up on."""
    app = make_app(database_url)
    with app.app_context():
        migrated = app.test_cli_runner().invoke(args=["init-db"])
        assert migrated.exit_code == 0, migrated.output
        venue = Venue(code="RACE", name="刘伯承同志纪念馆", weekly_closed_day=None,
                      groups_on_holidays=True, daily_cap=500)
        db.session.add(venue)
        db.session.flush()
        day = booking_window(venue, local_today()).first_day + timedelta(days=1)
        slot_ids = []
        for seats in (CAPACITY, 400):
            starts_at = at_local(day, clock(10, 30))
            slot = create_slot(db.session, venue, starts_at, starts_at + timedelta(minutes=90),
                               seats, SlotFacts(title="学习百年党史 感悟刘帅精神",
                                                party_size_min=10, party_size_max=50))
            slot_ids.append(slot.id)
            day += timedelta(days=1)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return slot_ids[0], slot_ids[1]


def _seats_in_database(database_url: str, slot_id: int) -> tuple[int, int, int, int, object]:
    """(slot taken, slot capacity, bookings, seats the bookings hold, `check-integrity`)."""
    app = make_app(database_url)
    with app.app_context():
        slot = db.session.get(Slot, slot_id)
        count, seats = db.session.execute(
            select(func.count(Booking.id), func.coalesce(func.sum(Booking.seats), 0))
            .where(Booking.slot_id == slot_id)).one()
        db.session.rollback()
        check = app.test_cli_runner().invoke(args=["check-integrity"])
        result = (slot.taken, slot.capacity, count, int(seats), check)
        db.session.remove()
        db.engine.dispose()
    return result


def _stop(server: subprocess.Popen) -> None:
    """Stop the gunicorn we started (its own process group: master and workers)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGQUIT)  # gunicorn's quick shutdown, which still takes
    try:                                    # seconds: the results are checked, so cut it short
        server.wait(timeout=1)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def _booking_body(slot_id: int, i: int) -> dict:
    party = PARTY_SIZES[i % len(PARTY_SIZES)]
    body = {"slot_id": slot_id,
            "organisation": {"name": f"开州区第{i % 40}党支部", "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": f"138{i:08d}"},
            "party_size": party, "attendees": [f"党员{j}" for j in range(i % 4)]}
    if i % 3 == 0:  # some organisations give a credit code, shared across requests
        first17 = f"91500234MA{i % 7:07d}"
        body["organisation"]["credit_code"] = first17 + credit_code_check_digit(first17)
    return body


def _post(port: int, body: dict) -> tuple[int, str, dict | None, int]:
    """(status, content type, JSON answer or None, party size) — or raises on no answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("POST", "/api/v1/bookings", body=json.dumps(body).encode(),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        return response.status, response.getheader("Content-Type", ""), answer, \
            body["party_size"]
    finally:
        connection.close()


def _warm_up(port: int, slot_id: int, log_path: Path) -> None:
    """Have every worker answer a booking first: a cold worker takes seconds over its first
    request, and a race that one warm worker wins alone would prove nothing."""
    for _ in range(2):
        barrier = threading.Barrier(2 * WORKERS)

        def book(i: int, barrier=barrier):
            barrier.wait(timeout=REQUEST_TIMEOUT)
            return _post(port, _booking_body(slot_id, i))

        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            statuses = [outcome[0] for outcome in pool.map(book, range(2 * WORKERS))]
        assert statuses == [201] * len(statuses), \
            f"warm-up bookings answered {statuses}:\n{log_path.read_text()[-3000:]}"


@pytest.fixture
def race_server(backend, empty_database_url, tmp_path):
    """A migrated database with one slot, served by gunicorn; always stopped afterwards."""
    env = dict(os.environ, DATABASE_URL=empty_database_url, SECRET_KEY="race-test-secret",
               RATELIMIT_ENABLED="0", PYTHONUNBUFFERED="1")
    env.pop("FLASK_APP", None)
    slot_id, warm_up_slot_id = _prepare_slots(empty_database_url)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class",
             "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout",
             "5", "--no-control-socket", "run:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert server.poll() is None, f"gunicorn exited:\n{log_path.read_text()}"
            try:
                if _get(port, "/api/v1/slots?venue=RACE") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log_path.read_text()}"
            time.sleep(0.2)
        _warm_up(port, warm_up_slot_id, log_path)
        yield {"port": port, "slot_id": slot_id, "log": log_path,
               "database_url": empty_database_url, "backend": backend}
    finally:
        _stop(server)


def test_racing_groups_never_oversell_a_slot_over_http(race_server):
    port, slot_id = race_server["port"], race_server["slot_id"]
    bodies = [_booking_body(slot_id, i) for i in range(REQUESTS)]
    start = threading.Barrier(CONCURRENCY)

    def client(first: int) -> tuple[list, list]:
        """One of CONCURRENCY clients: waits for all, then sends its share in turn."""
        outcomes, failures = [], []
        start.wait(timeout=REQUEST_TIMEOUT)
        for body in bodies[first::CONCURRENCY]:
            try:
                outcomes.append(_post(port, body))
            except Exception as error:  # no answer at all: a connection error or a timeout
                failures.append(repr(error))
        return outcomes, failures

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        results = list(pool.map(client, range(CONCURRENCY), timeout=REQUEST_TIMEOUT * 4))
    outcomes = [o for done, _ in results for o in done]
    failures = [f for _, failed in results for f in failed]
    elapsed = time.monotonic() - started
    log = race_server["log"].read_text(errors="replace")

    assert not failures, f"{len(failures)} requests got no answer: {failures[:3]}"
    assert "database is locked" not in log, log[-3000:]
    booked = [o for o in outcomes if o[0] == 201]
    refused = [o for o in outcomes if o[0] != 201]
    for status, content_type, answer, _ in refused:
        assert 400 <= status < 500, f"HTTP {status}: {answer}\n{log[-3000:]}"
        assert content_type.startswith("application/json")
        assert answer["error"]["code"] in ("slot_full", "day_full"), answer
        assert answer["error"]["message"]
    references = [answer["reference"] for _, _, answer, _ in booked]
    assert len(set(references)) == len(references)
    assert all(answer["seats"] == party for _, _, answer, party in booked)

    taken, capacity, bookings, held, check = _seats_in_database(race_server["database_url"],
                                                                slot_id)
    claimed = sum(party for *_, party in booked)
    print(f"\n[{race_server['backend']}] {len(outcomes)} requests from "
          f"{CONCURRENCY} threads to {WORKERS} gunicorn workers in {elapsed:.2f}s: "
          f"{len(booked)} booked, {len(refused)} refused (4xx); seats {taken}/{capacity}")
    assert taken <= capacity
    assert taken == claimed == held and bookings == len(booked)
    assert refused, "the slot never filled up"
    smallest_refused = min(party for *_, party in refused)
    assert capacity - taken < smallest_refused, \
        f"{capacity - taken} seats left but a group of {smallest_refused} was refused"
    assert check.exit_code == 0, check.output  # `flask --app run check-integrity`
