"""What the museum told a booking's organisation, by which channel, and how it went: the
e-mails and text messages of the outbox for one booking, for the staff booking page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.models import Booking, OutboxMessage, SmsMessage

SENT, WAITING, RETRYING, GIVEN_UP = "sent", "waiting", "retrying", "given_up"


@dataclass(frozen=True)
class MessageRecord:
    channel: str            # "email" | "sms"
    kind: str               # "confirmed", "reminder" …
    recipient: str
    queued_at: datetime
    sent_at: datetime | None
    attempts: int
    status: str             # SENT | WAITING | RETRYING | GIVEN_UP
    last_error: str
    next_attempt_at: datetime | None


def _status(sent_at, attempts: int, max_attempts: int) -> str:
    if sent_at is not None:
        return SENT
    if attempts >= max_attempts:
        return GIVEN_UP
    return RETRYING if attempts else WAITING


def booking_messages(session: Session, booking: Booking,
                     max_attempts: int) -> list[MessageRecord]:
    """Every message about ``booking``, oldest first. ``max_attempts`` is the senders'
    give-up point (:data:`booking.usecases.mailer.MAX_ATTEMPTS`)."""
    records = [
        MessageRecord("email", m.kind, m.recipient, m.created_at, m.sent_at, m.attempts,
                      _status(m.sent_at, m.attempts, max_attempts), m.last_error,
                      m.next_attempt_at)
        for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.booking_id == booking.id))]
    records += [
        MessageRecord("sms", m.kind, m.phone, m.created_at, m.sent_at, m.attempts,
                      _status(m.sent_at, m.attempts, max_attempts), m.last_error,
                      m.next_attempt_at)
        for m in session.scalars(select(SmsMessage).where(SmsMessage.booking_id == booking.id))]
    return sorted(records, key=lambda record: (record.queued_at, record.channel))
