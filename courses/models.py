"""The course catalogue, lecturers, scheduled sessions and certificates."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models import Attendee, Room, Slot, StaffUser, Venue, enum_column
from booking.models.db import UTCDateTime, db


class CourseKind(enum.Enum):
    THEMED_COURSE = "themed_course"  # 专题党课
    PARTY_DAY = "party_day"          # 红色主题党日
    STUDY_TOUR = "study_tour"        # 青少年研学
    EXHIBITION = "exhibition"        # 展览参观 / guided exhibition visit


lecturer_courses = Table(
    "lecturer_course", db.metadata,
    Column("lecturer_id", ForeignKey("lecturer.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
)


class Course(db.Model):
    """A programme that can be booked: a themed course, a party day, a study tour or a visit.

    ``code`` is the stable slug slots carry in ``Slot.programme``.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    kind: Mapped[CourseKind] = mapped_column(enum_column(CourseKind))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    summary_en: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(200), default="")
    audience_en: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    training_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal("1.5"))
    group_min: Mapped[int] = mapped_column(Integer, default=10)
    group_max: Mapped[int] = mapped_column(Integer, default=50)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Groups must upload an introduction letter (介绍信) from their unit with the booking.
    requires_letter: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    min_working_days_ahead: Mapped[int | None] = mapped_column(Integer)  # None: the venue's
    max_days_ahead: Mapped[int | None] = mapped_column(Integer)
    default_room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    equipment: Mapped[str] = mapped_column(Text, default="")  # one item per line
    equipment_en: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    venue: Mapped[Venue] = relationship()
    default_room: Mapped[Room | None] = relationship()
    modules: Mapped[list[CourseModule]] = relationship(
        back_populates="course", order_by="CourseModule.position", cascade="all, delete-orphan")
    lecturers: Mapped[list[Lecturer]] = relationship(secondary=lecturer_courses,
                                                     back_populates="courses")

    @property
    def equipment_items(self) -> list[str]:
        return [line.strip() for line in self.equipment.splitlines() if line.strip()]

    @property
    def equipment_items_en(self) -> list[str]:
        return [line.strip() for line in self.equipment_en.splitlines() if line.strip()]


class CourseModule(db.Model):
    """One step of a course, in order: exhibition visit, lecture, oath renewal, film..."""

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120), default="")
    minutes: Mapped[int] = mapped_column(Integer)

    course: Mapped[Course] = relationship(back_populates="modules")


class Lecturer(db.Model):
    """A lecturer or guide (讲解员/宣讲员) who can lead sessions of the courses they qualify for."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(60), default="")  # e.g. 宣讲员, 讲解员
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), unique=True)
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    venue: Mapped[Venue] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship()
    courses: Mapped[list[Course]] = relationship(secondary=lecturer_courses,
                                                 back_populates="lecturers")
    absences: Mapped[list[LecturerAbsence]] = relationship(
        back_populates="lecturer", order_by="LecturerAbsence.day", cascade="all, delete-orphan")


class LecturerAbsence(db.Model):
    """A day a lecturer is not available (leave, training, outside duty)."""

    __table_args__ = (UniqueConstraint("lecturer_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lecturer_id: Mapped[int] = mapped_column(ForeignKey("lecturer.id"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")

    lecturer: Mapped[Lecturer] = relationship(back_populates="absences")


class CourseSession(db.Model):
    """A slot scheduled for a course, with its lecturer or guide."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    lecturer_id: Mapped[int | None] = mapped_column(ForeignKey("lecturer.id"), index=True)

    slot: Mapped[Slot] = relationship()
    course: Mapped[Course] = relationship()
    lecturer: Mapped[Lecturer | None] = relationship()


class CertificateState(enum.Enum):
    VALID = "valid"
    REVOKED = "revoked"
    REPLACED = "replaced"  # reissued under a new serial


class Certificate(db.Model):
    """An attendance certificate (学习证明) for one attendee of one session.

    Serials run per venue and year and are never reused; the facts printed on it are copied
    at issue time so that a later edit elsewhere does not change an issued certificate.

    ``latest`` is True on the one certificate of an (attendee, session) pair that has not been
    replaced, and NULL once it is: the unique constraint over the three columns then allows
    any number of replaced ones but only one latest (NULLs never collide in a unique
    constraint, on SQLite and PostgreSQL alike), so issuing twice can never give one attendee
    two serials for one session -- a portable stand-in for a partial unique index.
    """

    __table_args__ = (UniqueConstraint("venue_id", "year", "number"),
                      UniqueConstraint("attendee_id", "session_id", "latest",
                                       name="uq_certificate_latest_per_attendee_session"))

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_session.id"), index=True)
    state: Mapped[CertificateState] = mapped_column(enum_column(CertificateState),
                                                    default=CertificateState.VALID)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    latest: Mapped[bool | None] = mapped_column(Boolean, default=True)  # NULL once replaced
    name: Mapped[str] = mapped_column(String(60))
    organisation: Mapped[str] = mapped_column(String(120))
    programme: Mapped[str] = mapped_column(String(200))
    programme_en: Mapped[str] = mapped_column(String(200), default="")
    programme_kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(20))
    session_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    venue_name: Mapped[str] = mapped_column(String(100))
    venue_name_en: Mapped[str] = mapped_column(String(100), default="")
    training_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    lecturer: Mapped[str] = mapped_column(String(60), default="")
    issuing_unit: Mapped[str] = mapped_column(String(100))
    issuing_unit_en: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_reason: Mapped[str] = mapped_column(String(300), default="")

    venue: Mapped[Venue] = relationship()
    attendee: Mapped[Attendee] = relationship()
    session: Mapped[CourseSession] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])


class CertificateCounter(db.Model):
    """The last serial number used per venue and year, advanced by an atomic UPDATE."""

    __table_args__ = (UniqueConstraint("venue_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
