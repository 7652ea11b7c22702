"""Venues, their rooms and days, and the slots that bookings hold seats in."""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.db import UTCDateTime, db


def enum_column(enum_cls: type[enum.Enum], **kw):
    """A portable enum column: VARCHAR holding the member's value, no native type."""
    return Enum(enum_cls, native_enum=False, length=24, validate_strings=True,
                values_callable=lambda members: [m.value for m in members], **kw)


class Venue(db.Model):
    """A museum that receives groups: its opening rules, daily visitor cap and booking policy.

    A third venue is a new row, not new code.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # prefix of certificate serials
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    address_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    opens_at: Mapped[time] = mapped_column(Time, default=time(9, 0))
    closes_at: Mapped[time] = mapped_column(Time, default=time(17, 0))
    last_entry_at: Mapped[time] = mapped_column(Time, default=time(16, 30))
    # 0 = Monday ... 6 = Sunday; None = open every day.
    weekly_closed_day: Mapped[int | None] = mapped_column(Integer)
    # Whether the weekly closed day opens anyway when it is a public holiday.
    open_on_holiday_closed_day: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether group sessions are scheduled on public holidays.
    groups_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_cap: Mapped[int] = mapped_column(Integer, default=500)
    min_working_days_ahead: Mapped[int] = mapped_column(Integer, default=2)
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=30)
    cancel_days_before: Mapped[int] = mapped_column(Integer, default=1)
    # How many pending or confirmed bookings for days to come one organisation may hold here
    # at once (None: no limit).
    max_open_bookings_per_organisation: Mapped[int | None] = mapped_column(Integer)
    issuing_unit: Mapped[str] = mapped_column(String(100), default="")
    issuing_unit_en: Mapped[str] = mapped_column(String(100), default="")
    # When the staff digest of bookings awaiting approval was last queued for this venue
    # (`flask queue-pending-digest`): the next one lists what arrived since.
    pending_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)

    rooms: Mapped[list[Room]] = relationship(back_populates="venue", order_by="Room.position")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Venue {self.code}>"


class Room(db.Model):
    """A space inside a venue with its own capacity. Two slots never hold a room at once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    venue: Mapped[Venue] = relationship(back_populates="rooms")


class VenueDay(db.Model):
    """One calendar day at a venue: the daily visitor counter and any staff override.

    ``taken`` counts every seat held by bookings and waiting-list offers in the day's slots and
    is changed only by atomic conditional updates (see :mod:`booking.rules.capacity`).
    ``closed`` overrides the weekly and holiday rules: True closes the day (maintenance,
    events), False opens a day the rules would close, None follows the rules.
    """

    __table_args__ = (
        UniqueConstraint("venue_id", "day"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reason_en: Mapped[str] = mapped_column(String(200), default="")

    venue: Mapped[Venue] = relationship()

    @property
    def seats_left(self) -> int:
        return self.capacity - self.taken


class CalendarCorrection(db.Model):
    """A staff correction to the national working-day calendar on one day, on top of the
    ``holidays`` package: an extra holiday (``working_day`` False) or a make-up workday
    (调休, True) announced after the package's data was published. Used by the lead-time
    rule and the calendar alike."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working_day: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlotState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"        # no new bookings; existing ones stand
    CANCELLED = "cancelled"  # the museum called it off


class Slot(db.Model):
    """A dated, capacity-limited window at a venue (and room) that bookings hold seats in.

    Course facts a booking page needs (title, programme, group size bounds, approval) are
    copied onto the slot by the course scheduler, so ``booking`` never reaches up to ``courses``.
    """

    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # local date at the venue
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[SlotState] = mapped_column(enum_column(SlotState), default=SlotState.OPEN)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    programme: Mapped[str | None] = mapped_column(String(60), index=True)  # course code
    kind: Mapped[str | None] = mapped_column(String(24))
    party_size_min: Mapped[int] = mapped_column(Integer, default=1)
    party_size_max: Mapped[int] = mapped_column(Integer, default=50)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # The group must send an introduction letter (介绍信) with its booking.
    requires_letter: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    min_working_days_ahead: Mapped[int | None] = mapped_column(Integer)
    max_days_ahead: Mapped[int | None] = mapped_column(Integer)
    lecturer_name: Mapped[str] = mapped_column(String(100), default="")
    # The staff account of the session's lecturer or guide: guides see their own rosters.
    guide_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    modules_text: Mapped[str] = mapped_column(Text, default="")  # one module per line
    modules_text_en: Mapped[str] = mapped_column(Text, default="")
    equipment: Mapped[str] = mapped_column(Text, default="")     # one item per line
    equipment_en: Mapped[str] = mapped_column(Text, default="")
    # 学时 per person for attending this session (copied from the course; None = not a course).
    training_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    cancel_reason_en: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship()
    room: Mapped[Room | None] = relationship()

    @property
    def seats_left(self) -> int:
        return self.capacity - self.taken

    @property
    def is_open(self) -> bool:
        return self.state is SlotState.OPEN

    def __repr__(self) -> str:
        return f"<Slot {self.id} {self.starts_at:%Y-%m-%d %H:%M} {self.taken}/{self.capacity}>"
