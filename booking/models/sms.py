"""Outgoing text messages (短信): the SMS channel of the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.db import UTCDateTime, db


class SmsMessage(db.Model):
    """A text message waiting to be sent (or sent) through the SMS provider.

    Queued in the same transaction as the change it reports, like an e-mail in
    :class:`~booking.models.outbox.OutboxMessage`, and sent with the same lease, retry with
    backoff and give-up. Providers send only pre-approved templates, so a row holds the
    message kind (which names the template) and the template's variables, not a text.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    # The message kind ("confirmed", "reminder" …): picks the provider's template.
    kind: Mapped[str] = mapped_column(String(40))
    # The template's variables as a JSON object, in the template's order.
    template_params: Mapped[str] = mapped_column(Text, default="{}")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entry.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Which provider took it and its id for the message (BizId, SerialNo), for support calls.
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_message_id: Mapped[str] = mapped_column(String(100), default="")
    # The sender's lease, as on the e-mail outbox: claimed by one atomic UPDATE.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
