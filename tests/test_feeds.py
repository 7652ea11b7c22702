"""Calendar feeds and the booking .ics: every file the app serves parses with icalendar and
with vobject, keeps Asia/Shanghai wall-clock times, answers conditional requests, and shows
personal data only where it belongs."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy import select

from booking.clock import at_local
from booking.models import AuditEntry, BookingState, Role
from booking.models.db import db
from booking.rules import approval, closures, workflow
from courses.models import Lecturer
from courses.rules.scheduling import schedule_session
from tests.fixtures.factories import booking_request, next_open_day
from tests.fixtures.manage_links import open_manage_link, tampered

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTACT_NAME, PHONE, ATTENDEES = "王建国", "13812341234", ["李小明", "赵红梅"]
ORGANISATION = "开州区汉丰街道党工委"


@pytest.fixture
def world(create_venue, create_room, create_course, create_lecturer):
    """A venue with a room, a course, a lecturer and one 09:00 session they lead."""
    venue = create_venue(phone="023-52222222")
    room = create_room(venue, "报告厅", 120)
    course = create_course(venue, title_en="Study the Party's history")
    lecturer = create_lecturer("陈静", venue)
    session = schedule_session(db.session, course, at_local(next_open_day(), time(9, 0)),
                               lecturer=lecturer, room=room, capacity=60)
    db.session.commit()
    return SimpleNamespace(venue=venue, room=room, course=course, lecturer=lecturer,
                           session=session, slot=session.slot)


def book(slot, party_size=10, **kw):
    values = dict(contact_name=CONTACT_NAME, contact_phone=PHONE, attendee_names=ATTENDEES,
                  organisation_name=ORGANISATION)
    values.update(kw)
    booking, token = workflow.create_booking(db.session, booking_request(slot, party_size,
                                                                         **values))
    db.session.commit()
    return booking, token


def set_lecturer_token(lecturer: Lecturer) -> str:
    from courses.rules.lecturers import reset_feed_token
    token = reset_feed_token(db.session, lecturer, None)
    db.session.commit()
    return token


def unfolded(body: bytes) -> str:
    """The iCalendar text with folded lines joined, so a search cannot miss a split word."""
    return body.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")


def parse_both(body: bytes) -> list[tuple]:
    """Parse with icalendar and with vobject; check the time zone; return the events paired."""
    calendar = icalendar.Calendar.from_ical(body)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    parsed = vobject.readOne(body.decode("utf-8"))
    assert parsed.vtimezone.tzid.value == "Asia/Shanghai"
    ours, theirs = calendar.walk("VEVENT"), list(getattr(parsed, "vevent_list", []))
    assert len(ours) == len(theirs)
    return list(zip(ours, theirs))


def assert_shanghai_time(pair, expected: datetime) -> None:
    """Both parsers read the event as the expected wall-clock time in Asia/Shanghai."""
    ours, theirs = pair
    assert ours["DTSTART"].params["TZID"] == "Asia/Shanghai"
    # vobject resolves TZID against the file's own VTIMEZONE (not the system's tz database)
    # and keeps the name it resolved under this parameter.
    assert theirs.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["Asia/Shanghai"]
    for start in (ours.decoded("DTSTART"), theirs.dtstart.value):
        assert start.utcoffset() == timedelta(hours=8)
        assert (start.hour, start.minute) == (expected.hour, expected.minute)
        assert start.astimezone(SHANGHAI).replace(tzinfo=None) == expected.replace(tzinfo=None)
        assert start.astimezone(UTC) == expected.astimezone(UTC)


def feed_urls(world) -> dict[str, str]:
    return {"venue": f"/venues/{world.venue.code}/sessions.ics",
            "programme": f"/programmes/{world.course.code}/sessions.ics",
            "lecturer": f"/lecturers/feed/{set_lecturer_token(world.lecturer)}.ics"}


# --- every .ics parses and keeps its times -------------------------------------------------------

def test_booking_ics_from_the_manage_link_opens_at_nine_in_shanghai_in_both_parsers(client, world):
    booking, token = book(world.slot)
    response = client.get(f"/manage/{booking.reference}/{token}/booking.ics", follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    (pair,) = parse_both(response.data)
    assert_shanghai_time(pair, at_local(world.slot.day, time(9, 0)))
    description = str(pair[0]["DESCRIPTION"])
    assert pair[1].description.value == description
    for expected in ("参观展厅", "专题党课", "重温入党誓词", "报告厅", "陈静", booking.display_reference):
        assert expected in description


@pytest.mark.parametrize("feed", ["venue", "programme", "lecturer"])
def test_every_feed_parses_in_both_parsers_with_times_in_shanghai(client, world, feed):
    book(world.slot)
    response = client.get(feed_urls(world)[feed])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    (pair,) = parse_both(response.data)
    assert_shanghai_time(pair, at_local(world.slot.day, time(9, 0)))
    assert str(pair[0]["UID"]) == pair[1].uid.value


def test_booking_ics_sequence_grows_with_every_change_and_ends_cancelled(
        client, create_venue, create_room, create_slot, create_user):
    venue = create_venue()
    slot = create_slot(venue, room=create_room(venue), requires_approval=True,
                       lecturer_name="陈静", modules_text="参观展厅\n专题党课")
    booking, token = book(slot, party_size=20)
    staff = create_user("clerk", Role.STAFF)
    url = open_manage_link(client, booking.reference, token) + "/booking.ics"

    def seen() -> tuple[int, str]:
        (pair,) = parse_both(client.get(url).data)
        assert int(pair[0]["SEQUENCE"]) == int(pair[1].sequence.value)
        return int(pair[0]["SEQUENCE"]), str(pair[0]["STATUS"])

    assert seen() == (0, "TENTATIVE")
    approval.approve_booking(db.session, booking, staff)
    db.session.commit()
    assert seen() == (1, "CONFIRMED")
    workflow.change_party_size(db.session, booking, 15)
    db.session.commit()
    assert seen() == (2, "CONFIRMED")
    closures.cancel_slot(db.session, slot, "场馆临时活动", staff)
    db.session.commit()
    assert seen() == (3, "CANCELLED")


def test_a_cancelled_session_stays_in_the_public_feed_as_cancelled(client, world, create_user):
    closures.cancel_slot(db.session, world.slot, "", create_user("clerk", Role.STAFF))
    db.session.commit()
    (pair,) = parse_both(client.get(f"/venues/{world.venue.code}/sessions.ics").data)
    assert str(pair[0]["STATUS"]) == "CANCELLED" and pair[1].status.value == "CANCELLED"


def test_public_feeds_show_seats_left_and_the_booking_link(client, world):
    book(world.slot, party_size=15)
    text = unfolded(client.get(f"/programmes/{world.course.code}/sessions.ics").data)
    assert "余 45 座" in text
    assert f"http://127.0.0.1:5000/slots/{world.slot.id}/book" in text


def test_feeds_speak_english_when_asked_with_their_own_etag(client, world):
    chinese = client.get(f"/venues/{world.venue.code}/sessions.ics")
    english = client.get(f"/venues/{world.venue.code}/sessions.ics?language=en")
    assert "Study the Party's history" in unfolded(english.data)
    assert "Study the Party's history" not in unfolded(chinese.data)
    assert chinese.headers["ETag"] != english.headers["ETag"]


# --- personal data ---------------------------------------------------------------------------

@pytest.mark.parametrize("feed", ["venue", "programme"])
def test_public_feeds_hold_no_personal_data(client, world, feed):
    book(world.slot)
    text = unfolded(client.get(feed_urls(world)[feed]).data)
    assert world.course.title in text  # the feed does show the session
    for private in (CONTACT_NAME, PHONE, "138****1234", *ATTENDEES, ORGANISATION,
                    "wang@example.org"):
        assert private not in text


def test_the_lecturer_feed_shows_groups_and_headcount_but_no_contact_details(client, world):
    book(world.slot, party_size=12)
    book(world.slot, party_size=18, organisation_name="开州中学", contact_phone="13900001111")
    text = unfolded(client.get(feed_urls(world)["lecturer"]).data)
    assert ORGANISATION in text and "开州中学" in text
    assert "12 人" in text and "共 30 人" in text and "报告厅" in text and "专题党课" in text
    for private in (CONTACT_NAME, PHONE, "13900001111", *ATTENDEES, "wang@example.org"):
        assert private not in text


# --- conditional requests ----------------------------------------------------------------------

@pytest.mark.parametrize("feed", ["venue", "programme", "lecturer"])
def test_feeds_answer_304_to_if_none_match_and_if_modified_since(client, world, feed):
    url = feed_urls(world)[feed]
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")  # a strong validator
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag
    since = client.get(url, headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304 and since.data == b""
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_304_is_answered_without_rendering(client, world, monkeypatch):
    url = f"/venues/{world.venue.code}/sessions.ics"
    etag = client.get(url).headers["ETag"]

    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered a feed for a 304")
    monkeypatch.setattr("courses.web.public.feeds.render_feed", must_not_render)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("feed", ["venue", "programme", "lecturer"])
def test_the_etag_changes_when_a_booking_changes_the_seats(client, world, feed):
    url = feed_urls(world)[feed]
    before = client.get(url).headers["ETag"]
    booking, _ = book(world.slot, party_size=10)
    after_booking = client.get(url, headers={"If-None-Match": before})
    assert after_booking.status_code == 200 and after_booking.headers["ETag"] != before
    workflow.cancel_booking(db.session, booking)
    db.session.commit()
    after_cancel = client.get(url, headers={"If-None-Match": after_booking.headers["ETag"]})
    assert after_cancel.status_code == 200
    assert after_cancel.headers["ETag"] not in (before, after_booking.headers["ETag"])


def test_public_feeds_are_publicly_cacheable_and_the_lecturer_feed_is_private(client, world):
    urls = feed_urls(world)
    assert client.get(urls["venue"]).headers["Cache-Control"] == "public, max-age=300"
    assert client.get(urls["programme"]).headers["Cache-Control"] == "public, max-age=300"
    private = client.get(urls["lecturer"]).headers["Cache-Control"]
    assert "private" in private and "public" not in private


def test_unknown_venue_or_programme_feed_is_404(client, world):
    assert client.get("/venues/NOPE/sessions.ics").status_code == 404
    assert client.get("/programmes/no-such-course/sessions.ics").status_code == 404


# --- the lecturer's secret URL -------------------------------------------------------------------

def test_the_lecturer_feed_needs_the_right_token(client, world):
    token = set_lecturer_token(world.lecturer)
    assert client.get(f"/lecturers/feed/{token}.ics").status_code == 200
    assert client.get(f"/lecturers/feed/{tampered(token)}.ics").status_code == 404
    assert client.get("/lecturers/feed/.ics").status_code == 404
    stored = db.session.get(Lecturer, world.lecturer.id).feed_token_hash
    assert token not in stored and len(token) >= 22  # 128+ bits, stored only hashed


def test_staff_reset_shows_the_new_url_once_and_kills_the_old_one(client, world, create_user,
                                                                 login):
    old = set_lecturer_token(world.lecturer)
    login(create_user("clerk", Role.STAFF))
    page = client.post(f"/staff/courses/lecturers/{world.lecturer.id}/feed-token")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    new = re.search(r"/lecturers/feed/([A-Za-z0-9_\-]+)\.ics", page.get_data(as_text=True))
    assert new and new.group(1) != old
    assert "webcal://127.0.0.1:5000/lecturers/feed/" in page.get_data(as_text=True)
    assert client.get(f"/lecturers/feed/{old}.ics").status_code == 404
    assert client.get(f"/lecturers/feed/{new.group(1)}.ics").status_code == 200
    entry = db.session.scalar(select(AuditEntry).filter_by(action="lecturer.feed_token_reset"))
    assert entry is not None and new.group(1) not in entry.after and old not in entry.before
    back = client.get(f"/staff/courses/lecturers/{world.lecturer.id}/feed-token")
    assert back.status_code == 302 and back.headers["Location"].endswith("/edit#calendar-feed")
    edit_page = client.get(f"/staff/courses/lecturers/{world.lecturer.id}/edit")
    assert f"/staff/courses/lecturers/{world.lecturer.id}/feed-token" in edit_page.get_data(
        as_text=True)
    assert new.group(1) not in edit_page.get_data(as_text=True)


def test_only_staff_may_reset_a_lecturer_feed(client, world, create_user, login):
    url = f"/staff/courses/lecturers/{world.lecturer.id}/feed-token"
    assert client.post(url).status_code == 302  # to the login page
    login(create_user("guide", Role.GUIDE))
    assert client.post(url).status_code == 403
    assert db.session.get(Lecturer, world.lecturer.id).feed_token_hash is None


def test_an_inactive_lecturers_feed_is_gone(client, world):
    token = set_lecturer_token(world.lecturer)
    world.lecturer.active = False
    db.session.commit()
    assert client.get(f"/lecturers/feed/{token}.ics").status_code == 404


# --- the pages link their feeds --------------------------------------------------------------

@pytest.mark.parametrize("page, feed", [
    ("/venues/LBC/calendar", "/venues/LBC/sessions.ics"),
    ("/programmes/liushuai-spirit", "/programmes/liushuai-spirit/sessions.ics"),
])
def test_venue_and_programme_pages_link_their_feed_in_the_head_and_visibly(client, world, page,
                                                                           feed):
    html = client.get(page).get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    assert re.search(r'<link rel="alternate" type="text/calendar"[^>]*href="'
                     + re.escape(f"http://127.0.0.1:5000{feed}") + '"', head)
    body = html.split("</head>", 1)[1]
    assert f'href="webcal://127.0.0.1:5000{feed}"' in body and "订阅日历" in body


def test_english_pages_link_the_english_feed(client, world):
    html = client.get("/venues/LBC/calendar?lang=en").get_data(as_text=True)
    assert "/venues/LBC/sessions.ics?language=en" in html


def test_booking_states_map_to_calendar_status_on_the_manage_ics(client, world):
    booking, token = book(world.slot)
    assert booking.state is BookingState.CONFIRMED
    (pair,) = parse_both(client.get(f"/manage/{booking.reference}/{token}/booking.ics", follow_redirects=True).data)
    assert str(pair[0]["STATUS"]) == "CONFIRMED"
    workflow.cancel_booking(db.session, booking)
    db.session.commit()
    (pair,) = parse_both(client.get(f"/manage/{booking.reference}/{token}/booking.ics", follow_redirects=True).data)
    assert str(pair[0]["STATUS"]) == "CANCELLED" and pair[1].status.value == "CANCELLED"
    assert int(pair[0]["SEQUENCE"]) == 1
