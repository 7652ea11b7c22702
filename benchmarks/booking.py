"""Benchmark: online group bookings per second against a bare Flask insert, same server.

Run from the repo root:
python benchmarks/booking.py [--seconds 4] [--concurrency 16] [--synchronous FULL|NORMAL|both]
    [--in-process 300]

First, ``--in-process`` bookings go through Flask's test client (no HTTP): CPU per booking
and the SQL statements of the last one.

``--synchronous`` (default: $SQLITE_SYNCHRONOUS, else both) chooses SQLite's
``PRAGMA synchronous`` for the app and the baselines alike; with ``both`` every target runs
once per mode, all in the same alternating rounds, and FULL's cost over NORMAL is printed.

Both are served by gunicorn with 2 sync workers on a temporary SQLite file in WAL mode:
the app (POST /api/v1/bookings: JSON validation, the booking rules, atomic seat claims on
the slot and the day, the booking and its attendees) and benchmarks/bare_app.py, with two
baselines that insert one row from the same JSON body: through the project's fixed stack
(Flask-SQLAlchemy, same engine set-up; the target ratio is taken against this one, as it
isolates the cost of the booking logic) and through the raw sqlite3 module (printed for
reference: the floor of what Python can do). All get the same load — the same number of
client threads sending the same bodies back to back for the same time, in alternating
rounds so that a noisy machine hurts all alike. Every booking must succeed (the slots are
big), so the figure is successful bookings per second. Traffic goes only to 127.0.0.1.
Exits 1 on any failed request, any booking lost or counter drift, or a ratio below target.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import collections  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from datetime import time as clock  # noqa: E402
from datetime import timedelta

TARGET_RATIO = 0.45  # issue 12
WORKERS = 2
ROUNDS = 2
WARM_UP_SECONDS = 1.0
WARM_UP_BOOKINGS = 200
REQUEST_TIMEOUT = 30
HARD_LIMIT_SECONDS = 110  # per mode; a last resort if something hangs (a mode takes ~35 s)
MODES = ("FULL", "NORMAL")
SLOT_TIMES = (clock(9), clock(10, 30), clock(14), clock(15, 30))
DAYS = 5
BIG = 1_000_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_database(url: str, synchronous: str) -> list[int]:
    """`init-db` a fresh database and open DAYS x 4 slots that will never fill up."""
    from booking.clock import at_local, local_today
    from booking.models import Venue
    from booking.models.db import db
    from booking.rules.opening import booking_window
    from booking.rules.slots import SlotFacts, create_slot
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark",
                      "SQLITE_SYNCHRONOUS": synchronous})
    with app.app_context():
        migrated = app.test_cli_runner().invoke(args=["init-db"])
        if migrated.exit_code != 0:
            raise SystemExit(f"init-db failed:\n{migrated.output}{migrated.exception!r}")
        venue = Venue(code="BENCH", name="刘伯承同志纪念馆", weekly_closed_day=None,
                      groups_on_holidays=True, daily_cap=BIG * 10)
        db.session.add(venue)
        db.session.flush()
        first = booking_window(venue, local_today()).first_day + timedelta(days=1)
        slot_ids = []
        for offset in range(DAYS):
            for start in SLOT_TIMES:
                starts_at = at_local(first + timedelta(days=offset), start)
                slot = create_slot(db.session, venue, starts_at,
                                   starts_at + timedelta(minutes=90), BIG,
                                   SlotFacts(title="学习百年党史 感悟刘帅精神", party_size_min=1,
                                             party_size_max=50))
                slot_ids.append(slot.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return slot_ids


@contextmanager
def gunicorn(app_spec: str, env: dict, log_path: Path, extra: tuple[str, ...] = ()):
    """Start ``app_spec`` with WORKERS sync workers on a free port (without waiting for it);
    yield the server and its port; always stop it after."""
    port = _free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class",
             "sync", "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--timeout", "60",
             *extra, app_spec],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield server, port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGQUIT)  # quick shutdown; still slow, so cut short
            try:
                server.wait(timeout=1)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)


def wait_until_ready(server: subprocess.Popen, port: int, path: str, log_path: Path) -> None:
    """Until a worker answers HTTP (the master's socket alone accepts before workers boot)."""
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise SystemExit(f"server did not start:\n{log_path.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"server did not answer:\n{log_path.read_text()}") from None
            time.sleep(0.1)


def booking_body(slot_ids: list[int], rng: random.Random) -> bytes:
    n = rng.randrange(1_000_000)
    party = rng.randint(10, 40)
    return json.dumps({
        "slot_id": rng.choice(slot_ids),
        "organisation": {"name": f"开州区第{n}党支部", "kind": "party_organisation"},
        "contact": {"name": "王建国", "phone": f"138{n:08d}"},
        "party_size": party, "attendees": [f"党员{i}" for i in range(rng.randint(0, 5))],
    }, ensure_ascii=False).encode()


#: Why requests were refused or failed, over the whole run: "status code" -> count.
why: collections.Counter = collections.Counter()


def _why(status: int, answer: bytes) -> str:
    try:
        return f"{status} {json.loads(answer)['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(status)


def load(port: int, path: str, bodies, seconds: float, concurrency: int) -> dict:
    """``concurrency`` clients POST back to back for ``seconds``; count the answers."""
    counts = {"ok": 0, "refused": 0, "failed": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        local = {"ok": 0, "refused": 0, "failed": 0}
        while time.monotonic() < stop_at:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request("POST", path, body=bodies(rng),
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                connection.close()
            local["ok" if status in (200, 201) else
                  "refused" if 400 <= status < 500 else "failed"] += 1
            if status not in (200, 201):
                why[_why(status, answer if status else b"")] += 1
        with lock:
            for key, value in local.items():
                counts[key] += value

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts["seconds"] = time.monotonic() - started
    return counts


def check_database(url: str) -> tuple[int, list]:
    """(bookings stored, counter drift) after the run."""
    from sqlalchemy import func, select

    from booking.models import Booking
    from booking.models.db import db
    from booking.rules.capacity import find_drift
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    with app.app_context():
        result = (db.session.scalar(select(func.count(Booking.id))), find_drift(db.session))
        db.session.remove()
        db.engine.dispose()
    return result


def in_process(url: str, slot_ids: list[int], count: int, mode: str, bare_path: Path) -> str:
    """CPU per booking through Flask's test client (no HTTP, no other process): the booking
    path's own cost, with its SQL statements (transaction control included), beside the bare
    Flask-SQLAlchemy insert's through its own test client, in alternating blocks of the same
    process (this machine's speed drifts by up to 2x over minutes: read the ratio)."""
    import statistics

    from sqlalchemy import event

    from booking.models.db import db
    from run import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "RATELIMIT_ENABLED": False,
                      "SQLITE_SYNCHRONOUS": mode})
    os.environ.update(BARE_DATABASE=str(bare_path), SQLITE_SYNCHRONOUS=mode)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bare_app

    clients = {"booking": (app.test_client(), "/api/v1/bookings"),
               "bare": (bare_app.create_app().test_client(), "/insert-orm")}
    rng = random.Random(7)
    with app.app_context():
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    cpu: dict[str, list[float]] = {"booking": [], "bare": []}
    block, last_statements = 50, 0
    # The first WARM_UP_BOOKINGS warm up (SQLAlchemy's compiled-statement cache, the
    # interpreter's specialisation): a worker serves thousands; the figure is its steady state.
    for i in range(0, count + WARM_UP_BOOKINGS, block):
        for name, (client, path) in clients.items():
            for _ in range(block):
                body = booking_body(slot_ids, rng)
                statements.clear()
                started = time.process_time()
                status = client.post(path, data=body,
                                     headers={"Content-Type": "application/json"}).status_code
                if i >= WARM_UP_BOOKINGS and status == 201:
                    cpu[name].append(time.process_time() - started)
                if name == "booking":
                    last_statements = len(statements)
    with app.app_context():
        db.engine.dispose()
    booking, bare = (statistics.median(cpu[name]) * 1000 for name in ("booking", "bare"))
    return (f"in-process (Flask test client, SQLite synchronous={mode}), median CPU over "
            f"{len(cpu['booking'])} each, alternating blocks of {block}:\n"
            f"  booking (POST /api/v1/bookings)    {booking:6.2f} ms, "
            f"{last_statements} SQL statements for the last one\n"
            f"  bare Flask-SQLAlchemy insert       {bare:6.2f} ms\n"
            f"  booking / bare insert              {booking / bare:6.2f} x")


def _too_long(signum, frame):
    raise TimeoutError(f"benchmark exceeded {HARD_LIMIT_SECONDS} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per round and target")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--in-process", type=int, default=300, metavar="N",
                        help="bookings timed in-process first (0: skip)")
    parser.add_argument("--synchronous", type=str.upper, choices=(*MODES, "BOTH"),
                        default=(os.environ.get("SQLITE_SYNCHRONOUS") or "both").upper(),
                        help="SQLite PRAGMA synchronous (default: $SQLITE_SYNCHRONOUS or both)")
    args = parser.parse_args()
    modes = MODES if args.synchronous == "BOTH" else (args.synchronous,)
    began = time.monotonic()
    signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(HARD_LIMIT_SECONDS * len(modes))

    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp, ExitStack() as servers:
        tmp = Path(tmp)
        if args.in_process:
            url = f"sqlite:///{tmp / 'in-process.db'}"
            print(in_process(url, prepare_database(url, modes[0]), args.in_process, modes[0],
                             tmp / "bare-in-process.db"), flush=True)
        targets, urls, logs = {}, {}, []
        slot_ids: dict[str, list[int]] = {}
        pending = []
        for mode in modes:
            url = f"sqlite:///{tmp / f'museum-{mode}.db'}"
            env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="benchmark",
                       RATELIMIT_ENABLED="0", BARE_DATABASE=str(tmp / f"bare-{mode}.db"),
                       SQLITE_SYNCHRONOUS=mode)
            env.pop("FLASK_APP", None)
            bare_log, app_log = tmp / f"bare-{mode}.log", tmp / f"app-{mode}.log"
            bare_server, bare_port = servers.enter_context(gunicorn(
                "bare_app:create_app()", env, bare_log,
                ("--pythonpath", str(ROOT / "benchmarks"))))
            slot_ids[mode] = prepare_database(url, mode)  # while the bare server boots
            app_server, app_port = servers.enter_context(gunicorn("run:create_app()", env,
                                                                  app_log))
            pending += [(bare_server, bare_port, "/", bare_log),
                        (app_server, app_port, "/api/v1/openapi.json", app_log)]
            urls[mode] = url
            logs += [bare_log, app_log]
            targets[(mode, "booking")] = (app_port, "/api/v1/bookings")
            targets[(mode, "bare")] = (bare_port, "/insert")
            targets[(mode, "bare_orm")] = (bare_port, "/insert-orm")
        for server, port, path, log in pending:
            wait_until_ready(server, port, path, log)

        def bodies_for(mode):
            return lambda rng: booking_body(slot_ids[mode], rng)

        totals = {key: {"ok": 0, "refused": 0, "failed": 0, "seconds": 0.0} for key in targets}
        answered = dict.fromkeys(modes, 0)  # bookings answered 201, warm-up included
        for key, (port, path) in targets.items():  # warm every worker up, not timed
            warm = load(port, path, bodies_for(key[0]), WARM_UP_SECONDS, args.concurrency)
            totals[key]["refused"] += warm["refused"]
            totals[key]["failed"] += warm["failed"]
            answered[key[0]] += warm["ok"] if key[1] == "booking" else 0
        for _ in range(ROUNDS):
            for key, (port, path) in targets.items():
                result = load(port, path, bodies_for(key[0]), args.seconds, args.concurrency)
                for name, value in result.items():
                    totals[key][name] += value
        log_text = [log.read_text() for log in logs]
        servers.close()
        stored = {mode: check_database(urls[mode]) for mode in modes}
    signal.alarm(0)

    rate = {key: t["ok"] / t["seconds"] for key, t in totals.items()}
    bad = False
    below_target = False
    for mode in modes:
        raw_ratio = (rate[(mode, "booking")] / rate[(mode, "bare")]
                     if rate[(mode, "bare")] else 0.0)
        ratio = (rate[(mode, "booking")] / rate[(mode, "bare_orm")]
                 if rate[(mode, "bare_orm")] else 0.0)
        print(f"gunicorn {WORKERS} sync workers, SQLite (WAL, synchronous={mode}), "
              f"{args.concurrency} clients, {ROUNDS} x {args.seconds:g} s per target, "
              f"alternating")
        for name, label in (("booking", "bookings (POST /api/v1/bookings)"),
                            ("bare_orm", "bare Flask + SQLAlchemy insert"),
                            ("bare", "bare Flask + raw sqlite3 insert")):
            t = totals[(mode, name)]
            print(f"  {label:34} {rate[(mode, name)]:8.1f} /s   ({t['ok']} ok, "
                  f"{t['refused']} refused, {t['failed']} failed)")
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        print(f"  ratio bookings / bare (stack)      {ratio:8.2f}     ({verdict} target "
              f"{TARGET_RATIO})")
        print(f"  ratio bookings / bare (raw sqlite3){raw_ratio:8.2f}     (for reference)")
        count, drift = stored[mode]
        confirmed = answered[mode] + totals[(mode, "booking")]["ok"]
        print(f"  {count} bookings stored of {confirmed} confirmed (warm-up included), "
              f"counters {drift or 'agree'}")
        bad = bad or bool(drift) or count != confirmed
        below_target = below_target or ratio < TARGET_RATIO
    if len(modes) == 2:
        full, normal = rate[("FULL", "booking")], rate[("NORMAL", "booking")]
        print(f"synchronous=FULL books {full:.1f}/s, NORMAL {normal:.1f}/s: FULL runs at "
              f"{full / normal:.0%} of NORMAL" if normal else "no NORMAL bookings measured")
    if why:
        print("refused or failed: " + ", ".join(f"{n} x {k}" for k, n in why.most_common()))
    print(f"total run time {time.monotonic() - began:.1f} s")
    bad = bad or any(t["failed"] or t["refused"] for t in totals.values())
    if bad or any("database is locked" in text for text in log_text):
        print("Some requests failed; server logs:\n" + "\n".join(log_text)[-4000:])
        return 1
    return 1 if below_target else 0


if __name__ == "__main__":
    sys.exit(main())
