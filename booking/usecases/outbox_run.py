"""What the e-mail and SMS senders share: one run over an outbox table.

Both outboxes (:class:`~booking.models.OutboxMessage`, :class:`~booking.models.SmsMessage`)
carry the same delivery columns — ``sent_at``, ``attempts``, ``next_attempt_at``,
``locked_until`` — and are sent the same way: pick the due ids, then claim each by a
conditional UPDATE that takes a lease, so overlapping runs never send one message twice.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

MAX_ATTEMPTS = 10
#: How long a claim holds: far longer than one SMTP exchange or provider call (with timeouts).
LEASE = timedelta(minutes=10)


def due(model, now: datetime) -> tuple:
    """The WHERE clauses of a message that may be sent at ``now``: unsent, not given up,
    its backoff over, and not leased to a live run."""
    return (model.sent_at.is_(None), model.attempts < MAX_ATTEMPTS, model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until <= now))


class OutboxRun:
    """One sender run: its worker name (recorded as ``claimed_by``), a clock that moves on
    from ``now`` as the run takes time, and the ids due when it started."""

    def __init__(self, model, now: datetime, worker: str | None = None):
        self.model = model
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._now = now
        self._started = time.monotonic()

    def clock(self) -> datetime:
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def due_ids(self, session: Session, batch: int) -> list[int]:
        """Up to ``batch`` due ids, oldest due first; commits so no transaction stays open
        while messages are sent."""
        model = self.model
        ids = list(session.scalars(select(model.id).where(*due(model, self._now))
                                   .order_by(model.next_attempt_at, model.id).limit(batch)))
        session.commit()
        return ids
