"""The demo world: the seed article's venues, programmes and figures.

Loading is idempotent: venues, rooms, courses and lecturers are matched by their codes and
names, and sessions are generated only for days that have none yet, so running it again
(even weeks later) tops the calendar up to eight weeks ahead.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.clock import at_local, local_today, utcnow
from booking.errors import BookingError
from booking.models import (
    Booking,
    BookingState,
    OrganisationKind,
    Role,
    Room,
    Slot,
    StaffUser,
    Venue,
)
from booking.models.db import db
from booking.rules.approval import approve_booking
from booking.rules.checkin import check_in_group, complete_session, mark_no_show, set_attendance
from booking.rules.party_makeup import fewest_adults
from booking.rules.workflow import (
    BookingRequest,
    OrganisationDetails,
    cancel_booking,
    create_booking,
)
from booking.usecases.transaction import unit_of_work
from courses.demo_data import (
    COURSES,
    DEMO_ORGANISATIONS,
    GIVEN_NAMES,
    ROOMS,
    SURNAMES,
    VENUES,
)
from courses.demo_year import load_demo_year
from courses.models import Course, CourseModule, Lecturer
from courses.rules.scheduling import generate_sessions

DEMO_PASSWORD = "kaizhou-demo"
DEMO_WEEKS = 8
GROUP_TIMES = (time(9, 0), time(10, 30), time(14, 0), time(15, 30))
TUESDAY_TO_SUNDAY = {1, 2, 3, 4, 5, 6}

LECTURERS = [("陈静", "宣讲员", "LBC", ["liushuai-spirit", "party-day"]),
             ("李明", "讲解员", "LBC", ["party-day", "youth-study-tour"]),
             ("张华", "讲解员", "LBC", ["youth-study-tour", "liushuai-spirit"]),
             ("刘芳", "讲解员", "KZM", ["red-kaizhou", "micro-exhibition"]),
             ("周强", "讲解员", "KZM", ["fenglei", "micro-exhibition", "red-kaizhou"])]

# (course, time, lecturer): the weekly demo pattern, Tuesday to Sunday.
PATTERN = [("liushuai-spirit", GROUP_TIMES[0], "陈静"), ("party-day", GROUP_TIMES[1], "李明"),
           ("liushuai-spirit", GROUP_TIMES[2], "陈静"), ("youth-study-tour", GROUP_TIMES[3], "张华"),
           ("red-kaizhou", GROUP_TIMES[0], "刘芳"), ("fenglei", GROUP_TIMES[1], "周强"),
           ("micro-exhibition", GROUP_TIMES[2], "周强"), ("red-kaizhou", GROUP_TIMES[3], "刘芳")]

STAFF = [("admin", "系统管理员", Role.ADMIN), ("staff", "前台接待", Role.STAFF),
         ("guide", "陈静", Role.GUIDE)]


def _upsert_world(session: Session) -> dict[str, Course]:
    venues = {}
    for data in VENUES:
        venue = session.scalar(select(Venue).filter_by(code=data["code"]))
        if venue is None:
            venue = Venue(**data)
            session.add(venue)
        venues[data["code"]] = venue
    session.flush()
    rooms = {}
    for code, specs in ROOMS.items():
        for position, (name, name_en, seats) in enumerate(specs):
            room = session.scalar(select(Room).filter_by(venue_id=venues[code].id, name=name))
            if room is None:
                room = Room(venue=venues[code], name=name, name_en=name_en, capacity=seats,
                            position=position)
                session.add(room)
            rooms[(code, name)] = room
    courses = {}
    for position, spec in enumerate(COURSES):
        course = session.scalar(select(Course).filter_by(code=spec.code))
        if course is None:
            course = Course(
                code=spec.code, venue=venues[spec.venue], kind=spec.kind, title=spec.title,
                title_en=spec.title_en, summary=spec.summary, description=spec.description,
                audience=spec.audience, duration_minutes=sum(m[2] for m in spec.modules),
                training_hours=Decimal(spec.hours), group_min=10, group_max=50,
                requires_approval=spec.approval, requires_letter=spec.letter,
                default_room=rooms[(spec.venue, spec.room)],
                equipment=spec.equipment, position=position, **(spec.english or {}),
                modules=[CourseModule(title=t, title_en=e, minutes=m, position=i)
                         for i, (t, e, m) in enumerate(spec.modules)])
            session.add(course)
        courses[spec.code] = course
    session.flush()
    for name, title, venue_code, course_codes in LECTURERS:
        lecturer = session.scalar(select(Lecturer).filter_by(name=name))
        if lecturer is None:
            lecturer = Lecturer(name=name, title=title, venue=venues[venue_code],
                                courses=[courses[c] for c in course_codes])
            session.add(lecturer)
    for username, display_name, role in STAFF:
        if session.scalar(select(StaffUser).filter_by(username=username)) is None:
            user = StaffUser(username=username, display_name=display_name, role=role)
            user.set_password(DEMO_PASSWORD)
            session.add(user)
            if role is Role.GUIDE:
                session.scalar(select(Lecturer).filter_by(name=display_name)).staff_user = user
    session.flush()
    return courses


def load_demo(session: Session) -> int:
    """Load the demo world and top its calendar up to eight weeks ahead. Returns new sessions."""
    courses = _upsert_world(session)
    lecturers = {lec.name: lec for lec in session.scalars(select(Lecturer))}
    today = local_today()
    last_day = today + timedelta(weeks=DEMO_WEEKS)
    created = 0
    for code, start, lecturer_name in PATTERN:
        course = courses[code]
        for offset in range((last_day - today).days + 1):
            day = today + timedelta(days=offset)
            if _has_slot_at(session, course, day, start):
                continue
            result = generate_sessions(session, course, first_day=day, last_day=day,
                                       weekdays=TUESDAY_TO_SUNDAY, times=[start],
                                       lecturer=lecturers[lecturer_name])
            if day <= today + timedelta(days=UPCOMING_BOOKED_DAYS):
                for course_session in result.created:
                    rng = random.Random(f"{HISTORY_SEED}/{code}/{day.isoformat()}/{start}")
                    _book_upcoming_session(session, course_session.slot, rng)
            created += len(result.created)
    created += load_demo_history(session)
    load_demo_year(session)
    session.flush()
    return created


def _has_slot_at(session: Session, course: Course, day, start: time) -> bool:
    return session.scalar(select(Slot.id).where(
        Slot.programme == course.code, Slot.starts_at == at_local(day, start, course.venue.tz))
    ) is not None


def ensure_demo_database() -> None:
    """First start of `python run.py`: create the schema and demo data when the database is empty."""
    from booking.models.migrate import database_is_empty, upgrade_database
    empty = database_is_empty()
    upgrade_database()
    if empty:
        with unit_of_work():
            load_demo(db.session)


# --- history: the last four weeks, checked in, so statistics and certificates have data ----

HISTORY_WEEKS = 4
HISTORY_SEED = "kaizhou-demo-history"
HISTORY_NO_SHOWS = 2  # "a couple": below the no-show limit that would suspend anyone



def load_demo_history(session: Session) -> int:
    """Past sessions of the last four weeks with the groups that came: checked in with a
    headcount and attendance ticks (completed when older than two days), plus a few
    cancellations and a couple of no-shows.

    Goes through the real rules (scheduling, booking at a time before the session, approval,
    check-in), so counters stay exact. Idempotent: only days without a session get one, and
    only new sessions get groups. Deterministic: each session draws from its own seeded
    random stream. Returns the number of new sessions.
    """
    courses = {course.code: course for course in session.scalars(select(Course))}
    lecturers = {lec.name: lec for lec in session.scalars(select(Lecturer))}
    today = local_today()
    first_day = today - timedelta(weeks=HISTORY_WEEKS)
    no_shows_left = HISTORY_NO_SHOWS - (session.scalar(select(func.count(Booking.id)).where(
        Booking.state == BookingState.NO_SHOW)) or 0)
    created = 0
    for code, start, lecturer_name in PATTERN:
        course = courses[code]
        for offset in range((today - first_day).days):
            day = first_day + timedelta(days=offset)
            if _has_slot_at(session, course, day, start):
                continue
            result = generate_sessions(session, course, first_day=day, last_day=day,
                                       weekdays=TUESDAY_TO_SUNDAY, times=[start],
                                       lecturer=lecturers[lecturer_name])
            for course_session in result.created:
                rng = random.Random(f"{HISTORY_SEED}/{code}/{day.isoformat()}/{start}")
                no_shows_left -= _visit_past_session(session, course_session.slot, rng, today,
                                                     may_no_show=no_shows_left > 0)
            created += len(result.created)
    return created


UPCOMING_BOOKED_DAYS = 14  # today's roster and the next two weeks have groups booked


#: Which organisations book which kind of programme: pupils come on study tours (so their
#: certificates say 同学), party organisations, offices, institutions and companies' party
#: committees take the party courses and days; anyone visits an exhibition.
SCHOOLS = (OrganisationKind.SCHOOL,)
GROUP_KINDS = {"study_tour": SCHOOLS,
               "themed_course": tuple(kind for kind in OrganisationKind if kind not in SCHOOLS),
               "party_day": tuple(kind for kind in OrganisationKind if kind not in SCHOOLS)}
#: Share of the demo's upcoming groups that booked in English (so English mails, .ics files
#: and pages have something to show).
ENGLISH_SHARE = 0.25


def fitting_organisations(slot: Slot) -> list[tuple[str, OrganisationKind]]:
    """The demo organisations whose kind fits the slot's programme."""
    kinds = GROUP_KINDS.get(slot.kind or "")
    return [org for org in DEMO_ORGANISATIONS if kinds is None or org[1] in kinds]


