"""The course scheduler's rules: clashes, qualifications, absences, weekly patterns over
holiday weeks, capacity changes and course edits reaching future sessions only."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from booking.clock import at_local
from booking.errors import BookingError
from booking.models import AuditEntry, Booking, Role, Slot
from booking.models.db import db
from booking.rules.capacity import find_drift
from courses.rules import catalogue, lecturers, scheduling

# The National Day week of 2027 as the pinned `holidays` release has it: 1–5 October are
# public holidays (4 October a Monday), 6 and 7 October working days.
NATIONAL_DAY = date(2027, 10, 1)
HOLIDAY_MONDAY = date(2027, 10, 4)
#: "Now" for these tests: well before every date they schedule.
NOW = datetime(2027, 9, 1, 2, 0, tzinfo=UTC)
#: When the test bookings are made: inside their sessions' booking window.
BOOKING_NOW = datetime(2027, 10, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
def hall(create_venue):
    """The memorial hall's rules: closed on Mondays, no groups on public holidays."""
    return create_venue("LBC", groups_on_holidays=False, open_on_holiday_closed_day=True)


@pytest.fixture
def room(hall, create_room):
    return create_room(hall, "报告厅", 120)


@pytest.fixture
def course(hall, room, create_course):
    return create_course(hall, default_room=room)


def at(day: date, clock: str, venue) -> datetime:
    return at_local(day, time.fromisoformat(clock), venue.tz)


def slot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


