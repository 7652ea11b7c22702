"""The demo's whole past year, shaped like the seed article's figures.

The article reports a year: the themed course served 25 party organisations and 4,500 party
members; the party days 150 organisations and 8,000 people; the museum 100-odd groups and
10,000-odd visitors. This loads last year so that the annual report reproduces exactly those
figures from records -- a mix of online bookings played through the real rules (booked,
approved, checked in, completed; a couple of no-shows; certificates for the themed course) and
offline records, the museum's visits that were never booked online.

Idempotent: a year that already has its demo offline batch is left alone. Deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import at_local, local_today
from booking.errors import BookingError
from booking.models import Booking, OfflineVisit, OrganisationKind, Slot
from booking.rules.approval import approve_booking
from booking.rules.checkin import check_in_group, complete_session, mark_no_show, set_attendance
from booking.rules.party_makeup import fewest_adults
from booking.rules.workflow import BookingRequest, OrganisationDetails, create_booking
from courses.models import Course, CourseSession, Lecturer
from courses.rules.issuing import issue_certificates
from courses.rules.scheduling import plan_days, schedule_session

TOWNS = ["汉丰", "文峰", "云枫", "镇东", "丰乐", "白鹤", "赵家", "大德", "镇安", "厚坝", "金峰",
         "白桥", "温泉", "和谦", "河堰", "大进", "谭家", "敦好", "高桥", "郭家", "中和", "竹溪",
         "临江", "义和", "渠口", "铁桥", "南雅", "岳溪", "长沙", "南门"]
PARTY = OrganisationKind.PARTY_ORGANISATION
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"]


@dataclass(frozen=True)
class Plan:
    """One programme's year: who came, how often, how many each time, how many online."""

    course: str
    start: time
    lecturer: str
    organisations: list[tuple[str, OrganisationKind]]
    visits: int
    people: int          # per visit booked online
    online: int          # visits booked online (every other visit); the rest are offline
    offline_people: int = 0   # per offline visit (default: as online)
    certificates: bool = False

    def is_online(self, index: int) -> bool:
        return index % 2 == 0 and index // 2 < self.online

    def people_of(self, index: int) -> int:
        return self.people if self.is_online(index) else (self.offline_people or self.people)


def _museum_organisations() -> list[tuple[str, OrganisationKind]]:
    schools = [(f"开州区{town}中学", OrganisationKind.SCHOOL) for town in TOWNS]
    primary = [(f"开州区{town}小学", OrganisationKind.SCHOOL) for town in TOWNS]
    clinics = [(f"开州区{town}卫生院", OrganisationKind.INSTITUTION) for town in TOWNS[:22]]
    firms = [(f"重庆开州{town}实业有限公司", OrganisationKind.ENTERPRISE) for town in TOWNS[:22]]
    return schools + primary + clinics + firms  # 104


def plans() -> list[Plan]:
    """The seed's figures: 25 organisations and 4,500 people; 150 and 8,000; 104 groups and
    10,400 people (online groups of 50, offline ones -- whole schools -- of 150)."""
    units = ["机关", "社区", "村", "中心校", "卫生院"]
    return [
        Plan("liushuai-spirit", time(9), "陈静", [(f"中共开州区{t}街镇委员会", PARTY)
                                                for t in TOWNS[:25]], 100, 45, 40,
             certificates=True),
        Plan("party-day", time(10, 30), "李明",
             [(f"开州区{t}{u}党支部", PARTY) for u in units for t in TOWNS], 160, 50, 60),
        Plan("red-kaizhou", time(9), "刘芳", _museum_organisations()[:52], 52, 50, 26, 150),
        Plan("fenglei", time(10, 30), "周强", _museum_organisations()[52:80], 28, 50, 14, 150),
        Plan("micro-exhibition", time(14), "周强", _museum_organisations()[80:], 24, 50, 12, 150),
    ]


def demo_year() -> int:
    return local_today().year - 1


def _batch(year: int) -> str:
    return f"demo-{year}"


