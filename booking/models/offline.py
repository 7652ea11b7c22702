"""Visits recorded by staff that were not booked online."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.bookings import OrganisationKind
from booking.models.db import UTCDateTime, db
from booking.models.staff import StaffUser
from booking.models.venues import Venue, enum_column


class OfflineVisit(db.Model):
    """A group visit that happened without an online booking: a visit before the system
    existed, or one arranged by telephone. It counts in the statistics, marked as offline, and
    is never a booking (no seats, no manage link, no certificates)."""

    __tablename__ = "offline_visit"
    __table_args__ = (CheckConstraint("people > 0", name="people_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # local date at the venue
    organisation_name: Mapped[str] = mapped_column(String(120))
    organisation_kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    programme: Mapped[str | None] = mapped_column(String(60))  # course code, when known
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str | None] = mapped_column(String(24))       # programme kind
    people: Mapped[int] = mapped_column(Integer)
    # 学时 per person; None when the visit earns none.
    training_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    lecturer_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    import_batch: Mapped[str | None] = mapped_column(String(32), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()
