"""Specifications for the pure .ics renderers (booking file, course feeds).

Every output is read back with icalendar and with vobject, an independent
parser, so a quirk shared by writer and reader cannot hide a broken file.
"""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from booking.render.ics import BookingEvent, render_booking_ics
from courses.render.ics import FeedEvent, feed_etag, feed_last_modified, render_feed

SHANGHAI = ZoneInfo("Asia/Shanghai")
MODULES = ["参观展厅 30分钟", "专题党课 45分钟", "重温入党誓词 15分钟"]
MAINLAND_MOBILE = re.compile(rb"(?<!\d)1[3-9]\d{9}(?!\d)")


def make_booking(**overrides) -> BookingEvent:
    values = dict(
        uid="booking-42@kaizhou-red-edu",
        sequence=0,
        starts_at=datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI),
        ends_at=datetime(2026, 5, 12, 10, 30, tzinfo=SHANGHAI),
        title="《学习百年党史 感悟刘帅精神》",
        venue="刘伯承同志纪念馆",
        address="重庆市开州区汉丰街道",
        room="第一报告厅",
        lecturer="王宣讲员",
        modules=list(MODULES),
        party_size=35,
        reference="LBC-7K3Q-92XD",
        manage_url="https://booking.example.cn/manage/3f9c1a7e5b2d4c8e9a0b1c2d3e4f5a6b",
        status="confirmed",
        notes="需借用党旗、誓词背景板和音响。",
        updated_at=datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI),
    )
    return BookingEvent(**(values | overrides))


def make_feed_event(number: int = 0, **overrides) -> FeedEvent:
    starts_at = datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI) + timedelta(days=number)
    values = dict(
        uid=f"slot-{number}@kaizhou-red-edu",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        title="《学习百年党史 感悟刘帅精神》",
        venue="刘伯承同志纪念馆",
        room="第一报告厅",
        description="专题党课：参观展厅、专题党课、重温入党誓词。",
        seats_left=40,
        status="confirmed",
        url=f"https://booking.example.cn/courses/sessions/{number}",
        updated_at=datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI),
    )
    return FeedEvent(**(values | overrides))


def render_feed_of(*events: FeedEvent) -> bytes:
    return render_feed("刘伯承同志纪念馆 红色教育课程", list(events))


RENDERERS = {
    "booking": lambda **times: render_booking_ics(make_booking(**times)),
    "feed": lambda **times: render_feed_of(make_feed_event(**times)),
}


def first_vevent(data: bytes):
    return Calendar.from_ical(data).events[0]


# --- both parsers accept the output -------------------------------------------------


def test_booking_file_parses_with_icalendar_and_vobject():
    data = render_booking_ics(make_booking(sequence=2))

    event = first_vevent(data)
    assert str(event["UID"]) == "booking-42@kaizhou-red-edu"
    assert event["SEQUENCE"] == 2
    assert str(event["SUMMARY"]) == "《学习百年党史 感悟刘帅精神》"

    independent = vobject.readOne(data.decode("utf-8"))
    assert independent.vevent.uid.value == "booking-42@kaizhou-red-edu"
    assert independent.vevent.summary.value == "《学习百年党史 感悟刘帅精神》"
    assert independent.prodid.value == "-//Kaizhou Red Education Booking//ZH"
    assert independent.method.value == "PUBLISH"


def test_feed_parses_with_icalendar_and_vobject():
    data = render_feed_of(*(make_feed_event(n) for n in range(3)))

    calendar = Calendar.from_ical(data)
    assert [str(e["UID"]) for e in calendar.events] == [f"slot-{n}@kaizhou-red-edu" for n in range(3)]
    assert str(calendar["X-WR-CALNAME"]) == "刘伯承同志纪念馆 红色教育课程"

    independent = vobject.readOne(data.decode("utf-8"))
    assert [e.uid.value for e in independent.vevent_list] == [f"slot-{n}@kaizhou-red-edu" for n in range(3)]
    assert independent.contents["x-wr-calname"][0].value == "刘伯承同志纪念馆 红色教育课程"


def test_feed_tells_clients_its_time_zone_and_how_often_to_refresh():
    calendar = Calendar.from_ical(render_feed("馆名", [make_feed_event()], refresh_minutes=30))

    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(minutes=30)
    assert calendar["X-PUBLISHED-TTL"].to_ical() == b"PT30M"


# --- time zones ------------------------------------------------------------------------


