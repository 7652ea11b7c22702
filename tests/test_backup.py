"""Backups: `flask --app run backup PATH` copies the database consistently while the app
serves, and `restore PATH` puts it back into an empty database only — on SQLite and on
PostgreSQL (pg_dump / pg_restore)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.models import Booking
from booking.models.db import db
from tests.fixtures.app import make_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_tools(backend):
    if backend == "postgresql":
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} not installed (postgresql-client)")


def restored_references(database_url: str) -> set[str]:
    app = make_app(database_url)
    with app.app_context():
        references = set(db.session.scalars(select(Booking.reference)))
        db.session.remove()
        db.engine.dispose()
    return references


def invoke_on(database_url: str, *args: str):
    """A command on another database (in its own app context: the CLI runner would reuse the
    test's)."""
    other = make_app(database_url)
    with other.app_context():
        result = other.test_cli_runner().invoke(args=list(args))
        db.session.remove()
        db.engine.dispose()
    return result


def restore_into(database_url: str, backup: Path):
    return invoke_on(database_url, "restore", str(backup))


def check_integrity(database_url: str):
    return invoke_on(database_url, "check-integrity")


# --- round trip --------------------------------------------------------------------------------

def test_a_backup_restores_into_an_empty_database_with_every_booking(
        runner, create_booking, tmp_path, empty_database_url, pg_tools):
    made = {create_booking(party_size=10)[0].reference for _ in range(3)}
    backup = tmp_path / "museum.backup"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert "job=backup status=ok" in result.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # names and phone numbers inside

    restored = restore_into(empty_database_url, backup)
    assert restored.exit_code == 0, restored.output
    assert restored_references(empty_database_url) == made
    assert check_integrity(empty_database_url).exit_code == 0


def test_restore_refuses_a_database_that_holds_tables(runner, create_booking, tmp_path,
                                                      empty_database_url, pg_tools):
    create_booking()
    backup = tmp_path / "museum.backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    assert restore_into(empty_database_url, backup).exit_code == 0
    again = restore_into(empty_database_url, backup)
    assert again.exit_code != 0
    assert "restore only into an empty database" in again.output
    # Over the live database too.
    assert runner.invoke(args=["restore", str(backup)]).exit_code != 0


def test_restore_refuses_a_backup_of_the_other_kind_or_no_backup_at_all(
        backend, tmp_path, empty_database_url):
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP\x01\x0f" if backend == "sqlite" else b"SQLite format 3\x00")
    result = restore_into(empty_database_url, other)
    assert result.exit_code != 0 and "Restore a backup of the same kind" in result.output
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    result = restore_into(empty_database_url, junk)
    assert result.exit_code != 0 and "not a backup this command wrote" in result.output


def test_a_backup_never_overwrites_a_file(runner, tmp_path, pg_tools):
    existing = tmp_path / "museum.backup"
    existing.write_text("yesterday's backup")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "never overwrites" in result.output
    assert "job=backup status=refused" in result.output
    assert existing.read_text() == "yesterday's backup"


def test_keep_needs_a_directory(runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "one.backup"), "--keep", "3"])
    assert result.exit_code != 0 and "needs PATH to be a directory" in result.output
    assert not (tmp_path / "one.backup").exists()


def test_a_directory_gets_time_stamped_backups_and_keep_prunes_the_oldest(
        runner, tmp_path, backend, pg_tools):
    suffix = ".sqlite3" if backend == "sqlite" else ".pgdump"
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup: never pruned")
    for old in ("museum-20200101T000000Z", "museum-20200102T000000Z"):
        (folder / f"{old}{suffix}").write_text("old")
    result = runner.invoke(args=["backup", str(folder), "--keep", "2"])
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in folder.iterdir())
    assert names[0] == f"museum-20200102T000000Z{suffix}" and len(names) == 3
    assert names[1].startswith("museum-2") and names[1].endswith(suffix)
    assert "notes.txt" in names and "pruned=1" in result.output


# --- under load --------------------------------------------------------------------------------

class Bookers:
    """Threads that book groups through the JSON API back to back, noting when each booking
    was acknowledged (201) and its reference."""

    def __init__(self, base_url: str, slot_id: int, threads: int = 3):
        self.url = f"{base_url}/api/v1/bookings"
        self.slot_id = slot_id
        self.acknowledged: list[tuple[float, str]] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._book, args=(n,)) for n in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _book(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            body = json.dumps({"slot_id": self.slot_id,
                               "organisation": {"name": f"开州区第{n}-{i}党支部",
                                                "kind": "party_organisation"},
                               "contact": {"name": "王建国", "phone": f"1381234{n}{i % 1000:03d}"},
                               "party_size": 10, "attendees": []}).encode()
            request = urllib.request.Request(self.url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    reference = json.load(response)["reference"]
            except Exception as error:  # noqa: BLE001 - recorded, asserted on below
                detail = error.read()[:300] if hasattr(error, "read") else b""
                with self.lock:
                    self.failures.append(f"{error!r} {detail.decode(errors='replace')}")
                continue
            with self.lock:
                self.acknowledged.append((time.monotonic(), reference))

    def references_before(self, moment: float) -> set[str]:
        with self.lock:
            return {reference for at, reference in self.acknowledged if at < moment}

    def count_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(start <= at <= end for at, _ in self.acknowledged)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} bookings"
            assert not self.failures, self.failures[:3]
            time.sleep(0.05)


def flask_command(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """`flask --app run ARGS` in its own process, as cron or systemd runs it."""
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="backup-test",
               PUBLIC_BASE_URL="https://booking.example.org")
    env.pop("FLASK_APP", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_a_backup_taken_while_groups_keep_booking_holds_every_acknowledged_booking(
        app, live_server, create_venue, create_slot, tmp_path, empty_database_url, pg_tools):
    venue = create_venue(daily_cap=1_000_000)
    slot = create_slot(venue, capacity=1_000_000)
    slot_id = slot.id
    db.session.commit()
    db.session.remove()  # the server writes next: hold no transaction open
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    backup = tmp_path / "under-load.backup"

    with Bookers(live_server, slot_id) as bookers:
        bookers.wait_for(20)
        started = time.monotonic()
        taken = flask_command(database_url, "backup", str(backup))
        finished = time.monotonic()
        acknowledged_before = bookers.references_before(started)
        time.sleep(0.3)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert not bookers.failures, bookers.failures[:3]
    during = bookers.count_between(started, finished)
    assert during > 0, "no booking arrived while the backup ran: the test proved nothing"
    everything = bookers.references_before(time.monotonic())

    restored = flask_command(empty_database_url, "restore", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    integrity = flask_command(empty_database_url, "check-integrity")
    assert integrity.returncode == 0, integrity.stdout + integrity.stderr
    assert "drift=0" in integrity.stdout

    in_backup = restored_references(empty_database_url)
    missing = acknowledged_before - in_backup
    assert not missing, f"{len(missing)} acknowledged bookings missing from the backup"
    assert in_backup <= everything  # nothing the users were not told about
    assert len(in_backup) < len(everything)  # and it is a snapshot, not a later copy
