"""What a group thought of its visit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.bookings import Booking
from booking.models.db import UTCDateTime, db


class Feedback(db.Model):
    """One organisation's rating of one completed visit: overall and lecturer (1-5) and a short
    comment. One per booking; the programme, lecturer and venue are copied so the figures
    stand after the booking is purged. Staff may hide an abusive comment (its ratings still
    count); the retention purge blanks comments and unlinks the booking."""

    __table_args__ = (CheckConstraint("overall BETWEEN 1 AND 5", name="overall_range"),
                      CheckConstraint("lecturer_rating IS NULL OR lecturer_rating BETWEEN 1 AND 5",
                                      name="lecturer_rating_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), unique=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    programme: Mapped[str] = mapped_column(String(200))   # code, or title without one
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    lecturer_name: Mapped[str] = mapped_column(String(100), default="")
    overall: Mapped[int] = mapped_column(Integer)
    lecturer_rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking | None] = relationship()
