"""The demo world: the seed article's venues, programmes and figures.

Loading is idempotent: venues, rooms, courses and lecturers are matched by their codes and
names, and sessions are generated only for days that have none yet, so running it again
(even weeks later) tops the calendar up to eight weeks ahead.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.clock import at_local, local_today
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
from courses.demo_year import load_demo_year
from courses.models import Course, CourseKind, CourseModule, Lecturer
from courses.rules.scheduling import generate_sessions

DEMO_PASSWORD = "kaizhou-demo"
DEMO_WEEKS = 8
GROUP_TIMES = (time(9, 0), time(10, 30), time(14, 0), time(15, 30))
TUESDAY_TO_SUNDAY = {1, 2, 3, 4, 5, 6}

VENUES = [
    dict(code="LBC", name="刘伯承同志纪念馆", name_en="Liu Bocheng Memorial Hall",
         address="重庆市开州区", address_en="Kaizhou District, Chongqing",
         description="刘伯承元帅的故乡开州，以纪念馆为载体开展党史学习教育。精品课程《学习百年党史 感悟刘帅精神》"
                     "已服务25个党组织、4500余名党员干部；“学党史、悟思想、办实事、开新局”红色主题党日已服务150余个"
                     "党组织、8000余名党员干部。",
         description_en="The memorial hall in Marshal Liu Bocheng's home town of Kaizhou, a base for "
                        "party-history education: themed courses, red themed party days and youth "
                        "study tours.",
         opens_at=time(9), closes_at=time(17), last_entry_at=time(16, 30),
         weekly_closed_day=0, open_on_holiday_closed_day=True, daily_cap=500,
         issuing_unit="刘伯承同志纪念馆", position=0),
    dict(code="KZM", name="开州博物馆", name_en="Kaizhou Museum",
         address="重庆市开州区", address_en="Kaizhou District, Chongqing",
         description="开州博物馆策划《红色开州 百年锦绣》特展、与陈独秀旧居陈列馆联合举办《风雷——纪念五四运动专题展览》"
                     "及《不忘初心牢记使命——弘扬革命文化 传承红色基因》专题微展，已接待企事业单位及学校团体百余个、"
                     "参观人数1万余人。",
         description_en="The district museum of Kaizhou, with exhibitions on the party's centenary, "
                        "the May Fourth Movement and the revolutionary tradition.",
         opens_at=time(9), closes_at=time(17), last_entry_at=time(16),
         weekly_closed_day=0, open_on_holiday_closed_day=False, daily_cap=500,
         issuing_unit="开州博物馆", position=1),
]

ROOMS = {
    "LBC": [("报告厅", "Lecture hall", 120), ("誓词广场", "Oath plaza", 200),
            ("研学教室", "Study classroom", 60), ("生平陈列厅", "Exhibition hall", 150)],
    "KZM": [("一号展厅", "Gallery 1", 80), ("二号展厅", "Gallery 2", 60),
            ("微展厅", "Micro-exhibition room", 40), ("学术报告厅", "Lecture room", 100)],
}


@dataclass
class DemoCourse:
    code: str
    venue: str
    kind: CourseKind
    title: str
    title_en: str
    summary: str
    audience: str
    modules: list[tuple[str, str, int]]
    hours: str
    room: str
    approval: bool
    equipment: str = ""
    description: str = ""
    letter: bool = False  # party programmes ask for the unit's introduction letter (介绍信)


COURSES = [
    DemoCourse("liushuai-spirit", "LBC", CourseKind.THEMED_COURSE, "学习百年党史 感悟刘帅精神",
               "Learning the Party's Century of History, Feeling Marshal Liu's Spirit",
               "把学习百年党史与感悟刘帅精神贯通起来的精品专题党课。", "党员干部、入党积极分子",
               [("参观刘伯承生平事迹陈列", "Exhibition visit", 30), ("专题党课", "Lecture", 45),
                ("重温入党誓词", "Oath renewal", 15)], "1.5", "报告厅", True, "投影仪\n扩音设备\n党旗",
               "由纪念馆宣讲员主讲，结合刘伯承元帅的革命生涯讲述百年党史，课程结束后在党旗下重温入党誓词。",
               letter=True),
    DemoCourse("party-day", "LBC", CourseKind.PARTY_DAY, "学党史、悟思想、办实事、开新局 红色主题党日",
               "Red Themed Party Day: Study History, Understand Thought, Do Practical Work, Open New Prospects",
               "党组织在纪念馆开展主题党日：瞻仰、参观、宣誓、研讨。", "基层党组织",
               [("瞻仰刘伯承元帅铜像", "Tribute at the statue", 15), ("讲解参观", "Guided visit", 40),
                ("重温入党誓词", "Oath renewal", 15), ("交流研讨", "Discussion", 20)], "1.5",
               "誓词广场", False, "党旗\n入党誓词背景板\n扩音设备", letter=True),
    DemoCourse("youth-study-tour", "LBC", CourseKind.STUDY_TOUR, "传承红色基因 接续百年奋斗 青少年研学",
               "Youth Study Tour: Inherit the Red Gene, Continue the Century of Struggle",
               "面向中小学生的研学活动，每10名学生须有1名带队老师。", "中小学生（每10名学生配1名带队老师）",
               [("红色故事课堂", "Red story class", 30), ("展厅寻访任务", "Gallery quest", 40),
                ("研学分享", "Sharing", 20)], "1.5", "研学教室", True, "研学手册\n扩音设备"),
    DemoCourse("red-kaizhou", "KZM", CourseKind.EXHIBITION, "《红色开州 百年锦绣》——中国共产党成立百周年特展",
               "Red Kaizhou, a Century of Splendour: Centenary Exhibition",
               "中国共产党成立百周年特展，讲解员带领参观。", "企事业单位、学校团体",
               [("讲解参观", "Guided visit", 60)], "1.0", "一号展厅", False),
    DemoCourse("fenglei", "KZM", CourseKind.EXHIBITION, "《风雷——纪念五四运动专题展览》",
               "Wind and Thunder: The May Fourth Movement",
               "与陈独秀旧居陈列馆联合举办的专题展览。", "青年学生、团员青年",
               [("讲解参观", "Guided visit", 50)], "1.0", "二号展厅", False),
    DemoCourse("micro-exhibition", "KZM", CourseKind.EXHIBITION,
               "《不忘初心牢记使命——弘扬革命文化 传承红色基因》专题微展",
               "Stay True to the Original Aspiration: Micro-exhibition",
               "弘扬革命文化、传承红色基因的专题微展。", "各类团体",
               [("讲解参观", "Guided visit", 40)], "0.5", "微展厅", False),
]

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
                equipment=spec.equipment, position=position,
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
DEMO_ORGANISATIONS = [
    ("中共开州区委组织部机关党支部", OrganisationKind.PARTY_ORGANISATION),
    ("开州区汉丰街道党工委", OrganisationKind.PARTY_ORGANISATION),
    ("国网重庆开州供电公司党委", OrganisationKind.ENTERPRISE),
    ("重庆市开州中学", OrganisationKind.SCHOOL),
    ("开州区实验小学", OrganisationKind.SCHOOL),
    ("开州区人民医院党总支", OrganisationKind.INSTITUTION),
    ("开州区税务局机关党委", OrganisationKind.GOVERNMENT),
    ("开州区文峰街道南山社区", OrganisationKind.COMMUNITY),
    ("重庆开州农商银行党支部", OrganisationKind.ENTERPRISE),
    ("开州区教师进修学校", OrganisationKind.SCHOOL),
    ("开州区退役军人事务局", OrganisationKind.GOVERNMENT),
    ("开州区镇安镇党委", OrganisationKind.PARTY_ORGANISATION),
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN_NAMES = ["伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
               "明", "超", "秀英", "霞", "平", "刚", "华", "建国", "建华", "文", "红", "玉兰",
               "志强", "海燕", "丹", "鹏", "辉", "玲", "晨", "琳", "宇", "浩", "欣", "思远"]


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


def _book_upcoming_session(session: Session, slot: Slot, rng: random.Random) -> None:
    """Groups that booked ten days ago (through the real rules); some still await approval."""
    booked_at = slot.starts_at - timedelta(days=10)
    for name, kind in rng.sample(DEMO_ORGANISATIONS, k=rng.choice([0, 1, 1, 2, 2, 3])):
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
    organisations = rng.sample(DEMO_ORGANISATIONS, k=rng.choice([0, 1, 1, 2]))
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
