"""Scheduling course sessions into slots: one at a time or from a weekly pattern.

A room is never held twice at once (checked by :func:`booking.rules.slots.create_slot`) and a
lecturer is never in two places; both clashes are refused with a message naming the other
session. Closed days, public holidays and staff closures are skipped per venue rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.clock import at_local, local, local_today, utcnow
from booking.errors import BookingError
from booking.i18n import current_language
from booking.models import Room, Slot, SlotState, StaffUser, Venue, VenueDay
from booking.rules import availability as calendar
from booking.rules import capacity as seats
from booking.rules import opening
from booking.rules.audit import record_change
from booking.rules.slots import SlotFacts, change_slot_room, create_slot
from booking.rules.workflow import SeatsFreed, touch_slot_bookings
from courses.models import Course, CourseSession, Lecturer, LecturerAbsence


def slot_facts(course: Course, lecturer: Lecturer | None) -> SlotFacts:
    """The course facts a slot carries so booking pages never need to import courses."""
    return SlotFacts(
        title=course.title, title_en=course.title_en, programme=course.code,
        kind=course.kind.value, party_size_min=course.group_min, party_size_max=course.group_max,
        requires_approval=course.requires_approval, requires_letter=course.requires_letter,
        min_working_days_ahead=course.min_working_days_ahead,
        max_days_ahead=course.max_days_ahead, lecturer_name=lecturer.name if lecturer else "",
        guide_user_id=lecturer.staff_user_id if lecturer else None,
        modules_text="\n".join(f"{m.title} {m.minutes}分钟" for m in course.modules),
        modules_text_en="\n".join(f"{m.title_en or m.title} {m.minutes} min"
                                  for m in course.modules),
        equipment=course.equipment, equipment_en=course.equipment_en,
        training_hours=course.training_hours)


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
    if not lecturer.active:
        raise BookingError("lecturer_inactive", _l("%(name)s 已停用，不能安排场次。",
                                                   name=lecturer.name), status=422,
                           field="lecturer")
    if lecturer.venue_id != course.venue_id:
        raise BookingError("lecturer_venue", _l("%(name)s 不属于《%(course)s》所在的场馆。",
                                                name=lecturer.name, course=course.title),
                           status=422, field="lecturer")
    # A lecturer with no qualifications recorded may lead any course of their venue.
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


def qualified_lecturers(session: Session, course: Course) -> list[Lecturer]:
    """The active lecturers of the course's venue that :func:`check_lecturer` would accept."""
    candidates = session.scalars(
        select(Lecturer).where(Lecturer.venue_id == course.venue_id, Lecturer.active)
        .options(selectinload(Lecturer.courses)).order_by(Lecturer.name))
    return [lec for lec in candidates if not lec.courses or course in lec.courses]


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
    open_days, skipped = plan_days(session, venue, first_day, last_day, weekdays)
    result = GenerationResult(skipped=[(day, status.value) for day, status, _ in skipped])
    for day in open_days:
        for start in sorted(times):
            try:
                result.created.append(schedule_session(
                    session, course, at_local(day, start, venue.tz),
                    lecturer=lecturer, room=room, capacity=capacity))
            except BookingError as error:
                raise BookingError(error.code, _l(
                    "%(day)s %(time)s 的场次无法安排：%(reason)s", day=day.isoformat(),
                    time=start.strftime("%H:%M"), reason=error.message),
                    status=error.status, field=error.field) from error
    return result


def plan_days(session: Session, venue: Venue, first_day: date, last_day: date,
              weekdays: set[int]) -> tuple[list[date], list[tuple[date, opening.DayStatus, str]]]:
    """The pattern's days that receive groups, and the skipped ones with status and staff note."""
    overrides = {d.day: d for d in session.scalars(
        select(VenueDay).where(VenueDay.venue_id == venue.id,
                               VenueDay.day.between(first_day, last_day)))}
    open_days, skipped = [], []
    day = first_day
    while day <= last_day:
        if day.weekday() in weekdays:
            status = opening.day_status(venue, day, overrides.get(day))
            if status is opening.DayStatus.OPEN:
                open_days.append(day)
            else:
                override = overrides.get(day)
                skipped.append((day, status, override.reason if override else ""))
        day += timedelta(days=1)
    return open_days, skipped


# --- Staff scheduling: checks, preview and audit around the rules above ----------------------

def holiday_name(day: date) -> LazyString:
    """The public holiday's name in the reader's language."""
    return LazyString(lambda: calendar.holiday_name(day, current_language()) or "")


