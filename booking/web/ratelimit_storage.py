"""Rate-limit counters in a SQLite file, shared by every worker on one machine.

Flask-Limiter's ``memory://`` storage lives in each worker, so with four gunicorn workers a
limit of 10 a minute is really 40 (and the login throttle forgets a failure on the next
worker). This storage keeps the counters in one small SQLite file beside the database
(``museum+sqlite:///path/to/ratelimit.db``, the default), which every worker process on the
machine opens; increments are atomic (``BEGIN IMMEDIATE`` + upsert). Several machines share
Redis instead (``RATELIMIT_STORAGE_URI=redis://…``). Only the fixed-window strategy, the
app's one, is supported.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from flask import current_app
from limits.storage import Storage, storage_from_string

SCHEME = "museum+sqlite"


def shared_storage() -> Storage:
    """The app's one counter storage besides Flask-Limiter's (the login throttle's and the
    booking challenge's counters, apart by their keys), opened from ``RATELIMIT_STORAGE_URI``
    on first use."""
    storage = current_app.extensions.get("museum.counter_storage")
    if storage is None:
        storage = storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"])
        current_app.extensions["museum.counter_storage"] = storage
    return storage


class SQLiteFileStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = (uri or "").split("://", 1)[1] or ":memory:"
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, "
                               "value INTEGER NOT NULL, expires REAL NOT NULL)")
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM counter WHERE key = ? AND expires <= ?", (key, now))
            db.execute("INSERT INTO counter (key, value, expires) VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                       (key, amount, now + expiry))
            value = db.execute("SELECT value FROM counter WHERE key = ?", (key,)).fetchone()[0]
            if hash(key) % 50 == 0:     # now and then, sweep expired counters away
                db.execute("DELETE FROM counter WHERE expires <= ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return value

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT value FROM counter WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counter WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counter WHERE key = ?", (key,))
