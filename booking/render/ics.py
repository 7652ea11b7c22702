"""Render one booking as an iCalendar (.ics) file the organisation can import.

Pure renderer: plain data in, bytes out. No Flask, no database. The calendar
building blocks (time zone, calendar header) live here too because `courses`
builds its feeds on them and `booking` must not import `courses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Literal

from icalendar import Alarm, Calendar, Event, Timezone

from booking.clock import MUSEUM_TZ

PRODID = "-//Kaizhou Red Education Booking//ZH"

# Prefixes make the state visible in clients that ignore STATUS (several show a
# cancelled PUBLISH event exactly like a confirmed one).
STATUS_PREFIX = {"confirmed": "", "tentative": "【待确认】", "cancelled": "【已取消】"}
STATUS_PREFIX_EN = {"confirmed": "", "tentative": "[Awaiting approval] ",
                    "cancelled": "[Cancelled] "}
_STATUS_LABEL = {"zh": {"confirmed": "已确认", "tentative": "待审核", "cancelled": "已取消"},
                 "en": {"confirmed": "Confirmed", "tentative": "Awaiting approval",
                        "cancelled": "Cancelled"}}
#: The words of a booking's calendar entry, in the booking's language.
_LABELS = {
    "zh": {"reference": "预约编号：{}", "status": "状态：{}", "party": "人数：{} 人",
           "programme": "活动安排：", "room": "场地：{}", "lecturer": "主讲/讲解：{}",
           "manage": "查看、修改或取消预约：{}", "notes": "备注：{}",
           "alarm": "明天 {time}：{title}（{venue}）", "place": "{place}，{address}"},
    "en": {"reference": "Booking reference: {}", "status": "Status: {}",
           "party": "Party size: {} visitors", "programme": "Programme:", "room": "Room: {}",
           "lecturer": "Lecturer/guide: {}", "manage": "View, change or cancel the booking: {}",
           "notes": "Notes: {}", "alarm": "Tomorrow at {time}: {title} ({venue})",
           "place": "{place}, {address}"},
}


def status_prefix(status: str, language: str = "zh") -> str:
    """The state shown in front of a title: 【已取消】 / [Cancelled]."""
    return (STATUS_PREFIX_EN if language == "en" else STATUS_PREFIX)[status]


def _words(language: str) -> dict[str, str]:
    return _LABELS["en" if language == "en" else "zh"]

BookingStatus = Literal["confirmed", "tentative", "cancelled"]

_REMINDER = timedelta(days=1)


def check_event_times(starts_at: datetime, ends_at: datetime, updated_at: datetime) -> None:
    """Raise ValueError unless all three are aware and the event has positive length.

    Naive datetimes are refused rather than guessed: a wrong guess silently moves
    a group's visit by eight hours.
    """
    for label, moment in (("starts_at", starts_at), ("ends_at", ends_at), ("updated_at", updated_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{label} must be timezone-aware, got {moment!r}")
    if ends_at <= starts_at:
        raise ValueError(f"ends_at ({ends_at}) must be after starts_at ({starts_at})")


def check_status(status: str) -> None:
    if status not in STATUS_PREFIX:
        raise ValueError(f"status must be one of {sorted(STATUS_PREFIX)}, got {status!r}")


@cache
def museum_vtimezone() -> Timezone:
    """The VTIMEZONE of the museums' zone (Asia/Shanghai), built once per process.

    Deriving it from tzdata costs about 10 ms — more than rendering a hundred
    events — so it must never be rebuilt per calendar, let alone per event.
    The window starts in 2000 so the 1986–1991 daylight-saving rules are not
    shipped with every file. Treat the returned component as read-only: it is
    shared by every calendar this process renders.
    """
    return Timezone.from_tzid(MUSEUM_TZ.key, first_date=date(2000, 1, 1), last_date=date(2100, 1, 1))


def new_calendar() -> Calendar:
    """A VCALENDAR with our header and the museums' VTIMEZONE, ready for VEVENTs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(museum_vtimezone())
    return calendar


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingEvent:
    """What one booking's calendar entry shows.

    `uid` must stay the same for the life of the booking and `sequence` must grow
    with every change the organisation should see (reschedule, cancellation):
    that is how calendar clients know to replace the copy they imported.
    `updated_at` becomes DTSTAMP, so re-rendering an unchanged booking yields
    identical bytes.
    """

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    title: str
    venue: str
    address: str
    room: str | None
    lecturer: str | None
    modules: list[str]
    party_size: int
    reference: str
    manage_url: str | None
    status: BookingStatus
    notes: str | None
    updated_at: datetime
    language: str = "zh"  # the booking's: "zh" or "en"

    def __post_init__(self) -> None:
        check_event_times(self.starts_at, self.ends_at, self.updated_at)
        check_status(self.status)
        if self.sequence < 0:
            raise ValueError(f"sequence must be >= 0, got {self.sequence}")
        if self.party_size < 1:
            raise ValueError(f"party_size must be >= 1, got {self.party_size}")


def render_booking_ics(event: BookingEvent) -> bytes:
    """The booking as a one-event .ics file (METHOD:PUBLISH), UTF-8, CRLF, folded.

    It contains the secret manage link, so serve it only to whoever already
    holds that link or the booking reference.
    """
    calendar = new_calendar()
    calendar.add_component(_booking_vevent(event))
    return calendar.to_ical()


def _booking_vevent(event: BookingEvent) -> Event:
    starts_at = event.starts_at.astimezone(MUSEUM_TZ)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    updated_at = event.updated_at.astimezone(UTC)
    vevent.add("dtstamp", updated_at)
    vevent.add("last-modified", updated_at)
    vevent.add("dtstart", starts_at)
    vevent.add("dtend", event.ends_at.astimezone(MUSEUM_TZ))
    vevent.add("summary", status_prefix(event.status, event.language) + event.title)
    vevent.add("location", _location(event))
    vevent.add("description", _description(event))
    vevent.add("status", event.status.upper())
    if event.manage_url:
        vevent.add("url", event.manage_url)
    if event.status == "cancelled":
        # A cancelled visit should neither block the organiser's diary nor ring.
        vevent.add("transp", "TRANSPARENT")
    else:
        vevent.add_component(_reminder(event, starts_at))
    return vevent


def _location(event: BookingEvent) -> str:
    place = " ".join(part for part in (event.venue, event.room) if part)
    return _words(event.language)["place"].format(place=place, address=event.address) \
        if event.address else place


def _description(event: BookingEvent) -> str:
    words = _words(event.language)
    lines = [
        words["reference"].format(event.reference),
        words["status"].format(_STATUS_LABEL[event.language if event.language == "en" else "zh"]
                               [event.status]),
        words["party"].format(event.party_size),
    ]
    if event.modules:
        lines.append(words["programme"])
        lines.extend(f"{number}. {module}" for number, module in enumerate(event.modules, start=1))
    if event.room:
        lines.append(words["room"].format(event.room))
    if event.lecturer:
        lines.append(words["lecturer"].format(event.lecturer))
    if event.manage_url:
        lines.append(words["manage"].format(event.manage_url))
    if event.notes:
        lines.append(words["notes"].format(event.notes))
    return "\n".join(lines)


def _reminder(event: BookingEvent, starts_at: datetime) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -_REMINDER)
    alarm.add("description", _words(event.language)["alarm"].format(
        time=f"{starts_at:%H:%M}", title=event.title, venue=event.venue))
    return alarm