def closed_reason(status: opening.DayStatus, day: date, note: str = ""):
    """Why the venue takes no groups on ``day``, for people: 闭馆日 / 节假日 / 临时闭馆."""
    if status is opening.DayStatus.CLOSED_WEEKLY:
        return _l("闭馆日")
    if status is opening.DayStatus.HOLIDAY_NO_GROUPS:
        return _l("节假日（%(name)s）", name=holiday_name(day))
    return _l("临时闭馆（%(note)s）", note=note) if note else _l("临时闭馆")


@dataclass
class SkippedDay:
    day: date
    status: opening.DayStatus
    reason: object  # a lazy string, see closed_reason


@dataclass
class PlannedSession:
    starts_at: datetime  # local time at the venue
    ends_at: datetime

    @property
    def day(self) -> date:
        return self.starts_at.date()


@dataclass
class PatternPreview:
    """What a weekly pattern would create; ``problem`` is the refusal that creating would meet."""

    planned: list[PlannedSession]
    skipped: list[SkippedDay]
    problem: BookingError | None = None


def _check_times(course: Course, times: list[time]) -> None:
    venue = course.venue
    for start in times:
        end = (datetime.combine(date.min, start) + timedelta(minutes=course.duration_minutes)).time()
        if start < venue.opens_at or start > venue.last_entry_at or end > venue.closes_at \
                or end <= start:
            raise BookingError("outside_hours", _l(
                "%(time)s 开始的场次（%(minutes)s 分钟）超出开放时间 %(opens)s–%(closes)s（最晚入场 %(last)s）。",
                time=start.strftime("%H:%M"), minutes=course.duration_minutes,
                opens=venue.opens_at.strftime("%H:%M"), closes=venue.closes_at.strftime("%H:%M"),
                last=venue.last_entry_at.strftime("%H:%M")), status=422, field="times")


def _check_course_schedulable(course: Course) -> None:
    if not course.active:
        raise BookingError("course_inactive", _l("《%(title)s》已停用，不能安排场次。",
                                                 title=course.title), status=422, field="course")


def _audit_created(session: Session, user: StaffUser | None, created: CourseSession) -> None:
    record_change(session, user, "session.create", created.slot, None, session_state(created))


def session_state(course_session: CourseSession) -> dict:
    slot = course_session.slot
    return {"course": course_session.course.code, "starts_at": slot.starts_at.isoformat(),
            "room": slot.room.name if slot.room else None, "lecturer": slot.lecturer_name,
            "capacity": slot.capacity, "state": slot.state.value}


def schedule_single(session: Session, course: Course, day: date, start: time, *,
                    lecturer: Lecturer | None, room: Room | None, capacity: int | None,
                    user: StaffUser | None, now: datetime | None = None) -> CourseSession:
    """Staff schedule one session: on a day the venue takes groups, in opening hours."""
    now = now or utcnow()
    _check_course_schedulable(course)
    _check_times(course, [start])
    venue = course.venue
    override = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=day))
    status = opening.day_status(venue, day, override)
    if status is not opening.DayStatus.OPEN:
        raise BookingError("venue_closed", _l(
            "%(day)s 不接待团体：%(reason)s。如确需开放，请先在“闭馆日”页面设置开放。",
            day=day.isoformat(), reason=closed_reason(status, day, override.reason if override
                                                      else "")), status=422, field="day")
    starts_at = at_local(day, start, venue.tz)
    if starts_at <= now:
        raise BookingError("session_past", _l("不能安排已经过去的时间。"), status=422, field="day")
    created = schedule_session(session, course, starts_at, lecturer=lecturer, room=room,
                               capacity=capacity)
    _audit_created(session, user, created)
    return created


def _check_pattern(course: Course, first_day: date, last_day: date, weekdays: set[int],
                   times: list[time], now: datetime) -> None:
    _check_course_schedulable(course)
    if not weekdays:
        raise BookingError("weekdays", _l("请至少选择一个星期几。"), status=422, field="weekdays")
    if not times:
        raise BookingError("times", _l("请至少填写一个开始时间。"), status=422, field="times")
    if first_day <= local_today(now, course.venue.tz):
        raise BookingError("date_range", _l("按周生成须从明天或以后开始。"), status=422,
                           field="first_day")
    _check_times(course, times)


