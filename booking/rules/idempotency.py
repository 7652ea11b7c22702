"""Idempotency keys: a retried API request gets the first answer instead of a second booking.

A client sends ``Idempotency-Key: <its own random string>`` with ``POST /api/v1/bookings``.
The key is claimed by inserting its :class:`IdempotencyRecord` in the *same* transaction as
the booking, before the booking is made, and the answer is written into that record before
the commit. So:

* a crash leaves neither the booking nor the record, or both;
* two concurrent requests with one key cannot both book: the second one's insert hits the
  unique key (on PostgreSQL it waits for the first to commit; SQLite serialises writers) and
  then reads the first one's stored answer;
* the same key with a different body is refused (``idempotency_key_reused``).

What is stored: the answers of requests that reached the booking rule — 201 created, and the
rule's own 4xx refusals (full, closed, too soon …), which a retry would otherwise see change
under it. Not stored: malformed or invalid bodies (400/415/422 before the rule runs, so the
client may fix the body and retry with the same key) and 5xx (the transaction rolls back,
taking the record with it). Records, which hold the manage token of a 201, live for
:data:`RECORD_LIFETIME`; after that the key is forgotten and may be used afresh.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import IdempotencyRecord

RECORD_LIFETIME = timedelta(hours=24)
PURGE_INTERVAL_SECONDS = 600
HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as the column allows
UNANSWERED = 0  # status_code of a record claimed in a transaction that has not finished



class PurgeSchedule:
    """At most one purge per interval in this process; each schedule keeps its own time."""

    def __init__(self, interval: float = PURGE_INTERVAL_SECONDS, clock=time.monotonic):
        self.interval = interval
        self.clock = clock
        self.last = float("-inf")

    def due(self) -> bool:
        moment = self.clock()
        if moment - self.last < self.interval:
            return False
        self.last = moment
        return True


_schedule = PurgeSchedule()


def is_valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def fingerprint(method: str, path: str, payload) -> str:
    """A hash of the decoded request, so that whitespace and key order do not matter."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass
class Claim:
    """The outcome of presenting a key: a fresh record to answer, or the stored answer."""

    record: IdempotencyRecord
    fresh: bool

    @property
    def status_code(self) -> int:
        return self.record.status_code

    @property
    def body(self) -> str:
        return self.record.response_body


def _find(session: Session, key: str) -> IdempotencyRecord | None:
    return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))


def claim_key(session: Session, key: str, request_hash: str,
              now: datetime | None = None) -> Claim:
    """Claim ``key`` for this request, or return the answer stored under it.

    Raises BookingError ``idempotency_key_reused`` (422) when the key came with another body,
    and ``idempotency_in_progress`` (409) when a request with the key has not finished.
    """
    now = now or utcnow()
    record = _find(session, key)
    if record is not None and record.created_at <= now - RECORD_LIFETIME:
        session.delete(record)
        session.flush()
        record = None
    if record is None:
        record = IdempotencyRecord(key=key, request_hash=request_hash,
                                   status_code=UNANSWERED, response_body="", created_at=now)
        try:
            with session.begin_nested():
                session.add(record)
            return Claim(record, fresh=True)
        except IntegrityError:
            # A concurrent request with the same key committed first: use its answer.
            record = _find(session, key)
            if record is None:
                raise BookingError("idempotency_in_progress",
                                   _l("使用同一 Idempotency-Key 的请求正在处理中，请稍后重试。")) from None
    if record.request_hash != request_hash:
        raise BookingError("idempotency_key_reused",
                           _l("此 Idempotency-Key 已用于内容不同的请求，请为新请求使用新的键。"),
                           status=422)
    if record.status_code == UNANSWERED:
        raise BookingError("idempotency_in_progress",
                           _l("使用同一 Idempotency-Key 的请求正在处理中，请稍后重试。")) from None
    return Claim(record, fresh=False)


def record_answer(claim: Claim, status_code: int, body: str) -> None:
    """Store the answer in the claimed record; the caller commits it with the booking."""
    if status_code >= 500:
        raise ValueError("server errors are never stored; roll back instead")
    claim.record.status_code = status_code
    claim.record.response_body = body


def purge_expired_records(session: Session, now: datetime | None = None) -> int:
    """Delete records past their lifetime (they may hold manage tokens). Caller commits."""
    now = now or utcnow()
    result = session.execute(delete(IdempotencyRecord)
                             .where(IdempotencyRecord.created_at <= now - RECORD_LIFETIME)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def purge_due() -> bool:
    """Whether this process should purge now: at most once per PURGE_INTERVAL_SECONDS."""
    return _schedule.due()
