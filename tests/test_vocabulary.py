"""One word for each thing: a programme kind, a booking state, "few seats left" reads the same
on every page, export and form that shows it, in both languages (booking/rules/vocabulary.py
holds the words, booking/rules/availability.py the few-seats-left rule)."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, refresh

from booking.models import BookingState, Role
from booking.models.db import db
from booking.rules.availability import FEW_LEFT_SHARE, few_seats_left
from booking.rules.vocabulary import (
    PROGRAMME_KIND_NAMES,
    programme_kind_label,
    roster_state_label,
    state_label,
    weekday_label,
)
from courses.models import CourseKind
from tests.fixtures.factories import next_open_day
from tests.fixtures.manage_links import open_manage_link


def cells(pattern: str, page: str) -> list[str]:
    return [html.unescape(found).strip() for found in re.findall(pattern, page, re.S)]


def read(client, url: str, language: str, **query) -> str:
    """The page in ``language``. The test app context outlives requests and Flask-Babel caches
    the locale in it; a real request starts afresh."""
    refresh()
    response = client.get(url, query_string={**query, "lang": language})
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_every_course_kind_has_a_name():
    assert set(PROGRAMME_KIND_NAMES) == {kind.value for kind in CourseKind}


@pytest.fixture
def one_of_each_kind(create_venue, create_course, create_slot, create_booking):
    """A course of every kind, each with a session a group attended."""
    venue = create_venue("LBC")
    day = next_open_day()
    for number, kind in enumerate(CourseKind):
        code = f"kind-{number}"
        create_course(venue, code=code, kind=kind, title=f"项目{number}")
        slot = create_slot(venue, day=day + timedelta(days=7 * number), programme=code,
                           kind=kind.value, title=f"项目{number}")
        booking, _ = create_booking(slot, party_size=10 + number,
                                    organisation_name=f"单位{number}")
        booking.state = BookingState.COMPLETED
        db.session.commit()
    return day, day + timedelta(days=7 * len(CourseKind))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_pages_exports_and_the_course_form_name_each_kind_alike(
        app, client, create_user, login, one_of_each_kind, language):
    with app.test_request_context(), force_locale(language):
        expected = {kind.value: programme_kind_label(kind) for kind in CourseKind}
    assert len(set(expected.values())) == len(expected)  # no two kinds read the same

    first, last = one_of_each_kind
    login(create_user("desk", Role.STAFF))
    dates = {"start": first.isoformat(), "end": last.isoformat()}

    statistics = read(client, "/staff/statistics", language, **dates)
    shown_in_statistics = set(cells(r'<tr><td>([^<]*)</td><td class="num">', statistics))
    assert set(expected.values()) <= shown_in_statistics

    export = read(client, "/staff/statistics.csv", language, **dates).lstrip("\ufeff")
    exported = {row[0] for row in csv.reader(io.StringIO(export)) if row}
    assert set(expected.values()) <= exported

    form = read(client, "/staff/courses/catalogue/new", language)
    options = dict(re.findall(r'<option[^>]*value="(\w+)"[^>]*>([^<]*)</option>', form))
    assert {value: options[value] for value in expected} == expected

    course_list = read(client, "/staff/courses/catalogue", language)
    listed = cells(r'<td data-label="[^"]*">([^<]*)</td>', course_list)
    assert set(expected.values()) <= set(listed)

    for number, kind in enumerate(CourseKind):
        page = read(client, f"/programmes/kind-{number}", language)
        tag = cells(r'<p class="programme-kind"><span class="tag">([^<]*)</span>', page)
        assert tag == [expected[kind.value]]


def test_the_roster_words_only_a_confirmed_group_its_own_way(app):
    with app.test_request_context():
        differing = {state for state in BookingState
                     if roster_state_label(state) != state_label(state)}
    assert differing == {BookingState.CONFIRMED}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_group_and_staff_read_a_booking_state_in_the_same_words(
        app, client, create_booking, create_user, login, language):
    booking, token = create_booking()
    login(create_user("desk", Role.STAFF))
    roster_url = f"/staff/roster/{booking.slot.venue.code}/{booking.slot.day.isoformat()}"
    for state in BookingState:
        booking.state = state
        db.session.commit()
        with app.test_request_context(), force_locale(language):
            expected, on_roster = state_label(state), roster_state_label(state)

        manage = read(client, open_manage_link(client, booking.reference, token), language)
        assert cells(r'<p class="booking-state[^"]*">.*?<strong>(.*?)</strong>', manage) == [expected]
        staff = read(client, f"/staff/bookings/{booking.reference}", language)
        assert cells(r'<div class="page-head">.*?<span class="badge[^"]*">(.*?)</span>',
                     staff) == [expected]
        roster = read(client, roster_url, language)
        assert on_roster in cells(r'<span class="state state-[a-z_]+">(.*?)</span>', roster) + \
            cells(r'<small class="muted">(.*?)</small>', roster), state


@pytest.mark.parametrize("taken, few", [(30, True), (29, False)])  # 40 seats: 10 or 11 left
def test_the_staff_badge_and_the_visitor_see_the_same_few_seats_left(
        client, create_venue, create_course, create_slot, create_booking, create_user, login,
        taken, few):
    from courses.models import CourseSession

    venue = create_venue("LBC")
    course = create_course(venue)
    slot = create_slot(venue, capacity=40, programme=course.code, kind=course.kind.value)
    db.session.add(CourseSession(slot=slot, course=course))
    db.session.commit()
    create_booking(slot, party_size=taken)
    assert few_seats_left(slot.seats_left, slot.capacity) is few

    day = read(client, f"/venues/LBC/days/{slot.day.isoformat()}", "zh")
    assert cells(r'<span class="state-text">(.*?)</span>', day) == ["余位紧张" if few else "可预约"]
    login(create_user("desk", Role.STAFF))
    agenda = read(client, "/staff/courses/sessions", "zh",
                  start=slot.day.isoformat(), end=slot.day.isoformat())
    badges = re.findall(r'<span class="badge (badge-\w+)">余 \d+ 座', agenda)
    assert badges == ["badge-few" if few else "badge-ok"]


def test_the_calendar_legend_states_the_few_seats_left_share(client, create_venue):
    create_venue("LBC")
    calendar = read(client, "/venues/LBC/calendar", "en")
    assert f"Few seats left: {FEW_LEFT_SHARE:.0%} of the seats or fewer remain." in calendar


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_calendar_and_the_session_pattern_form_name_weekdays_alike(
        app, client, create_venue, create_course, create_user, login, language):
    with app.test_request_context(), force_locale(language):
        expected = [weekday_label(n) for n in range(7)]
    course = create_course(create_venue("LBC"))

    calendar = read(client, "/venues/LBC/calendar", language)
    header = calendar.split('<div class="month-weekdays"', 1)[1].split("</div>", 1)[0]
    assert cells(r"<span>(.*?)</span>", header) == expected
    login(create_user("desk", Role.STAFF))
    pattern = read(client, "/staff/courses/sessions/pattern", language, course=course.id)
    assert cells(r'<label for="weekdays-\d">(.*?)</label>', pattern) == expected