def preview_pattern(session: Session, course: Course, *, first_day: date, last_day: date,
                    weekdays: set[int], times: list[time], lecturer: Lecturer | None,
                    room: Room | None, capacity: int | None,
                    now: datetime | None = None) -> PatternPreview:
    """A dry run of :func:`generate_pattern`: every check runs, nothing is kept."""
    now = now or utcnow()
    _check_pattern(course, first_day, last_day, weekdays, times, now)
    venue = course.venue
    open_days, skipped = plan_days(session, venue, first_day, last_day, weekdays)
    duration = timedelta(minutes=course.duration_minutes)
    planned = [PlannedSession(at_local(day, start, venue.tz),
                              at_local(day, start, venue.tz) + duration)
               for day in open_days for start in sorted(times)]
    preview = PatternPreview(planned, [SkippedDay(day, status, closed_reason(status, day, note))
                                       for day, status, note in skipped])
    savepoint = session.begin_nested()
    try:
        generate_sessions(session, course, first_day=first_day, last_day=last_day,
                          weekdays=weekdays, times=times, lecturer=lecturer, room=room,
                          capacity=capacity)
    except BookingError as error:
        preview.problem = error
    finally:
        savepoint.rollback()
    return preview


def generate_pattern(session: Session, course: Course, *, first_day: date, last_day: date,
                     weekdays: set[int], times: list[time], lecturer: Lecturer | None,
                     room: Room | None, capacity: int | None, user: StaffUser | None,
                     now: datetime | None = None) -> GenerationResult:
    """Staff generate a weekly pattern: all sessions or none (the caller rolls back)."""
    now = now or utcnow()
    _check_pattern(course, first_day, last_day, weekdays, times, now)
    result = generate_sessions(session, course, first_day=first_day, last_day=last_day,
                               weekdays=weekdays, times=times, lecturer=lecturer, room=room,
                               capacity=capacity)
    if not result.created:
        raise BookingError("pattern_empty", _l("所选日期范围内没有可以安排场次的日期。"),
                           status=422, field="first_day")
    for created in result.created:
        _audit_created(session, user, created)
    return result


def change_session(session: Session, course_session: CourseSession, *,
                   lecturer: Lecturer | None, room: Room | None, capacity: int,
                   user: StaffUser | None, now: datetime | None = None,
                   on_seats_freed: SeatsFreed | None = None) -> bool:
    """Change a session's lecturer, room and capacity. Returns whether seats were freed.

    Seats added by a capacity increase reach the waiting list through ``on_seats_freed``
    (see :data:`booking.rules.workflow.SeatsFreed`).

    Capacity goes down no further than the seats taken (checked atomically) and never above
    the room's; a lower capacity is applied before a move to a smaller room.
    """
    now = now or utcnow()
    slot = course_session.slot
    if slot.state is SlotState.CANCELLED:
        raise BookingError("slot_cancelled", _l("该场次已取消，不能修改。"))
    if slot.ends_at <= now:
        raise BookingError("slot_past", _l("该场次已结束，不能修改。"))
    if capacity < 1:
        raise BookingError("slot_capacity", _l("容量必须大于 0。"), status=422, field="capacity")
    before = session_state(course_session)
    shown_before = (course_session.lecturer_id, slot.room_id)
    if lecturer is not None and lecturer.id != course_session.lecturer_id:
        check_lecturer(session, lecturer, course_session.course, slot.starts_at, slot.ends_at,
                       ignore_slot_id=slot.id)
    course_session.lecturer = lecturer
    slot.lecturer_name = lecturer.name if lecturer else ""
    slot.guide_user_id = lecturer.staff_user_id if lecturer else None
    old_capacity = slot.capacity
    if capacity < old_capacity:
        seats.set_slot_capacity(session, slot, capacity)
    if room is not None:
        change_slot_room(session, slot, room)
    if slot.room is not None and capacity > slot.room.capacity:
        raise BookingError("slot_capacity", _l("容量不能超过场地容量（%(n)s 人）。",
                                               n=slot.room.capacity), status=422,
                           field="capacity")
    if capacity > old_capacity:
        seats.set_slot_capacity(session, slot, capacity)
        if on_seats_freed is not None:  # the single call site for seats a raise frees
            on_seats_freed(session, slot, now)
    session.flush()
    if (course_session.lecturer_id, slot.room_id) != shown_before:
        touch_slot_bookings(session, slot, now)
    record_change(session, user, "session.update", slot, before, session_state(course_session))
    return capacity > old_capacity


def agenda(session: Session, venue: Venue, first_day: date, last_day: date, *,
           course: Course | None = None, lecturer: Lecturer | None = None) -> list[CourseSession]:
    """A venue's sessions between two local dates (inclusive), in time order."""
    query = (select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
             .where(Slot.venue_id == venue.id, Slot.day.between(first_day, last_day))
             .order_by(Slot.starts_at, Slot.room_id)
             .options(selectinload(CourseSession.slot).selectinload(Slot.room),
                      selectinload(CourseSession.course), selectinload(CourseSession.lecturer)))
    if course is not None:
        query = query.where(CourseSession.course_id == course.id)
    if lecturer is not None:
        query = query.where(CourseSession.lecturer_id == lecturer.id)
    return list(session.scalars(query))
