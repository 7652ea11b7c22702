"""Shared fixtures: the app on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set),
a client, a CLI runner, and ``create_*`` factories that build just what a test needs."""
from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from booking.clock import at_local, local_today
from booking.db import db
from booking.models import OrganisationKind, Role, Room, StaffUser, Venue
from booking.slots import SlotFacts, create_slot as create_slot_rule
from booking.workflow import BookingRequest, OrganisationDetails, create_booking as book

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow tests (servers, browsers, load)")
    config.addinivalue_line("markers", "browser: needs Debian's Chromium and a CJK font")


def postgres_url() -> str:
    url = TEST_DATABASE_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


_pg_schema_ready = False


def _reset_postgres() -> None:
    global _pg_schema_ready
    if not _pg_schema_ready:
        db.drop_all()
        db.create_all()
        _pg_schema_ready = True
        return
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def make_app(database_url: str, **extra):
    from run import create_app
    config = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
              "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}
    config.update(extra)
    return create_app(config)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's config (e.g. switch CSRF on)."""
    return {}


@pytest.fixture
def app(backend, tmp_path, app_config):
    if backend == "sqlite":
        application = make_app(f"sqlite:///{tmp_path / 'test.db'}", **app_config)
        with application.app_context():
            db.create_all()
    else:
        application = make_app(postgres_url(), **app_config)
        with application.app_context():
            _reset_postgres()
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session


def next_open_day(days_ahead: int = 7) -> date:
    """A weekday at least ``days_ahead`` days away that is not a holiday nor a Monday."""
    from booking.opening import is_public_holiday
    day = local_today() + timedelta(days=days_ahead)
    while day.weekday() == 0 or is_public_holiday(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def create_venue(app):
    def factory(code: str = "LBC", **kw) -> Venue:
        values = dict(code=code, name=kw.pop("name", "刘伯承同志纪念馆"),
                      name_en="Liu Bocheng Memorial Hall", weekly_closed_day=0,
                      open_on_holiday_closed_day=True, groups_on_holidays=True,
                      daily_cap=500, issuing_unit="刘伯承同志纪念馆")
        values.update(kw)
        venue = Venue(**values)
        db.session.add(venue)
        db.session.commit()
        return venue
    return factory


@pytest.fixture
def create_room(app):
    def factory(venue: Venue, name: str = "报告厅", capacity: int = 120) -> Room:
        room = Room(venue=venue, name=name, name_en="Lecture hall", capacity=capacity)
        db.session.add(room)
        db.session.commit()
        return room
    return factory


@pytest.fixture
def create_slot(app, create_venue):
    def factory(venue: Venue | None = None, *, day: date | None = None,
                start: time = time(9, 0), minutes: int = 90, capacity: int = 50,
                room: Room | None = None, **facts):
        venue = venue or db.session.query(Venue).first() or create_venue()
        day = day or next_open_day()
        starts_at = at_local(day, start, venue.tz)
        values = dict(title="学习百年党史 感悟刘帅精神", programme="liushuai-spirit",
                      kind="themed_course", party_size_min=1, party_size_max=50)
        values.update(facts)
        slot = create_slot_rule(db.session, venue, starts_at,
                                starts_at + timedelta(minutes=minutes), capacity,
                                SlotFacts(**values), room=room)
        db.session.commit()
        return slot
    return factory


def booking_request(slot, party_size: int = 10, **kw) -> BookingRequest:
    organisation = kw.pop("organisation", None) or OrganisationDetails(
        name=kw.pop("organisation_name", "开州区汉丰街道党工委"),
        kind=OrganisationKind.PARTY_ORGANISATION, credit_code=kw.pop("credit_code", None))
    values = dict(slot_id=slot.id, organisation=organisation, contact_name="王建国",
                  contact_phone="13812341234", party_size=party_size,
                  contact_email="wang@example.org", attendee_names=[])
    values.update(kw)
    return BookingRequest(**values)


@pytest.fixture
def create_booking(app, create_slot):
    """Book through the real rule function; returns (booking, manage_token)."""
    def factory(slot=None, party_size: int = 10, now: datetime | None = None, **kw):
        slot = slot or create_slot()
        booking, token = book(db.session, booking_request(slot, party_size, **kw), now=now)
        db.session.commit()
        return booking, token
    return factory


@pytest.fixture
def create_user(app):
    def factory(username: str = "staff", role: Role = Role.STAFF,
                password: str = "correct horse battery") -> StaffUser:
        user = StaffUser(username=username, display_name=username, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user
    return factory


@pytest.fixture
def create_course(app, create_venue):
    from courses.models import Course, CourseKind, CourseModule

    def factory(venue: Venue | None = None, code: str = "liushuai-spirit", **kw) -> Course:
        venue = venue or db.session.query(Venue).first() or create_venue()
        values = dict(code=code, venue=venue, kind=CourseKind.THEMED_COURSE,
                      title="学习百年党史 感悟刘帅精神", duration_minutes=90,
                      training_hours=Decimal("1.5"), group_min=10, group_max=50,
                      modules=[CourseModule(title="参观展厅", minutes=30, position=0),
                               CourseModule(title="专题党课", minutes=45, position=1),
                               CourseModule(title="重温入党誓词", minutes=15, position=2)])
        values.update(kw)
        course = Course(**values)
        db.session.add(course)
        db.session.commit()
        return course
    return factory


@pytest.fixture
def create_lecturer(app, create_venue):
    from courses.models import Lecturer

    def factory(name: str = "陈静", venue: Venue | None = None, courses=(), **kw) -> Lecturer:
        venue = venue or db.session.query(Venue).first() or create_venue()
        lecturer = Lecturer(name=name, title=kw.pop("title", "宣讲员"), venue=venue,
                            courses=list(courses), **kw)
        db.session.add(lecturer)
        db.session.commit()
        return lecturer
    return factory
