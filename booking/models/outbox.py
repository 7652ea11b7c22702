"""Outgoing e-mail, queued in the same transaction as the change that caused it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.db import UTCDateTime, db


class OutboxMessage(db.Model):
    """An e-mail waiting to be sent (or sent). A mail server that is down loses nothing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str] = mapped_column(String(100), default="")
    attachment_type: Mapped[str] = mapped_column(String(100), default="")
    attachment_body: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # What the message is about (e.g. "confirmed", "reminder"), for people reading the outbox.
    kind: Mapped[str] = mapped_column(String(40), default="")
    # The booking it is about, if any, so staff see its messages on the booking's page.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    # A sender's lease: `send-mail` claims a message (atomic UPDATE) before sending it, so two
    # overlapping runs never both send it; a crashed sender's lease simply runs out.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
