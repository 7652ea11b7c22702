"""A fair queue for SQLite's writers: workers take turns at ``BEGIN IMMEDIATE`` by a file lock.

SQLite lets one write transaction run at a time; a writer that finds the database locked
sleeps in SQLite's busy handler (1, 2, 5, 10, 15, 20… ms between tries) and so often wakes
late, while the worker that just committed takes the lock again for its next request. With
two workers on a booking rush the second one mostly waits: two workers booked no faster than
one. Here every write transaction first takes an exclusive ``flock`` on a file beside the
database (``<database>-writer``), held until its COMMIT or ROLLBACK has returned, so a waiting
writer notices within half a millisecond that the lock is free, and SQLite's own lock is then
always free when ``BEGIN IMMEDIATE`` runs.

The gate only orders writers: SQLite's lock still guarantees correctness. A writer that
cannot have the gate within the busy timeout goes on without it (and SQLite's busy timeout
applies as before). Read-only (deferred) transactions never take it. Each connection has its
own open file, so threads of one process queue too; the kernel drops the lock of a process
that dies. Not for PostgreSQL, whose writers do not exclude one another.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

try:
    import fcntl
except ImportError:  # Windows: no flock; SQLite's busy handler alone orders the writers
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class _Gate:
    """One connection's open lock file, and whether it holds the lock."""

    descriptor: int
    held: bool = False


def install(engine: Engine, timeout_seconds: float) -> None:
    """Queue ``engine``'s write transactions (an SQLite file database) at the gate."""
    if fcntl is None:
        return
    path = f"{engine.url.database}-writer"
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    gates: dict[int, _Gate] = {}  # id(DBAPI connection) -> its gate

    @event.listens_for(engine, "connect")
    def _open(dbapi_connection, _record):
        gates[id(dbapi_connection)] = _Gate(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))

    @event.listens_for(engine, "close")
    def _close(dbapi_connection, _record):
        gate = gates.pop(id(dbapi_connection), None)
        if gate is not None:
            os.close(gate.descriptor)  # releases the lock, if held

    def enter(connection) -> None:
        gate = gates.get(id(connection.connection.dbapi_connection))
        if gate is not None and not gate.held:
            gate.held = _acquire(gate.descriptor, timeout_seconds)

    def leave(connection) -> None:
        # SQLAlchemy passes the pool's proxy of the DBAPI connection.
        gate = gates.get(id(getattr(connection, "dbapi_connection", connection)))
        if gate is not None and gate.held:
            gate.held = False
            fcntl.flock(gate.descriptor, fcntl.LOCK_UN)

    def do_commit(dbapi_connection):
        try:
            commit(dbapi_connection)
        finally:
            leave(dbapi_connection)

    def do_rollback(dbapi_connection):
        try:
            rollback(dbapi_connection)
        finally:
            leave(dbapi_connection)

    # After COMMIT or ROLLBACK has returned, not before (SQLAlchemy's events come before).
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    engine._writer_gate_enter = enter  # type: ignore[attr-defined]


def enter(connection) -> None:
    """Take the gate for a write transaction about to begin on ``connection``, when its
    engine has one."""
    gate = getattr(connection.engine, "_writer_gate_enter", None)
    if gate is not None:
        gate(connection)


def _acquire(descriptor: int, timeout_seconds: float) -> bool:
    """The exclusive lock, waiting at most ``timeout_seconds``: True if taken. A waiter
    looks again every 0.1-0.5 ms (flock has no timeout of its own)."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    deadline = time.monotonic() + timeout_seconds
    pause = 0.0001
    while time.monotonic() < deadline:
        time.sleep(pause)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pause = min(pause * 2, 0.0005)
    return False
