"""Shared fixtures: the app on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set),
a client, a CLI runner, and ``create_*`` factories that build just what a test needs."""
from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import text

from booking.clock import at_local, local_today
from booking.models import OrganisationKind, Role, Room, StaffUser, Venue
from booking.models.db import db
from booking.rules.slots import SlotFacts
from booking.rules.slots import create_slot as create_slot_rule
from booking.rules.workflow import BookingRequest, OrganisationDetails
from booking.rules.workflow import create_booking as book

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


# Under CI (CI=true, as .ci/run sets, or CI_REQUIRE_ALL=1) no test may be skipped for a missing
# tool (Chromium, playwright, CJK fonts, poppler) or database: such a skip is a failure there.
# Skips for other reasons (e.g. a check that runs on one backend only) stay skips.
CI_REQUIRES_EVERYTHING = (os.environ.get("CI", "").lower() in ("true", "1")
                          or os.environ.get("CI_REQUIRE_ALL", "") == "1")
MISSING_TOOL = re.compile(r"chromium|playwright|\bfonts?\b|fc-list|poppler|pdfto\w+|"
                          r"TEST_DATABASE_URL|not installed|missing|unavailable|not available",
                          re.IGNORECASE)
_skipped_modules_under_ci: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow tests (servers, browsers, load)")
    config.addinivalue_line("markers", "browser: needs Debian's Chromium and a CJK font")
    if CI_REQUIRES_EVERYTHING and not TEST_DATABASE_URL:
        raise pytest.UsageError("CI runs every test on PostgreSQL too: set TEST_DATABASE_URL.")


def _skipped_for_missing_tool(report) -> str | None:
    if not (CI_REQUIRES_EVERYTHING and report.skipped and not hasattr(report, "wasxfail")):
        return None
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    return reason if MISSING_TOOL.search(reason) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    reason = _skipped_for_missing_tool(report)
    if reason:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every tool must be present: {reason}"