def load_demo_year(session: Session, year: int | None = None) -> int:
    """Load the past year's records once. Returns the number of visits recorded."""
    year = year or demo_year()
    if session.scalar(select(OfflineVisit.id).where(OfflineVisit.import_batch == _batch(year))
                      .limit(1)) is not None:
        return 0
    courses = {c.code: c for c in session.scalars(select(Course))}
    lecturers = {lec.name: lec for lec in session.scalars(select(Lecturer))}
    total = 0
    for plan in plans():
        total += _play(session, plan, courses[plan.course], lecturers.get(plan.lecturer), year)
    # Two groups that booked a party day and never came: counted as no-shows, nothing else.
    for index in range(2):
        course = courses["party-day"]
        day = _days(session, course, year, 2, offset=3)[index]
        booking = _book(session, course, lecturers.get("李明"), day, time(15, 30),
                        (f"开州区{TOWNS[index]}机关党支部", PARTY), 20, came=False)
        if booking is not None:
            mark_no_show(session, booking, None,
                         now=booking.slot.ends_at + timedelta(minutes=30))
    session.flush()
    return total


def _days(session: Session, course: Course, year: int, count: int, offset: int = 0
          ) -> list[date]:
    """``count`` open days spread evenly over the year (the venue's closed days skipped)."""
    last = min(date(year, 12, 31), local_today() - timedelta(days=35))
    open_days, _ = plan_days(session, course.venue, date(year, 1, 1), last, {1, 2, 3, 4, 5, 6})
    step = len(open_days) / max(1, count)
    return [open_days[min(len(open_days) - 1, int(i * step) + offset)] for i in range(count)]


def _play(session: Session, plan: Plan, course: Course, lecturer: Lecturer | None,
          year: int) -> int:
    days = _days(session, course, year, plan.visits)
    for index, day in enumerate(days):
        organisation = plan.organisations[index % len(plan.organisations)]
        booking = None
        if plan.is_online(index):
            booking = _book(session, course, lecturer, day, plan.start, organisation,
                            plan.people, certificates=plan.certificates)
        if booking is None:  # offline, or a booking the rules refused: record it offline
            session.add(OfflineVisit(
                venue_id=course.venue_id, day=day, organisation_name=organisation[0],
                organisation_kind=organisation[1], programme=course.code, title=course.title,
                title_en=course.title_en, kind=course.kind.value, people=plan.people_of(index),
                training_hours=course.training_hours, lecturer_name=lecturer.name if lecturer
                else "", note="电话预约", import_batch=_batch(year)))
    return len(days)


def _book(session: Session, course: Course, lecturer: Lecturer | None, day: date, start: time,
          organisation: tuple[str, OrganisationKind], people: int, *,
          certificates: bool = False, came: bool = True) -> Booking | None:
    """Schedule a session, book it ten days ahead and (when the group ``came``) play out the
    day: check-in, completion, certificates. None if the rules refused."""
    starts_at = at_local(day, start, course.venue.tz)
    if session.scalar(select(Slot.id).where(Slot.programme == course.code,
                                            Slot.starts_at == starts_at)) is not None:
        return None
    try:
        with session.begin_nested():
            slot = schedule_session(session, course, starts_at, lecturer=lecturer,
                                    capacity=max(people, course.group_max)).slot
            booked_at = starts_at - timedelta(days=10)
            names = [SURNAMES[(i * 7 + day.day) % len(SURNAMES)] + GIVEN[i % len(GIVEN)]
                     for i in range(people)] if certificates else []
            booking, _ = create_booking(session, BookingRequest(
                slot_id=slot.id, organisation=OrganisationDetails(*organisation),
                contact_name="王建国", contact_phone="13900001234", party_size=people,
                attendee_names=names, **fewest_adults(slot, people)), now=booked_at)
    except BookingError:
        return None
    if booking.is_pending:
        approve_booking(session, booking, None, now=booked_at + timedelta(hours=3))
    if not came:
        return booking
    check_in_group(session, booking, people, None, now=slot.starts_at - timedelta(minutes=10))
    if certificates:
        set_attendance(session, booking, {a.id for a in booking.attendees}, None,
                       now=slot.starts_at)
    complete_session(session, slot, None, now=slot.ends_at + timedelta(hours=1))
    if certificates:
        course_session = session.scalar(select(CourseSession).where(
            CourseSession.slot_id == slot.id))
        issue_certificates(session, course_session, None, now=slot.ends_at + timedelta(hours=2))
    return booking
