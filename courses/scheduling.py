"""Scheduling course sessions into slots: one at a time or from a weekly pattern.

A room is never held twice at once (checked by :func:`booking.slots.create_slot`) and a
lecturer is never in two places; both clashes are refused with a message naming the other
session. Closed days, public holidays and staff closures are skipped per venue rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import opening
from booking.clock import at_local, local
from booking.errors import BookingError
from booking.models import Room, Slot, SlotState, VenueDay
from booking.slots import SlotFacts, create_slot
from courses.models import Course, CourseSession, Lecturer, LecturerAbsence


def slot_facts(course: Course, lecturer: Lecturer | None) -> SlotFacts:
    """The course facts a slot carries so booking pages never need to import courses."""
    return SlotFacts(
        title=course.title, title_en=course.title_en, programme=course.code,
        kind=course.kind.value, party_size_min=course.group_min, party_size_max=course.group_max,
        requires_approval=course.requires_approval,
        min_working_days_ahead=course.min_working_days_ahead,
        max_days_ahead=course.max_days_ahead, lecturer_name=lecturer.name if lecturer else "",
        guide_user_id=lecturer.staff_user_id if lecturer else None,
        modules_text="\n".join(f"{m.title} {m.minutes}分钟" for m in course.modules),
        equipment=course.equipment)


def lecturer_clash(session: Session, lecturer: Lecturer, starts_at: datetime,
                   ends_at: datetime, ignore_slot_id: int | None = None) -> Slot | None:
    query = (select(Slot).join(CourseSession, CourseSession.slot_id == Slot.id)
             .where(CourseSession.lecturer_id == lecturer.id,
                    Slot.state != SlotState.CANCELLED,
                    Slot.starts_at < ends_at, Slot.ends_at > starts_at))
    if ignore_slot_id is not None:
        query = query.where(Slot.id != ignore_slot_id)
    return session.scalars(query.limit(1)).first()


def check_lecturer(session: Session, lecturer: Lecturer, course: Course, starts_at: datetime,
                   ends_at: datetime, ignore_slot_id: int | None = None) -> None:
    tz = course.venue.tz
    if lecturer.courses and course not in lecturer.courses:
        raise BookingError("lecturer_not_qualified", _l("%(name)s 未获准讲授《%(course)s》。",
                                                        name=lecturer.name, course=course.title),
                           status=422, field="lecturer")
    day = local(starts_at, tz).date()
    absent = session.scalar(select(LecturerAbsence).filter_by(lecturer_id=lecturer.id, day=day))
    if absent is not None:
        raise BookingError("lecturer_absent", _l("%(name)s 在 %(day)s 不在岗（%(note)s）。",
                                                 name=lecturer.name, day=day.isoformat(),
                                                 note=absent.note or "-"), field="lecturer")
    other = lecturer_clash(session, lecturer, starts_at, ends_at, ignore_slot_id)
    if other is not None:
        raise BookingError("lecturer_clash", _l(
            "%(name)s 在 %(start)s 已安排《%(title)s》，不能同时到两处。",
            name=lecturer.name, title=other.title,
            start=local(other.starts_at, tz).strftime("%Y-%m-%d %H:%M")), field="lecturer")


def schedule_session(session: Session, course: Course, starts_at: datetime, *,
                     lecturer: Lecturer | None = None, room: Room | None = None,
                     capacity: int | None = None) -> CourseSession:
    """Schedule one session of ``course`` starting at ``starts_at`` (aware datetime)."""
    room = room or course.default_room
    ends_at = starts_at + timedelta(minutes=course.duration_minutes)
    if lecturer is not None:
        check_lecturer(session, lecturer, course, starts_at, ends_at)
    seats = capacity or (room.capacity if room else course.group_max)
    slot = create_slot(session, course.venue, starts_at, ends_at, seats,
                       slot_facts(course, lecturer), room=room)
    course_session = CourseSession(slot=slot, course=course, lecturer=lecturer)
    session.add(course_session)
    session.flush()
    return course_session


@dataclass
class GenerationResult:
    created: list[CourseSession] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)  # (day, reason code)


def generate_sessions(session: Session, course: Course, *, first_day: date, last_day: date,
                      weekdays: set[int], times: list[time], lecturer: Lecturer | None = None,
                      room: Room | None = None, capacity: int | None = None) -> GenerationResult:
    """Sessions on the given weekdays (0 = Monday) and times between two dates, inclusive.

    Days the venue does not receive groups are skipped and reported; a room or lecturer
    clash refuses the whole pattern (the caller rolls back), naming the clash.
    """
    if last_day < first_day:
        raise BookingError("date_range", _l("结束日期不能早于开始日期。"), status=422,
                           field="last_day")
    if (last_day - first_day).days > 366:
        raise BookingError("date_range", _l("一次最多生成一年的场次。"), status=422,
                           field="last_day")
    venue = course.venue
    overrides = {d.day: d for d in session.scalars(
        select(VenueDay).where(VenueDay.venue_id == venue.id,
                               VenueDay.day.between(first_day, last_day)))}
    result = GenerationResult()
    day = first_day
    while day <= last_day:
        if day.weekday() in weekdays:
            status = opening.day_status(venue, day, overrides.get(day))
            if status is opening.DayStatus.OPEN:
                for start in sorted(times):
                    result.created.append(schedule_session(
                        session, course, at_local(day, start, venue.tz),
                        lecturer=lecturer, room=room, capacity=capacity))
            else:
                result.skipped.append((day, status.value))
        day += timedelta(days=1)
    return result