def _booked_at(slot: Slot, rng: random.Random) -> datetime:
    """When a demo group booked: ten days before its session, but never after now (a booking
    "submitted" in the future would make no sense), at least half a day before now."""
    return min(slot.starts_at - timedelta(days=10),
               utcnow() - timedelta(hours=rng.randint(12, 72)))


def _book_upcoming_session(session: Session, slot: Slot, rng: random.Random) -> None:
    """Groups that booked up to ten days ago (through the real rules); some still await
    approval, some booked in English."""
    booked_at = _booked_at(slot, rng)
    organisations = fitting_organisations(slot)
    for name, kind in rng.sample(organisations, k=min(len(organisations),
                                                      rng.choice([0, 1, 1, 2, 2, 3]))):
        party_size = rng.randint(slot.party_size_min, min(40, slot.party_size_max))
        if party_size > slot.seats_left:
            break
        try:
            with session.begin_nested():
                booking, _ = create_booking(session, BookingRequest(
                    slot_id=slot.id, organisation=OrganisationDetails(name=name, kind=kind),
                    contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                    contact_phone=f"139{rng.randint(0, 99999999):08d}", party_size=party_size,
                    attendee_names=[rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
                                    for _ in range(party_size)],
                    language="en" if rng.random() < ENGLISH_SHARE else "zh",
                    **fewest_adults(slot, party_size)), now=booked_at)
        except BookingError:  # e.g. a holiday narrowed the booking window: skip the group
            continue
        if booking.is_pending and rng.random() < 0.5:
            approve_booking(session, booking, None, now=booked_at + timedelta(hours=3))


