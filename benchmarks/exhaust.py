"""Benchmark: try to empty the calendar as an attacker would, and see a real group still book.

Run from the repo root: python benchmarks/exhaust.py [--time-limit 120] [--give-up 10]
(the time limit counts after the demo data is loaded, which takes about a minute)

Served by gunicorn (2 sync workers, as in production) on loopback only, on a temporary SQLite
file with the demo data, rate-limit counters in a temporary shared file, one trusted proxy
(``TRUSTED_PROXIES=1``, so ``X-Forwarded-For`` plays the client address as nginx would set
it), and the default abuse controls (``BOOKING_LIMITS``, ``BOOKING_RATE_LIMIT``,
``BOOKING_PHONE_RATE_LIMIT``, ``CHALLENGE_AFTER``). The attacker books every bookable session
through ``POST /api/v1/bookings`` with the largest group the session allows, and solves every
proof-of-work challenge it is asked for (with the Python ``altcha`` library), in two runs:

1. one address, a new phone and organisation name per request;
2. a new address per request, one phone (organisation names still rotating).

A run stops after ``--give-up`` refusals in a row or at the time limit. Printed per run:
attempts, bookings and seats taken (against the calendar's seats and the configured limits),
answers by status and error code, challenges solved and the CPU they cost the attacker.
Then a real group, from its own address and phone, books one of the sessions left. Exits 1
if an attacker took more bookings than the limits allow or the real group could not book.
``tests/test_exhaust.py`` runs the same attacker against a small calendar.
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
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import altcha  # noqa: E402

ATTACKER_ADDRESS = "203.0.113.66"
REAL_GROUP_ADDRESS = "198.51.100.20"
REAL_GROUP_PHONE = "13712345678"


@dataclass
class Run:
    """What one attacker run achieved."""

    name: str
    attempts: int = 0
    bookings: int = 0
    seats: int = 0
    answers: Counter = field(default_factory=Counter)
    challenges_solved: int = 0
    solving_seconds: float = 0.0

    def line(self) -> str:
        answers = ", ".join(f"{key} x{count}" for key, count in sorted(self.answers.items()))
        return (f"{self.name}: {self.attempts} attempts, {self.bookings} bookings, "
                f"{self.seats} seats; {self.challenges_solved} challenges solved "
                f"({self.solving_seconds:.1f} s CPU); answers: {answers}")


class Client:
    """JSON over HTTP to one base URL, as from ``address`` (X-Forwarded-For)."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=data, headers={
                "Content-Type": "application/json", **(headers or {})})
            response = connection.getresponse()
            text = response.read()
            return response.status, (json.loads(text) if text else {})
        finally:
            connection.close()


def bookable_slots(client: Client) -> list[dict]:
    slots, after = [], None
    while True:
        path = "/api/v1/slots?limit=200" + (f"&after={after}" if after else "")
        status, page = client.call("GET", path)
        assert status == 200, (status, page)
        slots += [slot for slot in page["slots"] if slot["bookable"] and slot["seats_left"]]
        after = page["next"]
        if not after:
            return slots


def _solve(client: Client, address: str, run: Run) -> str:
    status, challenge = client.call("GET", "/api/v1/challenge",
                                    headers={"X-Forwarded-For": address})
    assert status == 200, (status, challenge)
    began = time.process_time()
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed)
    run.solving_seconds += time.process_time() - began
    run.challenges_solved += 1
    return altcha.Payload(parsed, solution).to_base64()


def book(client: Client, slot: dict, address: str, phone: str, organisation: str,
         run: Run | None = None, size: int | None = None) -> tuple[int, str]:
    """One booking attempt, solving the challenge if asked; (status, error code or "")."""
    body = {"slot_id": slot["id"], "organisation": {"name": organisation,
                                                    "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": phone}, "attendees": [],
            "party_size": size or min(slot["party_size_max"], slot["seats_left"])}
    headers = {"X-Forwarded-For": address}
    status, answer = client.call("POST", "/api/v1/bookings", body, headers)
    if status == 428 and run is not None:
        headers["Altcha"] = _solve(client, address, run)
        status, answer = client.call("POST", "/api/v1/bookings", body, headers)
    return status, (answer.get("error") or {}).get("code", "")


def attack(client: Client, slots: list[dict], name: str, rotate_address: bool,
           give_up: int, deadline: float) -> Run:
    """Book every slot as one attacker; stop after ``give_up`` refusals in a row."""
    run, refused_in_a_row = Run(name), 0
    for n, slot in enumerate(slots):
        if refused_in_a_row >= give_up or time.monotonic() > deadline:
            break
        address = f"10.{n // 250 % 250}.{n % 250}.7" if rotate_address else ATTACKER_ADDRESS
        phone = "13600000000" if rotate_address else f"139{n:08d}"
        run.attempts += 1
        status, code = book(client, slot, address, phone, f"假单位{name[:1]}{n}", run)
        run.answers[f"{status} {code}".strip()] += 1
        if status == 201:
            run.bookings += 1
            run.seats += min(slot["party_size_max"], slot["seats_left"])
            refused_in_a_row = 0
        else:
            refused_in_a_row += 1
    return run


