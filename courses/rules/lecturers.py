"""Lecturers and guides: who they are, what they may teach, and the days they are away.

A lecturer's name and staff account are copied onto the slots of their sessions
(``Slot.lecturer_name``, ``Slot.guide_user_id``) so the roster can show them and guides see
their own sessions; edits refresh those copies on future sessions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.clock import local, local_today, utcnow
from booking.errors import BookingError
from booking.models import Role, Slot, SlotState, StaffUser, Venue
from booking.rules import tokens
from booking.rules.audit import record_change
from courses.models import Course, CourseSession, Lecturer, LecturerAbsence

MAX_NOTE = 200


@dataclass
class LecturerData:
    name: str
    title: str
    venue: Venue
    staff_user: StaffUser | None = None
    courses: list[Course] = field(default_factory=list)
    active: bool = True


def lecturer_state(lecturer: Lecturer) -> dict:
    return {"name": lecturer.name, "title": lecturer.title, "venue": lecturer.venue_id,
            "staff_user": lecturer.staff_user_id, "active": lecturer.active,
            "courses": sorted(course.id for course in lecturer.courses)}


def future_sessions(session: Session, lecturer: Lecturer, now: datetime) -> list[CourseSession]:
    """The lecturer's live sessions that have not started yet, in time order."""
    return list(session.scalars(
        select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
        .where(CourseSession.lecturer_id == lecturer.id, Slot.starts_at > now,
               Slot.state != SlotState.CANCELLED)
        .order_by(Slot.starts_at).options(selectinload(CourseSession.slot))))


def _check(session: Session, data: LecturerData, lecturer: Lecturer | None,
           now: datetime) -> None:
    name = " ".join((data.name or "").split())
    if not name:
        raise BookingError("lecturer_name", _l("请填写姓名。"), status=422, field="name")
    if data.staff_user is not None:
        if data.staff_user.role is not Role.GUIDE:
            raise BookingError("staff_user_role", _l("只能关联角色为“讲解员”的账号。"),
                               status=422, field="staff_user")
        other = session.scalar(select(Lecturer).where(
            Lecturer.staff_user_id == data.staff_user.id,
            Lecturer.id != (lecturer.id if lecturer is not None else -1)))
        if other is not None:
            raise BookingError("staff_user_taken", _l("该账号已关联到 %(name)s。", name=other.name),
                               status=422, field="staff_user")
    strangers = [course.title for course in data.courses if course.venue_id != data.venue.id]
    if strangers:
        raise BookingError("course_venue", _l("《%(titles)s》不属于所选场馆。",
                                              titles="》《".join(strangers)),
                           status=422, field="courses")
    if lecturer is None:
        return
    moving = data.venue.id != lecturer.venue_id
    retiring = lecturer.active and not data.active
    if moving or retiring:
        upcoming = future_sessions(session, lecturer, now)
        if upcoming:
            raise BookingError("lecturer_has_sessions", _l(
                "%(name)s 还有 %(n)s 个未开始的场次（最早 %(first)s），请先为这些场次更换讲解员。",
                name=lecturer.name, n=len(upcoming),
                first=local(upcoming[0].slot.starts_at, upcoming[0].slot.venue.tz)
                .strftime("%Y-%m-%d %H:%M")),
                field="venue" if moving else "active")


def _apply(lecturer: Lecturer, data: LecturerData) -> None:
    lecturer.name = " ".join(data.name.split())
    lecturer.title = data.title.strip()
    lecturer.venue = data.venue
    lecturer.staff_user = data.staff_user
    lecturer.courses = list(data.courses)
    lecturer.active = data.active


def create_lecturer(session: Session, data: LecturerData, user: StaffUser | None,
                    now: datetime | None = None) -> Lecturer:
    _check(session, data, None, now or utcnow())
    lecturer = Lecturer()
    _apply(lecturer, data)
    session.add(lecturer)
    session.flush()
    record_change(session, user, "lecturer.create", lecturer, None, lecturer_state(lecturer))
    return lecturer


