"""Benchmark: what hostile attendee files cost a worker, against an ordinary list.

Run from the repo root: python benchmarks/upload_bombs.py

Each file is posted to the public booking form (/slots/<id>/book) in a fresh process that
plays one worker: the app on a temporary SQLite file, warmed up with one ordinary upload,
then the file. Printed per file: its size on the wire, the answer, the worker's CPU time for
the request and its peak and resident memory growth. The bare baseline is an ordinary
ten-name .xlsx through the same form. Bounds from the issue: at most ~2 s CPU and ~50 MB of
growth per upload; exits 1 when a file is accepted or passes a bound.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import json  # noqa: E402
import subprocess  # noqa: E402

CPU_BOUND = 2.0
MEMORY_BOUND_MB = 50

WORKER = r"""
import io, json, resource, sys, tempfile, time
sys.path.insert(0, %(root)r)
from tests.fixtures.upload_bombs import BOMBS, names_sheet
from tests.fixtures.app import make_app
from tests.fixtures.factories import next_open_day
from booking.models.db import db

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

case = sys.argv[1]
if case == "baseline":
    filename, data = "list.xlsx", names_sheet(["姓名"] + [f"学员{i}" for i in range(10)])
elif case == "100 MB CSV line":
    filename, data = "list.csv", b"x" * (100 * 2**20)
else:
    filename, build = BOMBS[case]
    data = build()
app = make_app(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
with app.app_context():
    db.create_all()
    from datetime import datetime, time as clock, timedelta
    from booking.models import Venue
    from booking.rules.slots import SlotFacts, create_slot
    from booking.clock import at_local
    venue = Venue(code="LBC", name="纪念馆", name_en="Hall", weekly_closed_day=0,
                  open_on_holiday_closed_day=True, groups_on_holidays=True, daily_cap=500,
                  issuing_unit="纪念馆")
    db.session.add(venue); db.session.flush()
    day = next_open_day()
    start = at_local(day, clock(9), venue.tz)
    slot = create_slot(db.session, venue, start, start + timedelta(minutes=90), 200,
                       SlotFacts(title="t", programme="p", kind="themed_course",
                                 party_size_min=1, party_size_max=50))
    db.session.commit()
    slot_id = slot.id
client = app.test_client()
form = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
        "contact_name": "王建国", "contact_phone": "13812341234", "party_size": "12",
        "consent": "y"}
def post(name, body):
    return client.post(f"/slots/{slot_id}/book", content_type="multipart/form-data",
                       data={**form, "attendee_file": (io.BytesIO(body), name)})
post("warm.xlsx", names_sheet(["姓名", "张三"]))
peak0, rss0, cpu0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_mb(), time.process_time()
response = post(filename, data)
cpu = time.process_time() - cpu0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak0
print(json.dumps({"bytes": len(data), "status": response.status_code, "cpu": cpu,
                  "peak_mb": peak, "rss_mb": rss_mb() - rss0}))
"""


def run(case: str) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER % {"root": str(ROOT)}, case],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    from tests.fixtures.upload_bombs import BOMBS

    cases = ["baseline", *BOMBS, "100 MB CSV line"]
    print(f"{'file':26} {'size':>9} {'answer':>6} {'CPU s':>7} {'peak +MB':>9} {'RSS +MB':>8}")
    failed = False
    for case in cases:
        r = run(case)
        size = f"{r['bytes'] / 1024:.0f} KB"
        print(f"{case:26} {size:>9} {r['status']:>6} {r['cpu']:7.3f} {r['peak_mb']:9.1f} "
              f"{r['rss_mb']:8.1f}")
        refused = r["status"] in (413, 422)
        if case != "baseline" and (not refused or r["cpu"] > CPU_BOUND
                                   or max(r["peak_mb"], r["rss_mb"]) > MEMORY_BOUND_MB):
            failed = True
    print(f"bounds: CPU <= {CPU_BOUND} s, memory growth <= {MEMORY_BOUND_MB} MB, every bomb "
          "refused (422 form error, 413 over the body limit)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
