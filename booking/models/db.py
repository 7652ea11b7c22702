"""The database handle, the declarative base and engine tuning.

SQLite is the embedded default; PostgreSQL is used when ``DATABASE_URL`` says so.
On SQLite, every write transaction must begin with ``BEGIN IMMEDIATE``: a deferred
transaction that reads first and writes later fails with "database is locked" when
another writer committed in between, and no busy timeout can save it. Read-only
requests (GET/HEAD) mark themselves with :func:`deferred_transactions` so that readers
never queue behind writers.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from booking.models import writer_gate as writer_gate_module

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: ``PRAGMA synchronous`` in WAL mode. FULL syncs the write-ahead log to disk at every commit:
#: a committed booking survives a power cut or an OS crash. NORMAL syncs only at checkpoints:
#: it survives the process being killed, but a power cut can lose the last commits (never the
#: database's consistency). Chosen by the ``SQLITE_SYNCHRONOUS`` setting.
SQLITE_SYNCHRONOUS_MODES = ("FULL", "NORMAL")

_deferred_begin: ContextVar[bool] = ContextVar("deferred_begin", default=False)


@contextlib.contextmanager
def deferred_transactions():
    """Within this block, SQLite transactions begin DEFERRED (for read-only work)."""
    token = _deferred_begin.set(True)
    try:
        yield
    finally:
        _deferred_begin.reset(token)


def set_deferred_transactions(value: bool):
    """Token-returning form of :func:`deferred_transactions` for request hooks."""
    return _deferred_begin.set(value)


def reset_deferred_transactions(token) -> None:
    _deferred_begin.reset(token)


def sqlite_synchronous(value: str) -> str:
    """The ``SQLITE_SYNCHRONOUS`` setting checked: FULL or NORMAL (any case)."""
    mode = str(value).strip().upper()
    if mode not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be FULL or NORMAL, not {value!r}")
    return mode


def configure_engine(engine: Engine, synchronous: str = "FULL", writer_gate: bool = True) -> None:
    """Install per-connection settings (and, on an SQLite file, the writers' queue of
    :mod:`booking.models.writer_gate` unless ``writer_gate`` is off). Idempotent per engine."""
    synchronous = sqlite_synchronous(synchronous)
    if engine.dialect.name != "sqlite" or getattr(engine, "_museum_configured", False):
        return
    engine._museum_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so that we emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    if writer_gate and engine.url.database not in (None, "", ":memory:"):
        writer_gate_module.install(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _deferred_begin.get():
            connection.exec_driver_sql("BEGIN")
            return
        writer_gate_module.enter(connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC on every backend, returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