def update_lecturer(session: Session, lecturer: Lecturer, data: LecturerData,
                    user: StaffUser | None, now: datetime | None = None) -> int:
    """Save the edit; refresh name and account on future sessions. Returns how many."""
    now = now or utcnow()
    _check(session, data, lecturer, now)
    before = lecturer_state(lecturer)
    _apply(lecturer, data)
    session.flush()
    upcoming = future_sessions(session, lecturer, now)
    for course_session in upcoming:
        course_session.slot.lecturer_name = lecturer.name
        course_session.slot.guide_user_id = lecturer.staff_user_id
    session.flush()
    record_change(session, user, "lecturer.update", lecturer, before, lecturer_state(lecturer))
    return len(upcoming)


def sessions_on_day(session: Session, lecturer: Lecturer, day: date) -> list[CourseSession]:
    """The lecturer's live sessions on a local day, in time order."""
    return list(session.scalars(
        select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
        .where(CourseSession.lecturer_id == lecturer.id, Slot.day == day,
               Slot.state != SlotState.CANCELLED)
        .order_by(Slot.starts_at).options(selectinload(CourseSession.slot))))


def add_absence(session: Session, lecturer: Lecturer, day: date, note: str,
                user: StaffUser | None, now: datetime | None = None) -> LecturerAbsence:
    """Record a day away. Refused while the lecturer has sessions that day (naming them):
    reassign them first, so no session is ever left with an absent lecturer."""
    now = now or utcnow()
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise BookingError("note_too_long", _l("备注不能超过 %(n)s 个字符。", n=MAX_NOTE),
                           status=422, field="note")
    if day < local_today(now, lecturer.venue.tz):
        raise BookingError("day_past", _l("不能登记已经过去的日期。"), status=422, field="day")
    if session.scalar(select(LecturerAbsence.id).filter_by(lecturer_id=lecturer.id, day=day)):
        raise BookingError("absence_exists", _l("%(day)s 已登记为不在岗。", day=day.isoformat()),
                           status=422, field="day")
    clashing = sessions_on_day(session, lecturer, day)
    if clashing:
        tz = lecturer.venue.tz
        listed = "；".join(f"{local(cs.slot.starts_at, tz):%H:%M}《{cs.slot.title}》"
                          for cs in clashing)
        raise BookingError("absence_has_sessions", _l(
            "%(name)s 在 %(day)s 已安排 %(n)s 个场次：%(sessions)s。请先为这些场次更换讲解员，再登记不在岗。",
            name=lecturer.name, day=day.isoformat(), n=len(clashing), sessions=listed),
            field="day")
    absence = LecturerAbsence(lecturer=lecturer, day=day, note=note)
    session.add(absence)
    session.flush()
    record_change(session, user, "lecturer.absence_add", lecturer, None,
                  {"day": day.isoformat(), "note": note})
    return absence


def remove_absence(session: Session, absence: LecturerAbsence, user: StaffUser | None) -> None:
    lecturer = absence.lecturer
    record_change(session, user, "lecturer.absence_remove", lecturer,
                  {"day": absence.day.isoformat(), "note": absence.note}, None)
    lecturer.absences.remove(absence)
    session.flush()


def list_lecturers(session: Session, venue: Venue | None = None) -> list[Lecturer]:
    query = (select(Lecturer).options(selectinload(Lecturer.venue), selectinload(Lecturer.courses),
                                      selectinload(Lecturer.staff_user),
                                      selectinload(Lecturer.absences))
             .order_by(Lecturer.active.desc(), Lecturer.venue_id, Lecturer.name))
    if venue is not None:
        query = query.where(Lecturer.venue_id == venue.id)
    return list(session.scalars(query))


def reset_feed_token(session: Session, lecturer: Lecturer, user: StaffUser | None) -> str:
    """Give the lecturer a new secret feed URL; the old one stops working at once.

    Returns the token (192 bits), which is stored only hashed: show it once.
    """
    had_feed = lecturer.feed_token_hash is not None
    token = tokens.new_secret()
    lecturer.feed_token_hash = tokens.hash_secret(token)
    session.flush()
    record_change(session, user, "lecturer.feed_token_reset", lecturer,
                  {"feed_url": "set" if had_feed else "none"}, {"feed_url": "new"})
    return token