def refused(call, *args, **kwargs) -> BookingError:
    with pytest.raises(BookingError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


# --- clashes ---------------------------------------------------------------------------------

def test_a_room_held_by_a_session_is_refused_to_another_naming_the_clash(
        hall, room, course, create_course):
    day = date(2027, 10, 12)
    scheduling.schedule_single(db.session, course, day, time(9), lecturer=None, room=room,
                               capacity=None, user=None, now=NOW)
    db.session.commit()
    other = create_course(hall, code="party-day", title="红色主题党日")
    error = refused(scheduling.schedule_single, db.session, other, day, time(9, 30),
                    lecturer=None, room=room, capacity=None, user=None, now=NOW)
    assert error.code == "room_clash" and error.field == "room"
    assert "报告厅" in str(error) and "2027-10-12 09:00" in str(error)
    assert "学习百年党史 感悟刘帅精神" in str(error)
    assert slot_count() == 1


def test_a_lecturer_cannot_be_in_two_rooms_at_once(hall, room, course, create_room,
                                                   create_lecturer):
    chen = create_lecturer("陈静", hall, [course])
    day = date(2027, 10, 12)
    scheduling.schedule_single(db.session, course, day, time(9), lecturer=chen, room=room,
                               capacity=None, user=None, now=NOW)
    db.session.commit()
    classroom = create_room(hall, "研学教室", 60)
    error = refused(scheduling.schedule_single, db.session, course, day, time(10),
                    lecturer=chen, room=classroom, capacity=None, user=None, now=NOW)
    assert error.code == "lecturer_clash" and error.field == "lecturer"
    assert "陈静" in str(error) and "2027-10-12 09:00" in str(error)
    assert "学习百年党史 感悟刘帅精神" in str(error)
    assert slot_count() == 1


def test_back_to_back_sessions_in_one_room_do_not_clash(course, room):
    day = date(2027, 10, 12)
    for start in (time(9), time(10, 30)):
        scheduling.schedule_single(db.session, course, day, start, lecturer=None, room=room,
                                   capacity=None, user=None, now=NOW)
    db.session.commit()
    assert slot_count() == 2


def test_an_unqualified_lecturer_is_refused(hall, course, create_course, create_lecturer):
    other = create_course(hall, code="fenglei", title="风雷")
    li = create_lecturer("李明", hall, [other])
    error = refused(scheduling.schedule_single, db.session, course, date(2027, 10, 12), time(9),
                    lecturer=li, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "lecturer_not_qualified" and "李明" in str(error)
    assert slot_count() == 0


def test_an_absent_lecturer_is_refused(hall, course, create_lecturer):
    chen = create_lecturer("陈静", hall, [course])
    lecturers.add_absence(db.session, chen, date(2027, 10, 12), "外出宣讲", None, now=NOW)
    db.session.commit()
    error = refused(scheduling.schedule_single, db.session, course, date(2027, 10, 12), time(9),
                    lecturer=chen, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "lecturer_absent" and "外出宣讲" in str(error)


def test_an_inactive_lecturer_is_refused(hall, course, create_lecturer):
    gone = create_lecturer("张华", hall, [course], active=False)
    error = refused(scheduling.schedule_single, db.session, course, date(2027, 10, 12), time(9),
                    lecturer=gone, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "lecturer_inactive"


def test_qualified_lecturers_are_those_the_clash_check_accepts(hall, course, create_course,
                                                               create_lecturer):
    other = create_course(hall, code="fenglei", title="风雷")
    chen = create_lecturer("陈静", hall, [course])
    create_lecturer("李明", hall, [other])
    anyone = create_lecturer("王芳", hall, [])
    create_lecturer("张华", hall, [course], active=False)
    assert set(scheduling.qualified_lecturers(db.session, course)) == {anyone, chen}


# --- single sessions: days and hours ---------------------------------------------------------

@pytest.mark.parametrize("day, reason", [(date(2027, 10, 11), "closed_weekly"),
                                         (NATIONAL_DAY, "holiday")])
def test_a_single_session_on_a_day_without_groups_is_refused(course, day, reason):
    error = refused(scheduling.schedule_single, db.session, course, day, time(9),
                    lecturer=None, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "venue_closed" and error.field == "day"
    assert day.isoformat() in str(error)


def test_a_single_session_outside_opening_hours_is_refused(course):
    error = refused(scheduling.schedule_single, db.session, course, date(2027, 10, 12),
                    time(16), lecturer=None, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "outside_hours" and "16:00" in str(error)


def test_a_session_in_the_past_is_refused(course):
    error = refused(scheduling.schedule_single, db.session, course, date(2027, 8, 31),
                    time(9), lecturer=None, room=None, capacity=None, user=None, now=NOW)
    assert error.code == "session_past"


def test_scheduling_is_audited(course, create_user):
    user = create_user("clerk", Role.STAFF)
    created = scheduling.schedule_single(db.session, course, date(2027, 10, 12), time(9),
                                         lecturer=None, room=None, capacity=40, user=user,
                                         now=NOW)
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).filter_by(action="session.create"))
    assert entry.user_id == user.id and entry.object_id == str(created.slot.id)
    assert created.slot.capacity == 40


# --- weekly patterns -------------------------------------------------------------------------

def pattern(course, first: date, last: date, weekdays=range(7), times=("09:00",), **kw):
    values = dict(first_day=first, last_day=last, weekdays=set(weekdays),
                  times=[time.fromisoformat(t) for t in times], lecturer=None, room=None,
                  capacity=None)
    values.update(kw)
    return values


def created_days(result) -> list[date]:
    return [cs.slot.day for cs in result.created]


def test_national_day_week_skips_the_holidays_for_a_venue_without_holiday_groups(course):
    result = scheduling.generate_pattern(
        db.session, course, user=None, now=NOW,
        **pattern(course, NATIONAL_DAY, date(2027, 10, 11)))
    db.session.commit()
    assert created_days(result) == [date(2027, 10, 6), date(2027, 10, 7), date(2027, 10, 8),
                                    date(2027, 10, 9), date(2027, 10, 10)]
    assert result.skipped == [(date(2027, 10, d), "holiday") for d in range(1, 6)] + \
        [(date(2027, 10, 11), "closed_weekly")]


def test_a_venue_open_on_a_holiday_monday_gets_sessions_that_monday(create_venue, create_course):
    hall = create_venue("LBC", groups_on_holidays=True, open_on_holiday_closed_day=True)
    course = create_course(hall)
    result = scheduling.generate_pattern(
        db.session, course, user=None, now=NOW,
        **pattern(course, NATIONAL_DAY, date(2027, 10, 11), times=("09:00", "14:00")))
    db.session.commit()
    days = created_days(result)
    assert sorted(set(days)) == [date(2027, 10, d) for d in range(1, 11)]
    assert days.count(HOLIDAY_MONDAY) == 2
    assert result.skipped == [(date(2027, 10, 11), "closed_weekly")]  # an ordinary Monday


def test_a_venue_closed_on_mondays_even_on_holidays_skips_the_holiday_monday(create_venue,
                                                                             create_course):
    museum = create_venue("KZM", name="开州博物馆", groups_on_holidays=True,
                          open_on_holiday_closed_day=False)
    course = create_course(museum, code="red-kaizhou")
    result = scheduling.generate_pattern(
        db.session, course, user=None, now=NOW,
        **pattern(course, NATIONAL_DAY, date(2027, 10, 7)))
    assert created_days(result) == [date(2027, 10, d) for d in (1, 2, 3, 5, 6, 7)]
    assert result.skipped == [(HOLIDAY_MONDAY, "closed_weekly")]


def test_spring_festival_2027_is_skipped_on_the_chosen_weekdays(course):
    # 5–10 February 2027 are holidays; 8 February is also a Monday.
    result = scheduling.generate_pattern(
        db.session, course, user=None, now=datetime(2027, 1, 20, tzinfo=UTC),
        **pattern(course, date(2027, 2, 3), date(2027, 2, 14), weekdays={1, 2, 3, 4, 5}))
    assert created_days(result) == [date(2027, 2, 3), date(2027, 2, 4), date(2027, 2, 11),
                                    date(2027, 2, 12), date(2027, 2, 13)]
    assert [d for d, _ in result.skipped] == [date(2027, 2, 5), date(2027, 2, 6),
                                              date(2027, 2, 9), date(2027, 2, 10)]


def test_the_preview_lists_dates_and_skipped_days_with_reasons_and_keeps_nothing(hall, course):
    from booking.rules import closures
    closures.close_day(db.session, hall, date(2027, 10, 8), "展厅维修", None, now=NOW)
    db.session.commit()
    preview = scheduling.preview_pattern(
        db.session, course, now=NOW, **pattern(course, date(2027, 10, 4), date(2027, 10, 11),
                                               times=("09:00", "14:00")))
    db.session.rollback()
    assert preview.problem is None
    assert [(p.starts_at.date(), p.starts_at.strftime("%H:%M")) for p in preview.planned] == [
        (date(2027, 10, d), t) for d in (6, 7, 9, 10) for t in ("09:00", "14:00")]
    reasons = {s.day: str(s.reason) for s in preview.skipped}
    assert reasons[HOLIDAY_MONDAY] == "节假日（国庆节（补假））"
    assert reasons[date(2027, 10, 8)] == "临时闭馆（展厅维修）"
    assert reasons[date(2027, 10, 11)] == "闭馆日"
    assert slot_count() == 0


def test_a_room_clash_refuses_the_whole_pattern_and_creates_nothing(hall, room, course,
                                                                    create_course):
    other = create_course(hall, code="party-day", title="红色主题党日")
    scheduling.schedule_single(db.session, other, date(2027, 10, 9), time(14), lecturer=None,
                               room=room, capacity=None, user=None, now=NOW)
    db.session.commit()
    values = pattern(course, date(2027, 10, 6), date(2027, 10, 10), times=("09:00", "14:30"))
    preview = scheduling.preview_pattern(db.session, course, now=NOW, **values)
    db.session.rollback()
    assert preview.problem is not None and preview.problem.code == "room_clash"
    error = refused(scheduling.generate_pattern, db.session, course, user=None, now=NOW,
                    **values)
    assert error.code == "room_clash"
    message = str(error)
    assert "2027-10-09 14:30" in message          # the session that could not be placed
    assert "2027-10-09 14:00" in message and "红色主题党日" in message  # the one in the way
    assert slot_count() == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "session.create")) == 1


def test_a_lecturer_clash_refuses_the_whole_pattern_and_creates_nothing(
        hall, course, create_course, create_room, create_lecturer):
    other = create_course(hall, code="party-day", title="红色主题党日",
                          default_room=create_room(hall, "誓词广场", 200))
    chen = create_lecturer("陈静", hall, [])
    scheduling.schedule_single(db.session, other, date(2027, 10, 7), time(9, 30), lecturer=chen,
                               room=None, capacity=None, user=None, now=NOW)
    db.session.commit()
    error = refused(scheduling.generate_pattern, db.session, course, user=None, now=NOW,
                    **pattern(course, date(2027, 10, 6), date(2027, 10, 10), lecturer=chen))
    assert error.code == "lecturer_clash"
    assert "陈静" in str(error) and "2027-10-07 09:30" in str(error)
    assert slot_count() == 1


def test_a_pattern_whose_own_sessions_overlap_is_refused(course):
    error = refused(scheduling.generate_pattern, db.session, course, user=None, now=NOW,
                    **pattern(course, date(2027, 10, 6), date(2027, 10, 6),
                              times=("09:00", "10:00")))
    assert error.code == "room_clash"
    assert slot_count() == 0


def test_a_pattern_with_no_open_day_is_refused(course):
    error = refused(scheduling.generate_pattern, db.session, course, user=None, now=NOW,
                    **pattern(course, NATIONAL_DAY, date(2027, 10, 5)))
    assert error.code == "pattern_empty"


def test_a_pattern_must_start_in_the_future(course):
    error = refused(scheduling.generate_pattern, db.session, course, user=None, now=NOW,
                    **pattern(course, date(2027, 9, 1), date(2027, 9, 10)))
    assert error.code == "date_range" and error.field == "first_day"


# --- editing sessions ------------------------------------------------------------------------

@pytest.fixture
def booked_session(course, room, create_booking):
    created = scheduling.schedule_single(db.session, course, date(2027, 10, 12), time(9),
                                         lecturer=None, room=room, capacity=50, user=None,
                                         now=NOW)
    db.session.commit()
    create_booking(created.slot, 30, now=BOOKING_NOW)
    return created


def test_capacity_cannot_go_below_the_seats_taken(booked_session):
    error = refused(scheduling.change_session, db.session, booked_session, lecturer=None,
                    room=booked_session.slot.room, capacity=29, user=None, now=NOW)
    assert error.code == "capacity_below_taken" and error.field == "capacity"
    assert db.session.get(Slot, booked_session.slot_id).capacity == 50


def test_capacity_can_be_lowered_to_the_seats_taken_and_raised_again(booked_session):
    slot = booked_session.slot
    assert scheduling.change_session(db.session, booked_session, lecturer=None, room=slot.room,
                                     capacity=30, user=None, now=NOW) is False
    assert scheduling.change_session(db.session, booked_session, lecturer=None, room=slot.room,
                                     capacity=80, user=None, now=NOW) is True
    db.session.commit()
    assert (slot.capacity, slot.taken) == (80, 30)
    assert find_drift(db.session) == []


def test_capacity_cannot_exceed_the_room(booked_session):
    error = refused(scheduling.change_session, db.session, booked_session, lecturer=None,
                    room=booked_session.slot.room, capacity=121, user=None, now=NOW)
    assert error.code == "slot_capacity"


def test_changing_the_lecturer_updates_the_slot_for_the_roster(hall, booked_session,
                                                               create_lecturer, create_user):
    guide = create_user("chenjing", Role.GUIDE)
    chen = create_lecturer("陈静", hall, [booked_session.course], staff_user=guide)
    scheduling.change_session(db.session, booked_session, lecturer=chen,
                              room=booked_session.slot.room, capacity=50, user=None, now=NOW)
    db.session.commit()
    slot = booked_session.slot
    assert (slot.lecturer_name, slot.guide_user_id) == ("陈静", guide.id)
    assert db.session.scalar(select(AuditEntry).filter_by(action="session.update")) is not None


def test_changing_the_lecturer_bumps_the_bookings_calendar_sequence(hall, booked_session,
                                                                    create_lecturer):
    booking = db.session.scalar(select(Booking).filter_by(slot_id=booked_session.slot_id))
    sequence = booking.sequence
    scheduling.change_session(db.session, booked_session, lecturer=None,
                              room=booked_session.slot.room, capacity=60, user=None, now=NOW)
    db.session.commit()
    db.session.refresh(booking)
    assert booking.sequence == sequence  # capacity alone: the booking's event is unchanged
    chen = create_lecturer("陈静", hall, [booked_session.course])
    scheduling.change_session(db.session, booked_session, lecturer=chen,
                              room=booked_session.slot.room, capacity=60, user=None, now=NOW)
    db.session.commit()
    db.session.refresh(booking)
    assert booking.sequence == sequence + 1


def test_changing_to_a_busy_lecturer_is_refused(hall, booked_session, create_room,
                                                create_lecturer):
    chen = create_lecturer("陈静", hall, [])
    scheduling.schedule_single(db.session, booked_session.course, date(2027, 10, 12),
                               time(10), lecturer=chen, room=create_room(hall, "教室", 60),
                               capacity=None, user=None, now=NOW)
    db.session.commit()
    error = refused(scheduling.change_session, db.session, booked_session, lecturer=chen,
                    room=booked_session.slot.room, capacity=50, user=None, now=NOW)
    assert error.code == "lecturer_clash" and "10:00" in str(error)


def test_moving_to_a_held_room_is_refused_and_to_a_free_one_works(hall, booked_session,
                                                                  create_room, create_course):
    plaza = create_room(hall, "誓词广场", 200)
    classroom = create_room(hall, "研学教室", 60)
    other = create_course(hall, code="party-day", title="红色主题党日")
    scheduling.schedule_single(db.session, other, date(2027, 10, 12), time(10), lecturer=None,
                               room=plaza, capacity=None, user=None, now=NOW)
    db.session.commit()
    error = refused(scheduling.change_session, db.session, booked_session, lecturer=None,
                    room=plaza, capacity=50, user=None, now=NOW)
    assert error.code == "room_clash" and "誓词广场" in str(error) and "红色主题党日" in str(error)
    scheduling.change_session(db.session, booked_session, lecturer=None, room=classroom,
                              capacity=50, user=None, now=NOW)
    db.session.commit()
    assert booked_session.slot.room == classroom


def test_moving_to_a_smaller_room_needs_a_capacity_that_fits(hall, booked_session, create_room):
    small = create_room(hall, "微展厅", 40)
    error = refused(scheduling.change_session, db.session, booked_session, lecturer=None,
                    room=small, capacity=50, user=None, now=NOW)
    assert error.code == "slot_capacity"
    scheduling.change_session(db.session, booked_session, lecturer=None, room=small,
                              capacity=40, user=None, now=NOW)
    db.session.commit()
    assert (booked_session.slot.room, booked_session.slot.capacity) == (small, 40)


# --- absences and the catalogue --------------------------------------------------------------

def test_an_absence_on_a_day_with_sessions_is_refused_naming_them(hall, course, create_lecturer):
    chen = create_lecturer("陈静", hall, [course])
    scheduling.schedule_single(db.session, course, date(2027, 10, 12), time(14), lecturer=chen,
                               room=None, capacity=None, user=None, now=NOW)
    db.session.commit()
    error = refused(lecturers.add_absence, db.session, chen, date(2027, 10, 12), "病假", None,
                    now=NOW)
    assert error.code == "absence_has_sessions"
    assert "14:00《学习百年党史 感悟刘帅精神》" in str(error)
    assert chen.absences == []


def test_only_a_guide_account_can_be_linked_to_a_lecturer(hall, create_user, create_lecturer):
    clerk = create_user("desk", Role.STAFF)
    error = refused(lecturers.create_lecturer, db.session,
                    lecturers.LecturerData("陈静", "宣讲员", hall, staff_user=clerk), None)
    assert error.code == "staff_user_role" and error.field == "staff_user"
    guide = create_user("chenjing", Role.GUIDE)
    create_lecturer("李明", hall, [], staff_user=guide)
    error = refused(lecturers.create_lecturer, db.session,
                    lecturers.LecturerData("陈静", "宣讲员", hall, staff_user=guide), None)
    assert error.code == "staff_user_taken" and "李明" in str(error)


def test_renaming_a_lecturer_renames_their_future_sessions(hall, course, create_lecturer):
    chen = create_lecturer("陈静", hall, [course])
    past = scheduling.schedule_session(db.session, course, at(date(2027, 8, 3), "09:00", hall),
                                       lecturer=chen)
    future = scheduling.schedule_session(db.session, course,
                                         at(date(2027, 10, 12), "09:00", hall), lecturer=chen)
    db.session.commit()
    lecturers.update_lecturer(db.session, chen,
                              lecturers.LecturerData("陈静雯", "宣讲员", hall, courses=[course]),
                              None, now=NOW)
    db.session.commit()
    assert (past.slot.lecturer_name, future.slot.lecturer_name) == ("陈静", "陈静雯")


def test_a_lecturer_with_future_sessions_cannot_be_retired(hall, course, create_lecturer):
    chen = create_lecturer("陈静", hall, [course])
    scheduling.schedule_session(db.session, course, at(date(2027, 10, 12), "09:00", hall),
                                lecturer=chen)
    db.session.commit()
    error = refused(lecturers.update_lecturer, db.session, chen,
                    lecturers.LecturerData("陈静", "宣讲员", hall, courses=[course],
                                           active=False), None, now=NOW)
    assert error.code == "lecturer_has_sessions" and "2027-10-12 09:00" in str(error)


def module_specs():
    return [catalogue.ModuleSpec("参观展厅", 40), catalogue.ModuleSpec("专题党课", 50),
            catalogue.ModuleSpec("重温入党誓词", 20)]


def course_data(course, **changes) -> catalogue.CourseData:
    values = dict(venue=course.venue, kind=course.kind, code=course.code, title=course.title,
                  modules=module_specs(), training_hours=Decimal("2"), group_min=course.group_min,
                  group_max=course.group_max, default_room=course.default_room)
    values.update(changes)
    return catalogue.CourseData(**values)


def test_editing_a_course_updates_future_sessions_only(course):
    past = scheduling.schedule_session(db.session, course, at(date(2027, 8, 3), "09:00",
                                                              course.venue))
    future = scheduling.schedule_session(db.session, course, at(date(2027, 10, 12), "09:00",
                                                                course.venue))
    db.session.commit()
    refreshed = catalogue.update_course(
        db.session, course, course_data(course, title="新标题", group_min=5, group_max=30,
                                        requires_approval=True, max_days_ahead=60,
                                        equipment="党旗\n扩音设备\n党旗"), None, now=NOW)
    db.session.commit()
    assert refreshed == 1
    assert (future.slot.title, future.slot.party_size_min, future.slot.party_size_max) == \
        ("新标题", 5, 30)
    assert future.slot.requires_approval and future.slot.max_days_ahead == 60
    assert future.slot.equipment == "党旗\n扩音设备"
    assert future.slot.modules_text.splitlines()[0] == "参观展厅 40分钟"
    assert (past.slot.title, past.slot.party_size_min) == ("学习百年党史 感悟刘帅精神", 10)
    assert course.duration_minutes == 110
    assert [m.title for m in course.modules] == ["参观展厅", "专题党课", "重温入党誓词"]


def test_a_course_code_is_locked_once_it_has_sessions(course):
    scheduling.schedule_session(db.session, course, at(date(2027, 10, 12), "09:00", course.venue))
    db.session.commit()
    error = refused(catalogue.update_course, db.session, course,
                    course_data(course, code="renamed"), None, now=NOW)
    assert error.code == "course_code_locked" and error.field == "code"


@pytest.mark.parametrize("text, line", [("参观 | 30\n讲课", 2), ("参观 | abc", 1),
                                        ("参观 | 0", 1), ("", None)])
def test_module_lines_are_parsed_or_refused_naming_the_line(text, line):
    with pytest.raises(BookingError) as caught:
        catalogue.parse_modules(text)
    if line is not None:
        assert f"第 {line} 行" in str(caught.value)


def test_module_lines_accept_english_titles_and_full_width_bars():
    assert catalogue.parse_modules("参观 | Visit | 30\n讲课｜45分钟") == [
        catalogue.ModuleSpec("参观", 30, "Visit"), catalogue.ModuleSpec("讲课", 45)]

