"""Organisations, their bookings and attendees, and the waiting list."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.db import UTCDateTime, db
from booking.models.venues import Slot, enum_column


class OrganisationKind(enum.Enum):
    PARTY_ORGANISATION = "party_organisation"
    SCHOOL = "school"
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"
    GOVERNMENT = "government"
    COMMUNITY = "community"
    OTHER = "other"


class Organisation(db.Model):
    """A group that books: a party branch, school, enterprise, institution, office or community.

    Identified by its unified social credit code when it gives one, else by its name.
    Three no-shows within the configured window suspend it until ``suspended_until``.
    Staff may set its own booking limits (``limit_upcoming``, ``limit_seats_per_day``; None:
    the venue's, 0: no limit) and keep notes about it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Indexed, as is the name: the booking path reads its organisation and every one
    # suspended today in one OR query, which can use indexes only when both sides have one.
    suspended_until: Mapped[date | None] = mapped_column(Date, index=True)
    suspension_reason: Mapped[str] = mapped_column(String(300), default="")
    limit_upcoming: Mapped[int | None] = mapped_column(Integer)
    limit_seats_per_day: Mapped[int | None] = mapped_column(Integer)
    staff_notes: Mapped[str | None] = mapped_column(Text)  # None: none written yet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bookings: Mapped[list[Booking]] = relationship(back_populates="organisation")

    def is_suspended_on(self, day: date) -> bool:
        return self.suspended_until is not None and day <= self.suspended_until


class BookingState(enum.Enum):
    PENDING = "pending"          # waiting for staff approval; already holds its seats
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


#: States in which a booking holds seats in its slot.
HOLDING_STATES = frozenset({BookingState.PENDING, BookingState.CONFIRMED,
                            BookingState.CHECKED_IN, BookingState.COMPLETED,
                            BookingState.NO_SHOW})
#: States from which the organisation may still change or cancel.
CHANGEABLE_STATES = frozenset({BookingState.PENDING, BookingState.CONFIRMED})


class Booking(db.Model):
    """An organisation's claim on seats in a slot.

    ``seats`` is what the booking holds in the slot's counter right now (its party size while
    it is active, 0 once cancelled or declined); the integrity check sums it per slot.
    The manage link's token is stored only as a SHA-256 hash.
    """

    __table_args__ = (
        CheckConstraint("seats >= 0", name="seats_not_negative"),
        CheckConstraint("party_size > 0", name="party_size_positive"),
        # Statistics read a range's served bookings from this index alone (index-only).
        Index("ix_booking_served", "slot_id", "organisation_id", "state", "arrived_count",
              "party_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The door pass: an opaque random code printed as the QR on the confirmation. It opens
    # nothing by itself; only a signed-in staff member's door page looks it up. Never the
    # manage token, which is a secret the organisation keeps.
    pass_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    party_size: Mapped[int] = mapped_column(Integer)
    # A study tour's party split into adults (teachers, leaders) and minors (pupils): their
    # sum is the party size (booking.rules.party_makeup). None for other programmes.
    adults: Mapped[int | None] = mapped_column(Integer)
    minors: Mapped[int | None] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[BookingState] = mapped_column(enum_column(BookingState), index=True)
    contact_name: Mapped[str] = mapped_column(String(60))
    # Indexed beside organisation_id: the limits per contact count a contact's bookings by
    # either (booking.rules.booking_limits), and the suspension check looks phones up.
    contact_phone: Mapped[str] = mapped_column(String(11), index=True)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    # How the organisation wants to hear from us: "sms", "email" or "both"
    # (booking.rules.channels decides what that means when an address is missing).
    notify_by: Mapped[str] = mapped_column(String(8), default="both", server_default="both")
    arrived_count: Mapped[int | None] = mapped_column(Integer)
    state_reason: Mapped[str] = mapped_column(String(300), default="")  # decline/cancel reason
    cancelled_by_museum: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the day-before reminder e-mail is queued, so `queue-reminders` never queues twice.
    reminder_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The introduction letter (介绍信), when the programme asks for one: a random file name
    # under LETTER_DIR (never a name the uploader chose), its checked type and size.
    letter_file: Mapped[str | None] = mapped_column(String(64), unique=True)
    letter_type: Mapped[str | None] = mapped_column(String(8))
    letter_size: Mapped[int | None] = mapped_column(Integer)
    letter_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()
    organisation: Mapped[Organisation] = relationship(back_populates="bookings")
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="booking", order_by="Attendee.position", cascade="all, delete-orphan")

    @hybrid_property
    def is_active(self) -> bool:
        return self.state in CHANGEABLE_STATES

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return cls.state.in_(CHANGEABLE_STATES)

    @property
    def is_pending(self) -> bool:
        return self.state is BookingState.PENDING

    @property
    def has_letter(self) -> bool:
        return bool(self.letter_file)

    @property
    def is_missing_letter(self) -> bool:
        """The programme asks for an introduction letter and none has been uploaded."""
        return bool(self.slot.requires_letter) and not self.letter_file

    @property
    def display_reference(self) -> str:
        return f"{self.reference[:4]}-{self.reference[4:]}"


class Attendee(db.Model):
    """A person in a booking. Only a name: no ID numbers (PIPL data minimisation)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)

    booking: Mapped[Booking] = relationship(back_populates="attendees")


class WaitlistState(enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"    # seats are held for this entry until offer_expires_at
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class WaitlistEntry(db.Model):
    """A queued request for seats in a full slot. Freed seats are offered in order.

    While an offer is open its seats are held in the slot's counter (``seats_held``), so the
    same seats can never be promised twice.
    """

    __table_args__ = (CheckConstraint("seats_held >= 0", name="seats_held_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    party_size: Mapped[int] = mapped_column(Integer)
    adults: Mapped[int | None] = mapped_column(Integer)  # as Booking.adults / minors
    minors: Mapped[int | None] = mapped_column(Integer)
    seats_held: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[WaitlistState] = mapped_column(enum_column(WaitlistState),
                                                 default=WaitlistState.WAITING, index=True)
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(11))
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    notify_by: Mapped[str] = mapped_column(String(8), default="both", server_default="both")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A second secret, made when seats are offered, for the accept link sent with the offer
    # (the joining token is stored only hashed, so it cannot be put in an e-mail later).
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slot: Mapped[Slot] = relationship()
    organisation: Mapped[Organisation] = relationship()


class IdempotencyRecord(db.Model):
    """The stored answer to an API request sent with an ``Idempotency-Key`` header."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
