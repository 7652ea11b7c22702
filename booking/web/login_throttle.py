"""Login throttling keyed by account *and* client address, with a delay that grows.

A lock per account alone lets anyone lock the admin out by typing wrong passwords from
anywhere; a limit per address alone lets a botnet guess forever. So failures are counted per
(username, address): the first :data:`FREE_FAILURES` in :data:`WINDOW_SECONDS` cost nothing,
each one after that makes the next attempt from that address for that account wait twice as
long (2 s, 4 s, 8 s, … up to :data:`MAX_DELAY_SECONDS`). The admin at the museum, on another
address, is never held up by an attacker elsewhere. A successful login clears the count.

Counters live in the rate limiter's storage (``RATELIMIT_STORAGE_URI``), so all workers and,
with Redis, all servers share them.
"""
from __future__ import annotations

import hashlib
import time

from flask import request

from booking.web.ratelimit_storage import shared_storage

FREE_FAILURES = 5
WINDOW_SECONDS = 15 * 60
MAX_DELAY_SECONDS = 15 * 60


def _key(username: str) -> str:
    who = f"{(username or '').strip().lower()[:60]}|{request.remote_addr or ''}"
    return "login-failures:" + hashlib.sha256(who.encode()).hexdigest()[:32]


def seconds_to_wait(username: str) -> int:
    """How long this address must wait before trying this account again (0: go ahead)."""
    storage = shared_storage()
    if storage.get(_key(username) + ":hold") <= 0:
        return 0
    return max(1, int(storage.get_expiry(_key(username) + ":hold") - time.time()))


def record_failure(username: str) -> None:
    storage = shared_storage()
    failures = storage.incr(_key(username), WINDOW_SECONDS)
    if failures >= FREE_FAILURES:
        delay = min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES + 1))
        storage.clear(_key(username) + ":hold")
        storage.incr(_key(username) + ":hold", delay)


def record_success(username: str) -> None:
    storage = shared_storage()
    storage.clear(_key(username))
    storage.clear(_key(username) + ":hold")
