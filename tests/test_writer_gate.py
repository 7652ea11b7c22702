"""SQLite's writers queue at a file lock (booking/models/writer_gate.py): taken before BEGIN
IMMEDIATE, given back once COMMIT or ROLLBACK has returned, never taken by read-only work, and
never a reason to fail (past the busy timeout a writer goes on without it)."""
from __future__ import annotations

import fcntl
import os
import threading
import time

from sqlalchemy import create_engine, text

from booking.models import writer_gate
from booking.models.db import configure_engine, deferred_transactions

_real_acquire = writer_gate._acquire


def _engine(tmp_path, **options):
    engine = create_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    configure_engine(engine, **options)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return engine


def _gate_is_free(tmp_path) -> bool:
    descriptor = os.open(tmp_path / "gate.db-writer", os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # also lets go of the lock, when taken here
    return True


def test_a_write_holds_the_gate_until_its_commit_or_rollback_returned(tmp_path):
    engine = _engine(tmp_path)
    for ending in ("commit", "rollback"):
        connection = engine.connect()
        transaction = connection.begin()
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert not _gate_is_free(tmp_path)
        getattr(transaction, ending)()
        assert _gate_is_free(tmp_path), ending
        connection.close()
    engine.dispose()


def test_read_only_transactions_never_take_the_gate(tmp_path):
    engine = _engine(tmp_path)
    with deferred_transactions(), engine.begin() as connection:
        connection.execute(text("SELECT count(*) FROM t")).scalar()
        assert _gate_is_free(tmp_path)
    engine.dispose()


def test_a_second_writer_waits_at_the_gate_for_the_first_and_then_goes_in(tmp_path,
                                                                           monkeypatch):
    engine = _engine(tmp_path)
    order: list[str] = []

    def acquire(descriptor, timeout):
        taken = _real_acquire(descriptor, timeout)
        order.append(f"gate taken by {threading.current_thread().name}")
        return taken
    monkeypatch.setattr(writer_gate, "_acquire", acquire)
    first = engine.connect()
    first_transaction = first.begin()
    first.execute(text("INSERT INTO t VALUES (1)"))

    def second_writer():
        with engine.begin() as connection:
            order.append("second began")
            connection.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second_writer, name="second")
    thread.start()
    time.sleep(0.3)
    assert order == ["gate taken by MainThread"]  # the second is queued at the gate
    order.append("first commits")
    first_transaction.commit()
    thread.join(timeout=10)
    assert order == ["gate taken by MainThread", "first commits", "gate taken by second",
                     "second began"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2
    first.close()
    engine.dispose()


def test_a_gate_held_too_long_is_passed_by_and_sqlite_still_guards(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    monkeypatch.setattr(writer_gate, "_acquire", lambda descriptor, timeout: (
        _real_acquire(descriptor, 0.2)))
    outsider = os.open(tmp_path / "gate.db-writer", os.O_RDWR)
    fcntl.flock(outsider, fcntl.LOCK_EX)  # someone holds the gate and never writes
    try:
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (3)"))
        assert 0.2 <= time.monotonic() - started < 5
    finally:
        os.close(outsider)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()



def test_closing_a_connection_inside_a_write_lets_go_of_the_gate(tmp_path):
    engine = _engine(tmp_path)
    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    connection.invalidate()  # the DBAPI connection is closed, its transaction gone
    assert _gate_is_free(tmp_path)
    connection.close()
    engine.dispose()


def test_the_gate_can_be_switched_off(tmp_path):
    engine = _engine(tmp_path, writer_gate=False)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert not (tmp_path / "gate.db-writer").exists()
    engine.dispose()