def _visit_past_session(session: Session, slot: Slot, rng: random.Random, today, *,
                        may_no_show: bool) -> int:
    """Book groups into a past session and play out its day. Returns the no-shows made."""
    no_shows = 0
    booked_at = slot.starts_at - timedelta(days=10)
    fitting = fitting_organisations(slot)
    organisations = rng.sample(fitting, k=min(len(fitting), rng.choice([0, 1, 1, 2])))
    for name, kind in organisations:
        party_size = rng.randint(slot.party_size_min, min(40, slot.party_size_max))
        if party_size > slot.seats_left:
            break
        names = [rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES) for _ in range(party_size)]
        try:
            with session.begin_nested():
                booking, _ = create_booking(session, BookingRequest(
                    slot_id=slot.id, organisation=OrganisationDetails(name=name, kind=kind),
                    contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                    contact_phone=f"139{rng.randint(0, 99999999):08d}",
                    party_size=party_size, attendee_names=names,
                    language="en" if rng.random() < ENGLISH_SHARE else "zh",
                    **fewest_adults(slot, party_size)), now=booked_at)
        except BookingError:  # e.g. a holiday week narrowed the booking window: skip the group
            continue
        if booking.is_pending:
            approve_booking(session, booking, None, now=booked_at + timedelta(hours=3))
        outcome = rng.random()
        if outcome < 0.1:
            cancel_booking(session, booking, now=booked_at + timedelta(days=2),
                           reason="单位工作安排调整")
        elif outcome < 0.2 and may_no_show and not no_shows:
            mark_no_show(session, booking, None, now=slot.ends_at + timedelta(minutes=30))
            no_shows += 1
        else:
            headcount = max(1, party_size - rng.randint(0, 3))
            check_in_group(session, booking, headcount, None,
                           now=slot.starts_at - timedelta(minutes=10))
            present = {a.id for a in booking.attendees[:headcount]}
            set_attendance(session, booking, present, None, now=slot.starts_at)
    if slot.day < today - timedelta(days=2):
        complete_session(session, slot, None, now=slot.ends_at + timedelta(hours=1))
    return no_shows