def pytest_collectreport(report):
    # A module skipped at import: failing its collection would abort the whole run, so
    # record it and fail the session at the end instead.
    reason = _skipped_for_missing_tool(report)
    if reason:
        _skipped_modules_under_ci.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter):
    for line in _skipped_modules_under_ci:
        terminalreporter.write_line(f"FAILED (skipped under CI) {line}", red=True)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_modules_under_ci and exitstatus in (pytest.ExitCode.OK,
                                                    pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def postgres_url() -> str:
    """TEST_DATABASE_URL for psycopg 3; under pytest-xdist, a database per worker beside it
    (created on first use), so parallel workers never truncate each other's tables."""
    url = TEST_DATABASE_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = _worker_database(url, worker)
    return url


_worker_databases: dict[str, str] = {}


def _worker_database(url: str, worker: str) -> str:
    if url not in _worker_databases:
        import psycopg
        from sqlalchemy.engine import make_url

        server = make_url(url)
        name = f"{server.database}_{worker}"
        admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                        (name,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
        _worker_databases[url] = server.set(database=name).render_as_string(
            hide_password=False)
    return _worker_databases[url]


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
    @application.before_request
    def _forget_the_last_requests_user():
        # Requests in a test share the test's app context and so its ``g``: drop the user
        # Flask-Login cached there by the previous request, as a real new request would.
        g.pop("_login_user", None)

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
    from booking.rules.opening import is_public_holiday
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


@pytest.fixture
def login(client):
    """Sign ``user`` in on ``client`` through the real login page (CSRF off in tests).

    Staff sessions are bound to the password (see StaffUser.get_id), so do not fake
    ``_user_id`` in the session: log in with this instead.
    """
    def log_in(user: StaffUser, password: str = "correct horse battery"):
        response = client.post("/staff/login", data={"username": user.username,
                                                     "password": password})
        assert response.status_code == 302, "login failed"
        return response
    return log_in


@pytest.fixture(scope="session")
def _scratch_postgres_url():
    """A PostgreSQL database of its own on TEST_DATABASE_URL's server, for this test session.

    Created once and dropped at the end: DROP DATABASE takes seconds, emptying a schema not.
    """
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url())
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"scratch_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    """A URL to a database with no tables yet, for tests that build the schema themselves
    (migrations, servers): a fresh SQLite file, or a PostgreSQL database of this session's own
    (not TEST_DATABASE_URL's, which the ``app`` fixture uses) emptied for this test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = request.getfixturevalue("_scratch_postgres_url")
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        # Connections a previous test left behind (a killed server's) would block the drop.
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    yield url


def past_open_day(days_ago: int = 2) -> date:
    """A day at least ``days_ago`` days back that is not a Monday (the fixture venue's closed day)."""
    day = local_today() - timedelta(days=days_ago)
    while day.weekday() == 0:
        day -= timedelta(days=1)
    return day


@pytest.fixture
def create_attended_group(app, create_venue, create_course, create_slot):
    """A checked-in group in a course session with its listed attendees ticked as present
    (except those named in ``absent``). Returns (course_session, booking, manage_token).

    Without ``course_session`` a new one is scheduled for ``course`` (the venue's first
    course, or a new one) on ``day`` -- by default two days ago, so it has ended.
    """
    from booking.rules.checkin import check_in_group, set_attendance
    from courses.models import Course, CourseSession

    def factory(names=("王晓红", "李建国"), *, absent=(), course_session=None, course=None,
                day: date | None = None, start: time = time(9, 0), **booking_kw):
        if course_session is None:
            venue = course.venue if course else db.session.query(Venue).first() or create_venue()
            course = course or db.session.query(Course).filter_by(venue_id=venue.id).first() \
                or create_course(venue)
            slot = create_slot(venue, day=day or past_open_day(), start=start,
                               programme=course.code, kind=course.kind.value, title=course.title,
                               lecturer_name="陈静")
            course_session = CourseSession(slot=slot, course=course)
            db.session.add(course_session)
            db.session.commit()
        slot = course_session.slot
        booking, token = book(db.session, booking_request(
            slot, max(len(names), 1), attendee_names=list(names), **booking_kw),
            now=slot.starts_at - timedelta(days=14))
        check_in_group(db.session, booking, max(len(names), 1), None,
                       now=slot.starts_at - timedelta(minutes=10))
        set_attendance(db.session, booking,
                       {a.id for a in booking.attendees if a.name not in absent}, None,
                       now=slot.starts_at)
        db.session.commit()
        return course_session, booking, token
    return factory


@pytest.fixture
def book_ahead(create_booking):
    """Book a slot (past or future) as if two weeks before it, when booking was open;
    returns the booking."""
    def factory(slot, party_size: int = 10, **kw):
        booking, _ = create_booking(slot, party_size,
                                    now=slot.starts_at - timedelta(days=14), **kw)
        return booking
    return factory


# --- a live server and headless Chromium, for the slow browser tests -------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@functools.cache
def browser_skip_reason() -> str | None:
    """Why browser tests cannot run here (Chromium, a CJK font or playwright missing), or None.

    The reasons name the missing tool, so that under CI such a skip counts as a failure.
    """
    if not os.path.exists(CHROMIUM):
        return f"Debian's Chromium is not installed at {CHROMIUM}"
    if shutil.which("fc-list") is None or not subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout.strip():
        return "no CJK font installed (`fc-list :lang=zh` is empty)"
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        return "playwright is not installed"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(application, port: int = 0):
    """``application`` served from a background thread on 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The test's ``app`` served over HTTP from a background thread: its base URL.

    Commit (end) the test's own transaction before the server writes, or SQLite blocks it.
    """
    with _serving(app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The app with the demo world on a SQLite database of its own, served from a thread for
    one test module: (base URL, app)."""
    from booking.models.db import db
    from courses.demo import load_demo
    from run import create_app

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("demo-server") / "museum.db"
    application = create_app({"DATABASE_URL": f"sqlite:///{database}",
                              "SECRET_KEY": "browser-test", "PUBLIC_BASE_URL": base_url,
                              "RATELIMIT_ENABLED": False})
    with application.app_context():
        db.create_all()
        load_demo(db.session)
        db.session.commit()
    try:
        with _serving(application, port):
            yield base_url, application
    finally:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, shared by a module's tests; skipped (failed under CI) when
    Chromium, a CJK font or playwright is missing."""
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, base_url: str, language: str, viewport: dict, **context_options):
    """A page in a fresh browser context that shows the site in ``language``."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", **context_options)
    context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
    return context.new_page()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where browser tests leave screenshots for people: $SCREENSHOT_DIR, or a temporary one."""
    wanted = os.environ.get("SCREENSHOT_DIR")
    directory = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