@pytest.mark.parametrize("renderer", RENDERERS.values(), ids=RENDERERS.keys())
def test_start_carries_shanghai_tzid_and_one_vtimezone_defines_it(renderer):
    data = renderer()

    assert b"\r\nDTSTART;TZID=Asia/Shanghai:20260512T090000\r\n" in data
    calendar = Calendar.from_ical(data)
    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Shanghai"]
    assert calendar.get_missing_tzids() == set()


@pytest.mark.parametrize("renderer", RENDERERS.values(), ids=RENDERERS.keys())
def test_nine_oclock_in_shanghai_round_trips_to_one_oclock_utc(renderer):
    data = renderer()
    one_utc = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)

    assert first_vevent(data)["DTSTART"].dt.astimezone(UTC) == one_utc
    assert vobject.readOne(data.decode("utf-8")).vevent.dtstart.value.astimezone(UTC) == one_utc


@pytest.mark.parametrize("renderer", RENDERERS.values(), ids=RENDERERS.keys())
def test_input_in_another_zone_is_written_as_shanghai_wall_time(renderer):
    data = renderer(
        starts_at=datetime(2026, 5, 12, 1, 0, tzinfo=UTC),
        ends_at=datetime(2026, 5, 12, 4, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    )

    assert b"\r\nDTSTART;TZID=Asia/Shanghai:20260512T090000\r\n" in data
    assert b"\r\nDTEND;TZID=Asia/Shanghai:20260512T103000\r\n" in data


def test_dtstamp_is_updated_at_in_utc():
    event = first_vevent(render_booking_ics(make_booking()))

    assert event["DTSTAMP"].to_ical() == b"20260501T020000Z"


@pytest.mark.parametrize("field", ["starts_at", "ends_at", "updated_at"])
def test_naive_times_are_refused_rather_than_guessed(field):
    with pytest.raises(ValueError, match=field):
        make_booking(**{field: datetime(2026, 5, 12, 9, 0)})
    with pytest.raises(ValueError, match=field):
        make_feed_event(**{field: datetime(2026, 5, 12, 9, 0)})


def test_event_ending_before_it_starts_is_refused():
    nine = datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI)
    with pytest.raises(ValueError, match="after starts_at"):
        make_booking(starts_at=nine, ends_at=nine)
    with pytest.raises(ValueError, match="after starts_at"):
        make_feed_event(starts_at=nine, ends_at=nine - timedelta(minutes=1))


# --- the booking file ------------------------------------------------------------------


def test_booking_description_lists_modules_in_order_with_room_and_lecturer():
    description = str(first_vevent(render_booking_ics(make_booking()))["DESCRIPTION"])

    positions = [description.index(module) for module in MODULES]
    assert positions == sorted(positions)
    for expected in ("LBC-7K3Q-92XD", "35 人", "第一报告厅", "王宣讲员", "需借用党旗", make_booking().manage_url):
        assert expected in description


def test_booking_location_names_venue_room_and_address():
    location = str(first_vevent(render_booking_ics(make_booking()))["LOCATION"])

    assert location == "刘伯承同志纪念馆 第一报告厅，重庆市开州区汉丰街道"


def test_booking_without_room_lecturer_or_link_leaves_them_out():
    data = render_booking_ics(make_booking(room=None, lecturer=None, manage_url=None, notes=None))
    event = first_vevent(data)

    assert "场地" not in str(event["DESCRIPTION"])
    assert "主讲" not in str(event["DESCRIPTION"])
    assert "URL" not in event
    assert str(event["LOCATION"]) == "刘伯承同志纪念馆，重庆市开州区汉丰街道"


def test_confirmed_booking_reminds_one_day_before():
    event = first_vevent(render_booking_ics(make_booking()))

    assert event["STATUS"] == "CONFIRMED"
    assert str(event["URL"]) == make_booking().manage_url
    [alarm] = event.subcomponents
    assert alarm.name == "VALARM"
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(days=-1)


def test_cancelled_booking_renders_status_cancelled_with_its_bumped_sequence():
    data = render_booking_ics(make_booking(status="cancelled", sequence=4))

    event = first_vevent(data)
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 4
    assert str(event["UID"]) == "booking-42@kaizhou-red-edu"
    assert str(event["SUMMARY"]).startswith("【已取消】")
    assert event.subcomponents == []  # no reminder for a visit that will not happen

    independent = vobject.readOne(data.decode("utf-8")).vevent
    assert independent.status.value == "CANCELLED"
    assert independent.sequence.value == "4"