def real_group_books(client: Client) -> tuple[int, str]:
    """A museum's real visitor, from its own address and phone, after the attacks."""
    left = [slot for slot in bookable_slots(client)
            if slot["seats_left"] >= max(slot["party_size_min"], 12)]
    if not left:
        return 0, "nothing left"
    slot = left[-1]
    return book(client, slot, REAL_GROUP_ADDRESS, REAL_GROUP_PHONE, "开州区临江镇第二中学党支部",
                size=max(slot["party_size_min"], 12))


def allowed(config: dict, venues: int) -> dict:
    """The most bookings each run may take under the configured limits."""
    from limits import parse_many
    # A run lasts less than the shortest window, so the smallest count is the one that binds.
    per_address = min(item.amount for item in parse_many(config["BOOKING_RATE_LIMIT"]))
    per_phone = min(item.amount for item in parse_many(config["BOOKING_PHONE_RATE_LIMIT"]))
    upcoming = (config["BOOKING_LIMITS"] or {}).get("upcoming") or per_phone
    # The upcoming-bookings limit holds per contact and venue.
    return {"one address": per_address,
            "rotating addresses": min(upcoming * venues, per_phone)}


# --- the benchmark: gunicorn on the demo data ---------------------------------------------

def _serving_module():
    spec = importlib.util.spec_from_file_location("booking_benchmark",
                                                  ROOT / "benchmarks" / "booking.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prepare(env: dict) -> dict:
    from run import create_app
    app = create_app({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY",
                                                "RATELIMIT_STORAGE_URI")})
    with app.app_context():
        from booking.models.db import db
        from courses.demo import ensure_demo_database
        ensure_demo_database()
        db.engine.dispose()
    return dict(app.config)


def _too_long(signum, frame):
    raise SystemExit("exhaust: time limit reached")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120, help="seconds for the attacks, after loading")
    parser.add_argument("--give-up", type=int, default=10, help="refusals in a row per run")
    args = parser.parse_args()
    began = time.monotonic()
    signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(600)       # loading the demo data: ~1 min on a quiet machine
    serving = _serving_module()
    with tempfile.TemporaryDirectory(prefix="exhaust-bench-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp / 'museum.db'}",
                   SECRET_KEY="benchmark", TRUSTED_PROXIES="1", RATELIMIT_ENABLED="1",
                   RATELIMIT_STORAGE_URI=f"museum+sqlite:///{tmp / 'ratelimit.db'}")
        env.pop("FLASK_APP", None)
        config = _prepare(env)
        print(f"demo data ready in {time.monotonic() - began:.1f} s", flush=True)
        began = time.monotonic()        # --time-limit counts from here
        signal.alarm(int(args.time_limit) + 60)
        with serving.gunicorn("run:create_app()", env, tmp / "app.log") as (server, port):
            serving.wait_until_ready(server, port, "/api/v1/slots", tmp / "app.log")
            client = Client(f"http://127.0.0.1:{port}")
            slots = bookable_slots(client)
            seats = sum(slot["seats_left"] for slot in slots)
            deadline = began + args.time_limit
            runs = []
            for name, rotate in (("one address", False), ("rotating addresses", True)):
                runs.append(attack(client, slots, name, rotate, args.give_up, deadline))
                print(f"{name} done at {time.monotonic() - began:.1f} s", flush=True)
            real = real_group_books(client)
    signal.alarm(0)
    limits = allowed(config, len({slot["venue"] for slot in slots}))
    print(f"calendar exhaustion: {len(slots)} bookable sessions, {seats} free seats (demo "
          f"data); gunicorn {serving.WORKERS} workers, SQLite, shared rate-limit file")
    print(f"  limits: BOOKING_LIMITS={config['BOOKING_LIMITS']}, BOOKING_RATE_LIMIT="
          f"{config['BOOKING_RATE_LIMIT']!r}, BOOKING_PHONE_RATE_LIMIT="
          f"{config['BOOKING_PHONE_RATE_LIMIT']!r}, CHALLENGE_AFTER="
          f"{config['CHALLENGE_AFTER']!r}")
    failed = False
    for run in runs:
        share = 100 * run.seats / seats if seats else 0
        print(f"  {run.line()}; {share:.1f}% of the free seats; allowed at most "
              f"{limits[run.name]} bookings")
        failed |= run.bookings > limits[run.name]
    print(f"  real group from its own address and phone afterwards: HTTP {real[0]} {real[1]} "
          f"({'booked' if real[0] == 201 else 'NOT booked'})")
    print(f"  took {time.monotonic() - began:.1f} s")
    return 1 if failed or real[0] != 201 else 0


if __name__ == "__main__":
    raise SystemExit(main())
