"""The course catalogue: creating, editing and retiring programmes.

A course's facts are copied onto the slots of its sessions (see
:func:`courses.rules.scheduling.slot_facts`), because booking pages never read ``courses``. Editing a
course therefore refreshes the copies on its *future* live slots; past slots keep the facts
they were run with, so certificates and statistics of the past do not change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Room, Slot, SlotState, StaffUser, Venue
from booking.rules.audit import record_change
from courses.models import Course, CourseKind, CourseModule, CourseSession, Lecturer
from courses.rules.scheduling import slot_facts

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_MODULES = 20
MAX_MODULE_MINUTES = 480
MAX_MODULE_TITLE = 120
MAX_EQUIPMENT_ITEM = 60
HALF_HOUR = Decimal("0.5")


@dataclass
class ModuleSpec:
    """One module row as staff typed it: ``名称 | 分钟`` or ``名称 | English | 分钟``."""

    title: str
    minutes: int
    title_en: str = ""


def parse_modules(text: str) -> list[ModuleSpec]:
    """Modules from the one-per-line text; raises BookingError naming the bad line."""
    modules = []
    lines = [line for line in (text or "").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.replace("｜", "|").split("|")]
        if len(parts) not in (2, 3) or not parts[0]:
            raise BookingError("module_format", _l(
                "第 %(n)s 行格式应为“名称 | 分钟”或“名称 | 英文名称 | 分钟”。", n=number),
                status=422, field="modules_text")
        minutes = parts[-1].removesuffix("分钟").removesuffix("min").strip()
        if not minutes.isdigit() or not 1 <= int(minutes) <= MAX_MODULE_MINUTES:
            raise BookingError("module_minutes", _l(
                "第 %(n)s 行的时长应为 1 至 %(max)s 之间的整数分钟。", n=number,
                max=MAX_MODULE_MINUTES), status=422, field="modules_text")
        if any(len(part) > MAX_MODULE_TITLE for part in parts[:-1]):
            raise BookingError("module_title", _l("第 %(n)s 行的名称太长（最多 %(max)s 字）。",
                                                  n=number, max=MAX_MODULE_TITLE),
                               status=422, field="modules_text")
        modules.append(ModuleSpec(parts[0], int(minutes), parts[1] if len(parts) == 3 else ""))
    if not modules:
        raise BookingError("modules_missing", _l("请至少填写一个环节。"), status=422,
                           field="modules_text")
    if len(modules) > MAX_MODULES:
        raise BookingError("modules_many", _l("环节最多 %(n)s 个。", n=MAX_MODULES), status=422,
                           field="modules_text")
    return modules


def modules_as_text(course: Course) -> str:
    """The inverse of :func:`parse_modules`, to prefill the edit form."""
    return "\n".join(" | ".join([m.title, *([m.title_en] if m.title_en else []), str(m.minutes)])
                     for m in course.modules)


def clean_equipment(text: str, field_name: str = "equipment") -> str:
    """One item per line, trimmed, without blanks or repeats."""
    items: list[str] = []
    for line in (text or "").splitlines():
        item = " ".join(line.split())
        if len(item) > MAX_EQUIPMENT_ITEM:
            raise BookingError("equipment_item", _l("每项器材不超过 %(n)s 字。", n=MAX_EQUIPMENT_ITEM),
                               status=422, field=field_name)
        if item and item not in items:
            items.append(item)
    return "\n".join(items)


@dataclass
class CourseData:
    """A course as the form delivers it (shape checked); the rules below check policy."""

    venue: Venue
    kind: CourseKind
    code: str
    title: str
    modules: list[ModuleSpec]
    training_hours: Decimal
    group_min: int
    group_max: int
    title_en: str = ""
    summary: str = ""
    summary_en: str = ""
    description: str = ""
    description_en: str = ""
    audience: str = ""
    audience_en: str = ""
    requires_approval: bool = False
    requires_letter: bool = False
    min_working_days_ahead: int | None = None
    max_days_ahead: int | None = None
    default_room: Room | None = None
    lecturers: list[Lecturer] = field(default_factory=list)
    equipment: str = ""
    equipment_en: str = ""


def _check(session: Session, data: CourseData, course: Course | None) -> None:
    if not CODE_PATTERN.match(data.code or ""):
        raise BookingError("course_code", _l("代码只能包含小写字母、数字和连字符，例如 party-day。"),
                           status=422, field="code")
    taken = session.scalar(select(Course.id).where(Course.code == data.code))
    if taken is not None and (course is None or taken != course.id):
        raise BookingError("course_code_taken", _l("代码 %(code)s 已被其他课程使用。",
                                                   code=data.code), status=422, field="code")
    if data.group_min < 1:
        raise BookingError("group_min", _l("最少人数至少为 1。"), status=422, field="group_min")
    if data.group_max < data.group_min:
        raise BookingError("group_bounds", _l("最多人数不能少于最少人数。"), status=422,
                           field="group_max")
    if data.training_hours < 0 or data.training_hours % HALF_HOUR != 0 \
            or data.training_hours > Decimal("99.5"):
        raise BookingError("training_hours", _l("学时应为 0 至 99.5 之间、以 0.5 为单位的数。"),
                           status=422, field="training_hours")
    if data.min_working_days_ahead is not None and data.min_working_days_ahead < 0:
        raise BookingError("window", _l("提前天数不能为负数。"), status=422,
                           field="min_working_days_ahead")
    if data.max_days_ahead is not None and data.max_days_ahead < 1:
        raise BookingError("window", _l("最多提前天数至少为 1。"), status=422,
                           field="max_days_ahead")
    min_ahead = data.min_working_days_ahead
    if min_ahead is None:
        min_ahead = data.venue.min_working_days_ahead
    max_ahead = data.max_days_ahead if data.max_days_ahead is not None \
        else data.venue.max_days_ahead
    if max_ahead < min_ahead:
        raise BookingError("window", _l("预约窗口无效：最多提前天数（%(max)s）小于最少提前工作日（%(min)s）。",
                                        max=max_ahead, min=min_ahead), status=422,
                           field="max_days_ahead")
    if data.default_room is not None and data.default_room.venue_id != data.venue.id:
        raise BookingError("room_venue", _l("默认场地必须属于本课程的场馆。"), status=422,
                           field="default_room")
    strangers = [lec.name for lec in data.lecturers if lec.venue_id != data.venue.id]
    if strangers:
        raise BookingError("lecturer_venue", _l("%(names)s 不属于本课程的场馆。",
                                                names="、".join(strangers)),
                           status=422, field="lecturers")
    if course is not None and course.id is not None:
        has_sessions = session.scalar(select(CourseSession.id).filter_by(course_id=course.id)
                                      .limit(1)) is not None
        if has_sessions and data.venue.id != course.venue_id:
            raise BookingError("course_venue_locked", _l("已有场次的课程不能更换场馆。"),
                               status=422, field="venue")
        if has_sessions and data.code != course.code:
            raise BookingError("course_code_locked", _l(
                "已有场次的课程不能修改代码（统计和证书按代码归档）。"), status=422, field="code")


def _apply(course: Course, data: CourseData) -> None:
    for name in ("venue", "kind", "code", "title", "title_en", "summary", "summary_en",
                 "description", "description_en", "audience", "audience_en",
                 "training_hours", "group_min", "group_max", "requires_approval",
                 "requires_letter", "min_working_days_ahead", "max_days_ahead", "default_room"):
        value = getattr(data, name)
        setattr(course, name, value.strip() if isinstance(value, str) else value)
    course.equipment = clean_equipment(data.equipment)
    course.equipment_en = clean_equipment(data.equipment_en, "equipment_en")
    course.lecturers = list(data.lecturers)
    old = list(course.modules)
    course.modules = [
        (old[i] if i < len(old) else CourseModule())
        for i in range(len(data.modules))]
    for position, (module, spec) in enumerate(zip(course.modules, data.modules)):
        module.position, module.title, module.title_en, module.minutes = (
            position, spec.title, spec.title_en, spec.minutes)
    course.duration_minutes = sum(spec.minutes for spec in data.modules)


def course_state(course: Course) -> dict:
    """The course as the audit log records it."""
    return {
        "code": course.code, "venue": course.venue_id, "kind": course.kind.value,
        "title": course.title, "title_en": course.title_en, "summary": course.summary,
        "audience": course.audience, "training_hours": str(course.training_hours),
        "group": [course.group_min, course.group_max],
        "requires_approval": course.requires_approval,
        "requires_letter": course.requires_letter,
        "window": [course.min_working_days_ahead, course.max_days_ahead],
        "default_room": course.default_room_id, "equipment": course.equipment,
        "equipment_en": course.equipment_en,
        "modules": [[m.title, m.minutes] for m in course.modules],
        "lecturers": sorted(lec.id for lec in course.lecturers), "active": course.active,
    }


def create_course(session: Session, data: CourseData, user: StaffUser | None) -> Course:
    _check(session, data, None)
    position = session.scalar(select(func.coalesce(func.max(Course.position), -1))) + 1
    course = Course(active=True, position=position)
    _apply(course, data)
    session.add(course)
    session.flush()
    record_change(session, user, "course.create", course, None, course_state(course))
    return course


def update_course(session: Session, course: Course, data: CourseData, user: StaffUser | None,
                  now: datetime | None = None) -> int:
    """Save the edit and refresh the facts of its future sessions. Returns how many."""
    _check(session, data, course)
    before = course_state(course)
    _apply(course, data)
    session.flush()
    refreshed = refresh_future_slots(session, course, now or utcnow())
    record_change(session, user, "course.update", course, before,
                  {**course_state(course), "future_slots_refreshed": refreshed})
    return refreshed


def refresh_future_slots(session: Session, course: Course, now: datetime) -> int:
    """Copy the course's facts onto its sessions' slots that have not started and still run.

    Times stay as scheduled: a changed duration applies to sessions scheduled from now on.
    """
    sessions = session.scalars(
        select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
        .where(CourseSession.course_id == course.id, Slot.starts_at > now,
               Slot.state != SlotState.CANCELLED)
        .options(selectinload(CourseSession.slot), selectinload(CourseSession.lecturer))).all()
    for course_session in sessions:
        facts = slot_facts(course, course_session.lecturer)
        slot = course_session.slot
        for name in ("title", "title_en", "programme", "kind", "party_size_min",
                     "party_size_max", "requires_approval", "requires_letter",
                     "min_working_days_ahead", "max_days_ahead", "modules_text", "modules_text_en",
                     "equipment", "equipment_en", "training_hours"):
            setattr(slot, name, getattr(facts, name))
    session.flush()
    return len(sessions)


def set_course_active(session: Session, course: Course, active: bool,
                      user: StaffUser | None) -> None:
    """Retire a course from the catalogue (or bring it back). Its sessions stay as they are."""
    if course.active == active:
        return
    course.active = active
    session.flush()
    record_change(session, user, "course.activate" if active else "course.deactivate", course,
                  {"active": not active}, {"active": active})


def list_courses(session: Session, venue: Venue | None = None) -> list[Course]:
    query = (select(Course).options(selectinload(Course.venue), selectinload(Course.modules),
                                    selectinload(Course.lecturers),
                                    selectinload(Course.default_room))
             .order_by(Course.active.desc(), Course.venue_id, Course.position, Course.id))
    if venue is not None:
        query = query.where(Course.venue_id == venue.id)
    return list(session.scalars(query))


def upcoming_session_counts(session: Session, now: datetime) -> dict[int, int]:
    """Course id → number of its live sessions that have not started yet."""
    rows = session.execute(
        select(CourseSession.course_id, func.count())
        .join(Slot, CourseSession.slot_id == Slot.id)
        .where(Slot.starts_at > now, Slot.state != SlotState.CANCELLED)
        .group_by(CourseSession.course_id))
    return {course_id: count for course_id, count in rows}
