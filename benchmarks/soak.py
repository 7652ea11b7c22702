"""Benchmark: does a worker's memory stay flat? A soak of mixed requests, RSS every 1,000.

Run from the repo root: python benchmarks/soak.py [--requests 10000] [--threads 8]
    [--database postgresql://postgres@127.0.0.1:5432/scratch_db]

gunicorn with 2 sync workers (as the other benchmarks) on loopback only, on the demo data
(``init-db`` + ``load-demo``) in a temporary SQLite file or ``--database`` (emptied first).
``--threads`` clients send ``--requests`` requests drawn from a fixed mix: calendars of the
next twelve months and their day pages (some revalidating with ``If-None-Match``), programme
pages, the home page, the slots API (paged), the public .ics feeds, certificate verification,
staff pages (roster, statistics) and PDFs (roster, certificate preview), and booking forms
posted with an attendee list uploaded as a CSV file within the size limit (some booked, some
refused when full: both parse the upload). Printed: each worker's RSS at start and after
every 1,000 requests, the growth from the first 1,000 to the end (target <= 10 MB) and the
peak (target <= 150 MB), and the requests that failed (5xx or no answer).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import timedelta  # noqa: E402

import requests  # noqa: E402

_spec = importlib.util.spec_from_file_location("rush_benchmark", ROOT / "benchmarks" / "rush.py")
rush = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rush)
serving = rush.serving

PASSWORD = "soak-password-1"
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
HARD_LIMIT_SECONDS = 900


def prepare(url: str) -> dict:
    """Demo data, a staff account; returns the paths the mix draws from."""
    from sqlalchemy import select, text

    from booking.clock import local_today
    from booking.models import Slot, SlotState, Venue
    from booking.models.db import db
    from courses.models import Certificate, Course
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        runner = app.test_cli_runner()
        for args in (["init-db"], ["load-demo"], ["create-user", "soak", "--role", "admin"]):
            result = runner.invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}\n")
            if result.exit_code != 0:
                raise SystemExit(f"{args[0]} failed:\n{result.output}{result.exception!r}")
        today = local_today()
        venues = [v.code for v in db.session.scalars(select(Venue))]
        courses = [c.code for c in db.session.scalars(select(Course))]
        slots = [s.id for s in db.session.scalars(select(Slot).where(
            Slot.state == SlotState.OPEN, Slot.day > today + timedelta(days=3)))]
        codes = [c.verification_code for c in db.session.scalars(select(Certificate).limit(50))]
        db.session.remove()
        db.engine.dispose()
    months = [(today.replace(day=1) + timedelta(days=31 * n)).strftime("%Y-%m") for n in range(12)]
    days = [(today + timedelta(days=n)).isoformat() for n in range(-7, 40)]
    return dict(venues=venues, courses=courses, slots=slots, codes=codes or ["NONE"],
                months=months, days=days, today=today.isoformat())


def mix(rng: random.Random, data: dict) -> tuple[str, str, str]:
    """(kind, method, path) of one request of the mix."""
    venue, draw = rng.choice(data["venues"]), rng.random()
    if draw < 0.25:
        return "calendar", "GET", f"/venues/{venue}/calendar?month={rng.choice(data['months'])}"
    if draw < 0.40:
        return "day", "GET", f"/venues/{venue}/days/{rng.choice(data['days'])}"
    if draw < 0.48:
        return "programme", "GET", f"/programmes/{rng.choice(data['courses'])}"
    if draw < 0.52:
        return "home", "GET", "/"
    if draw < 0.62:
        return "api", "GET", f"/api/v1/slots?venue={venue}&limit={rng.choice((10, 50, 100))}"
    if draw < 0.67:
        return "feed", "GET", f"/venues/{venue}/sessions.ics"
    if draw < 0.72:
        return "verify", "GET", f"/verify/{rng.choice(data['codes'])}"
    if draw < 0.78:
        return "roster", "GET", f"/staff/roster/{venue}/{rng.choice(data['days'])}"
    if draw < 0.81:
        return "statistics", "GET", "/staff/statistics"
    if draw < 0.85:
        return "roster pdf", "GET", f"/staff/roster/{venue}/{rng.choice(data['days'])}.pdf"
    if draw < 0.88:
        return "certificate pdf", "GET", "/staff/certificates/preview"
    return "upload", "POST", f"/slots/{rng.choice(data['slots'])}/book"


def log_in(base: str) -> requests.Session:
    session = requests.Session()
    found = CSRF.search(session.get(f"{base}/staff/login", timeout=30).text)
    if found is None:
        raise SystemExit("login failed: no CSRF token on /staff/login")
    token = found.group(1)
    answer = session.post(f"{base}/staff/login", data={"csrf_token": token, "username": "soak",
                                                       "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise SystemExit(f"login failed: {answer.status_code}")
    return session


def upload(session: requests.Session, base: str, path: str, rng: random.Random):
    form = session.get(base + path, timeout=60)
    token = CSRF.search(form.text)
    if form.status_code != 200 or token is None:  # no form: the session is not open to book
        return form
    names = "\n".join(f"党员{rng.randrange(10_000)}" for _ in range(10))
    return session.post(base + path, timeout=60, allow_redirects=False, data={
        "csrf_token": token.group(1), "organisation_name": f"开州区第{rng.randrange(500)}党支部",
        "organisation_kind": "party_organisation", "contact_name": "王建国",
        "contact_phone": f"138{rng.randrange(10**8):08d}", "party_size": "10", "consent": "y"},
        files={"attendee_file": ("名单.csv", ("姓名\n" + names).encode("utf-8"), "text/csv")})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database", help="a scratch database URL (it is emptied)")
    args = parser.parse_args()
    began = time.monotonic()
    signal.signal(signal.SIGALRM, rush._too_long)
    signal.alarm(HARD_LIMIT_SECONDS)
    with tempfile.TemporaryDirectory(prefix="soak-bench-") as tmp, ExitStack() as servers:
        tmp = Path(tmp)
        url = args.database or f"sqlite:///{tmp / 'museum.db'}"
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="benchmark", RATELIMIT_ENABLED="0")
        env.pop("FLASK_APP", None)
        data = prepare(url)
        server, port = servers.enter_context(serving.gunicorn("run:create_app()", env,
                                                              tmp / "app.log"))
        serving.wait_until_ready(server, port, "/", tmp / "app.log")
        base = f"http://127.0.0.1:{port}"
        print(f"soak: {args.requests} mixed requests, {args.threads} threads, gunicorn "
              f"{serving.WORKERS} sync workers, {url.split(':')[0]}, demo data")
        samples = [rush.worker_rss_mb(server.pid)]
        print("  requests      0: worker RSS MB " + ", ".join(f"{r:.0f}" for r in samples[0]))
        lock, counter, failures, kinds = threading.Lock(), [0], [], {}
        etags: dict[str, str] = {}

        def client(seed: int) -> None:
            try:
                send(seed)
            except BaseException as error:  # a client that dies is a failure, never a pass
                with lock:
                    failures.append(f"client {seed} stopped: {error!r}")

        def send(seed: int) -> None:
            rng = random.Random(seed)
            session = log_in(base)
            while True:
                with lock:
                    if counter[0] >= args.requests:
                        return
                    counter[0] += 1
                    number = counter[0]
                kind, method, path = mix(rng, data)
                headers = {}
                if kind in ("calendar", "day") and path in etags and rng.random() < 0.3:
                    headers["If-None-Match"] = etags[path]
                try:
                    answer = (upload(session, base, path, rng) if kind == "upload" else
                              session.get(base + path, headers=headers, timeout=60))
                    status = answer.status_code
                    if kind == "upload" and answer.request.method == "GET":
                        kind = "booking page, not open"  # the form was not there to send
                    if "ETag" in answer.headers:
                        etags[path] = answer.headers["ETag"]
                except requests.RequestException as error:
                    status, answer = 0, error
                with lock:
                    kinds[kind] = kinds.get(kind, 0) + 1
                    if status == 0 or status >= 500:
                        failures.append(f"{kind} {path}: {status}")
                    if number % 1000 == 0:
                        rss = rush.worker_rss_mb(server.pid)
                        samples.append(rss)
                        print(f"  requests {number:6d}: worker RSS MB "
                              + ", ".join(f"{r:.0f}" for r in rss), flush=True)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        servers.close()
    signal.alarm(0)
    first = samples[1] if len(samples) > 1 else samples[0]
    growth = max((b - a for a, b in zip(first, samples[-1], strict=False)), default=0.0)
    peak = max((max(s) for s in samples if s), default=0.0)
    sent = sum(kinds.values())
    if sent < args.requests:
        failures.append(f"only {sent} of {args.requests} requests were sent")
    print("  mix: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"  RSS growth from 1,000 requests to the end: {growth:+.1f} MB (target <= 10); "
          f"peak {peak:.0f} MB (target <= 150)")
    print(f"  failed requests: {len(failures)}" + "".join(f"\n    {f}" for f in failures[:10])
          + f"\n  total run {time.monotonic() - began:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