def test_tentative_booking_renders_status_tentative():
    event = first_vevent(render_booking_ics(make_booking(status="tentative")))

    assert event["STATUS"] == "TENTATIVE"


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        make_booking(status="pending")
    with pytest.raises(ValueError, match="feeds"):
        make_feed_event(status="tentative")


# --- feeds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats_left", "status", "summary"),
    [
        (40, "confirmed", "《学习百年党史 感悟刘帅精神》（余 40 座）"),
        (0, "confirmed", "《学习百年党史 感悟刘帅精神》（已满）"),
        (None, "confirmed", "《学习百年党史 感悟刘帅精神》"),
        (40, "cancelled", "【已取消】《学习百年党史 感悟刘帅精神》"),
    ],
)
def test_feed_summary_shows_seats_left_when_known(seats_left, status, summary):
    event = first_vevent(render_feed_of(make_feed_event(seats_left=seats_left, status=status)))

    assert str(event["SUMMARY"]) == summary
    assert event["STATUS"] == status.upper()


def test_feed_carries_no_personal_data():
    # The structure is the guarantee: FeedEvent has no field for a person, and a
    # VEVENT gets exactly these properties.
    assert {f.name for f in dataclasses.fields(FeedEvent)} == {
        "uid", "starts_at", "ends_at", "title", "venue", "room", "description",
        "seats_left", "status", "url", "updated_at", "language",
    }
    data = render_feed_of(*(make_feed_event(n) for n in range(5)))

    for event in Calendar.from_ical(data).events:
        assert set(event) == {
            "UID", "DTSTAMP", "LAST-MODIFIED", "DTSTART", "DTEND", "SUMMARY",
            "LOCATION", "DESCRIPTION", "STATUS", "URL",
        }
        assert event.subcomponents == []
    for forbidden in (b"ORGANIZER", b"ATTENDEE", b"CONTACT", b"MAILTO:"):
        assert forbidden not in data.upper()
    assert not MAINLAND_MOBILE.search(data)


def test_feed_etag_is_stable_for_the_same_feed():
    events = [make_feed_event(n) for n in range(3)]
    same_instant_elsewhere = [
        make_feed_event(n, updated_at=datetime(2026, 5, 1, 2, 0, tzinfo=UTC)) for n in range(3)
    ]

    assert feed_etag(events) == feed_etag(list(events))
    assert feed_etag(events) == feed_etag(same_instant_elsewhere)
    assert render_feed_of(*events) == render_feed_of(*same_instant_elsewhere)


@pytest.mark.parametrize(
    "change",
    [
        {"seats_left": 39},
        {"seats_left": None},
        {"updated_at": datetime(2026, 5, 1, 10, 0, 1, tzinfo=SHANGHAI)},
        {"uid": "slot-other@kaizhou-red-edu"},
    ],
)
def test_feed_etag_changes_when_an_event_changes(change):
    before = [make_feed_event(0), make_feed_event(1)]
    after = [make_feed_event(0), make_feed_event(1, **change)]

    assert feed_etag(before) != feed_etag(after)


def test_feed_etag_changes_when_events_are_added_or_reordered():
    first, second = make_feed_event(0), make_feed_event(1)

    assert len({feed_etag([first]), feed_etag([first, second]), feed_etag([second, first]), feed_etag([])}) == 4


def test_feed_last_modified_is_newest_update_in_utc_whole_seconds():
    events = [
        make_feed_event(0, updated_at=datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)),
        make_feed_event(1, updated_at=datetime(2026, 5, 3, 8, 30, 15, 500, tzinfo=SHANGHAI)),
    ]

    assert feed_last_modified(events) == datetime(2026, 5, 3, 0, 30, 15, tzinfo=UTC)
    assert feed_last_modified([]) is None


def test_empty_feed_is_still_a_valid_calendar():
    data = render_feed("馆名", [])

    assert Calendar.from_ical(data).events == []
    assert vobject.readOne(data.decode("utf-8")).contents.get("vevent", []) == []


# --- wire format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(render_booking_ics(make_booking(notes="请提前十分钟到达，" * 20)), id="booking"),
        pytest.param(render_feed_of(make_feed_event(
            description="讲解员带领参观《红色开州 百年锦绣》特展。" * 10)), id="feed"),
    ],
)
def test_lines_are_folded_at_75_octets_with_crlf(data):
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]

    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long text really was folded
    for line in lines:
        line.decode("utf-8")  # no multi-byte character split across a fold
