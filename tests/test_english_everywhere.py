"""English readers see English everywhere: every page reachable from the home page and the
staff home, as each role, every calendar feed those pages link to, and every message and
.ics file the system writes for a booking made in English.

Chinese is allowed only where it is a proper name the data holds: organisations and people
(contacts, attendees, lecturers, staff), what visitors and staff typed in one language only
(booking notes, reasons, comments), and venue or room names that have no English. Plus a
short list of fixed words (the language switch shows 中文 in Chinese, and so on).

Runs on the demo world (where a quarter of the groups booked in English) with the Flask test
client: a breadth-first crawl of same-origin links, bounded per URL shape and in total.
"""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select

from booking.clock import utcnow

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:5000"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
                 r"\U00020000-\U0002ffff]+")
#: Fixed words an English page may show in Chinese, each for a reason.
ALLOWED_WORDS = (
    "中文",      # the language switch names Chinese in Chinese
    "姓名",      # the attendee upload reads the column headed "姓名" (said in English around it)
    "样张",      # the certificate preview explains the watermark 样张 (specimen)
)
#: Links a crawl must not follow: signing out ends the crawl's session; the Chinese switch.
SKIP = re.compile(r"/logout|[?&]lang=zh|/language/zh|/static/")
MAX_PAGES = 600          # per role: the whole app is far smaller
MAX_PER_SHAPE = 3        # URLs of one shape (digits and query values aside) per role
TEXT_TYPES = ("text/html", "text/calendar", "text/plain")


# --- the demo world, once for the module ------------------------------------------------------

@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from booking.models.db import db
    from courses.demo import load_demo
    from run import create_app

    database = tmp_path_factory.mktemp("english") / "museum.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{database}",
                      "SECRET_KEY": "english-test", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                      "BOOKING_LIMITS": {}, "PUBLIC_BASE_URL": BASE})
    with app.app_context():
        db.create_all()
        load_demo(db.session)
        db.session.commit()
        _close_a_day_in_both_languages(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


CLOSURE = ("设备维修，暂停接待", "Closed for equipment repairs")


def _close_a_day_in_both_languages(session):
    """Staff close a day with booked groups, giving the reason in both languages: the groups
    are told (in their language) and the calendar shows it."""
    from booking.models import Booking, Slot, StaffUser, Venue
    from booking.usecases import staff as staff_cases

    admin = session.scalar(select(StaffUser).filter_by(username="admin"))
    booked = session.scalar(select(Slot).join(Booking, Booking.slot_id == Slot.id)
                            .where(Booking.language == "en", Slot.starts_at > utcnow())
                            .order_by(Slot.starts_at.desc()).limit(1))
    venue = session.get(Venue, booked.venue_id)
    for booking in session.scalars(select(Booking).join(Slot, Slot.id == Booking.slot_id)
                                   .where(Slot.day == booked.day)):
        booking.contact_email, booking.notify_by = "group@example.org", "email"
    closed = staff_cases.close_day(session, venue, booked.day, CLOSURE[0], admin,
                                   reason_en=CLOSURE[1])
    assert closed.bookings, "the closed day should have had groups to tell"
    return booked.day


@pytest.fixture(scope="module")
def allowed_names(demo_app) -> str:
    """Every proper name (and one-language free text) the demo data holds, one per line."""
    from booking.models import (
        Attendee,
        Booking,
        Feedback,
        OfflineVisit,
        Organisation,
        Room,
        StaffUser,
        Venue,
        WaitlistEntry,
    )
    from booking.models.db import db
    from courses.models import Certificate, Lecturer

    columns = [Organisation.name, Booking.contact_name, Booking.notes, Booking.state_reason,
               Attendee.name, Lecturer.name, StaffUser.display_name, Certificate.name,
               Certificate.organisation, OfflineVisit.organisation_name, OfflineVisit.note,
               OfflineVisit.lecturer_name, Feedback.comment, WaitlistEntry.contact_name]
    with demo_app.app_context():
        names = {value for column in columns for value in db.session.scalars(select(column))
                 if value}
        names |= {v.name for v in db.session.scalars(select(Venue)) if not v.name_en}
        names |= {r.name for r in db.session.scalars(select(Room)) if not r.name_en}
    return "\n".join(sorted(names | set(ALLOWED_WORDS)))


def chinese_outside_names(text: str, allowed: str) -> list[str]:
    """The runs of Chinese in ``text`` that are not part of an allowed name."""
    return sorted({run for run in CJK.findall(text) if run not in allowed})


# --- reading pages ----------------------------------------------------------------------------

class PageReader(HTMLParser):
    """The text a reader sees or hears (text, alt, title, aria-label, placeholder, option
    labels), the links, and the page's language. A textarea is left out: it holds the data
    being edited (the Chinese text beside its English field), with a format example."""

    SPOKEN = ("alt", "title", "aria-label", "placeholder", "aria-description")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.lang = ""
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag in ("script", "style", "template", "textarea"):
            self._hidden += 1
            return
        self.text += [attributes[name] for name in self.SPOKEN if attributes.get(name)]
        if tag == "input" and attributes.get("type") in ("submit", "button") \
                and attributes.get("value"):
            self.text.append(attributes["value"])
        href = attributes.get("href")
        if tag in ("a", "link") and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "textarea") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def same_origin_path(href: str, current: str) -> str | None:
    href = urldefrag(href)[0]
    if not href or href.startswith(("mailto:", "tel:", "javascript:", "data:", "#")):
        return None
    if href.startswith("webcal://"):
        href = "http://" + href.removeprefix("webcal://")
    if href.startswith(BASE):
        href = href[len(BASE):] or "/"
    elif "://" in href or href.startswith("//"):
        return None
    if not href.startswith("/"):  # relative to the current page
        href = current.rsplit("/", 1)[0] + "/" + href
    return None if SKIP.search(href) else href


def shape(path: str) -> str:
    parts = urlsplit(path)
    keys = sorted(part.split("=", 1)[0] for part in parts.query.split("&") if part)
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def crawl(client, starts: list[str], allowed: str) -> tuple[int, list[str]]:
    """Breadth-first from ``starts``: (pages and feeds read, problems found)."""
    queue, seen, shapes = deque(starts), set(starts), {}
    problems: list[str] = []
    read = 0
    while queue and read < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            target = same_origin_path(response.headers["Location"], path)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
            continue
        kind = response.mimetype or ""
        if kind not in TEXT_TYPES:
            continue
        read += 1
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
            continue
        body = response.get_data(as_text=True)
        if kind == "text/html":
            page = PageReader()
            page.feed(body)
            if page.lang != "en":
                problems.append(f"{path}: <html lang={page.lang!r}>")
            text, links = " ".join(page.text), page.links
        else:
            text, links = _unfold(body), []
        for run in chinese_outside_names(text, allowed):
            problems.append(f"{path}: {run}")
        for href in links:
            target = same_origin_path(href, path)
            if target is None or target in seen:
                continue
            seen.add(target)
            key = shape(target)
            if shapes.get(key, 0) < MAX_PER_SHAPE:
                shapes[key] = shapes.get(key, 0) + 1
                queue.append(target)
    return read, problems


def _unfold(ics: str) -> str:
    """iCalendar text with folded lines joined and escapes undone."""
    text = re.sub(r"\r?\n[ \t]", "", ics)
    return text.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")


def english_client(app):
    client = app.test_client()
    client.set_cookie("lang", "en", domain="localhost")
    return client


def sign_in(client, username: str) -> None:
    from courses.demo import DEMO_PASSWORD

    response = client.post("/staff/login", data={"username": username,
                                                 "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not sign in"


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["anonymous", "staff", "admin", "guide"])
def test_every_english_page_and_feed_is_in_english(demo_app, allowed_names, role):
    from booking.models.db import db
    from courses.models import Certificate

    client = english_client(demo_app)
    with demo_app.app_context():  # a certificate's check page: linked only from its QR code
        code = db.session.scalars(select(Certificate.verification_code).limit(1)).first()
    starts = ["/", f"/verify/{code}"]
    if role != "anonymous":
        sign_in(client, role)
        starts.append("/staff/")
    read, problems = crawl(client, starts, allowed_names)
    print(f"{role}: {read} English pages and feeds read")
    assert read >= (15 if role == "anonymous" else 40), f"only {read} pages read as {role}"
    assert not problems, f"{len(problems)} problems as {role} on {read} pages:\n" \
        + "\n".join(problems[:40])


def test_the_lecturers_private_feed_is_in_english(demo_app, allowed_names):
    from booking.models import StaffUser
    from booking.models.db import db
    from courses import usecases
    from courses.models import Lecturer

    with demo_app.app_context():
        guide = db.session.scalar(select(StaffUser).filter_by(username="guide"))
        admin = db.session.scalar(select(StaffUser).filter_by(username="admin"))
        lecturer = db.session.scalar(select(Lecturer).filter_by(staff_user_id=guide.id))
        token = usecases.reset_feed_token(db.session, lecturer, admin)
        db.session.commit()
    response = english_client(demo_app).get(f"/lecturers/feed/{token}.ics?language=en")
    assert response.status_code == 200 and "BEGIN:VEVENT" in response.get_data(as_text=True)
    problems = chinese_outside_names(_unfold(response.get_data(as_text=True)), allowed_names)
    assert not problems, problems


def test_every_mail_and_ics_for_an_english_booking_is_in_english(demo_app, allowed_names):
    from booking.models import Booking
    from booking.models.db import db
    from booking.render.ics import render_booking_ics
    from booking.rules.booking_event import booking_event
    from booking.usecases.notifications import BOOKING_MAIL_KINDS, queue_booking_mail

    checked = 0
    with demo_app.test_request_context("/"):
        english = db.session.scalars(select(Booking).where(Booking.language == "en")
                                     .order_by(Booking.id)).all()
        assert len(english) >= 10, "the demo should have groups that booked in English"
        problems = []
        for booking in english[:12]:
            ics = render_booking_ics(booking_event(booking, BASE)).decode()
            problems += [f"{booking.reference} .ics: {run}"
                         for run in chinese_outside_names(_unfold(ics), allowed_names)]
            savepoint = db.session.begin_nested()
            booking.contact_email, booking.notify_by = "group@example.org", "email"
            for kind in BOOKING_MAIL_KINDS:
                message = queue_booking_mail(db.session, booking, kind, BASE,
                                             manage_token="token")
                text = "\n".join((message.subject, message.body_text,
                                  _unfold(message.attachment_body)))
                problems += [f"{booking.reference} {kind}: {run}"
                             for run in chinese_outside_names(text, allowed_names)]
                checked += 1
            savepoint.rollback()
        db.session.rollback()
    assert checked == 12 * len(BOOKING_MAIL_KINDS)
    assert not problems, "\n".join(problems[:40])


def test_a_closure_reason_reads_in_english_on_the_calendar(demo_app):
    from booking.models import VenueDay
    from booking.models.db import db

    with demo_app.app_context():
        closed = db.session.scalar(select(VenueDay).where(VenueDay.reason_en == CLOSURE[1]))
        path = f"/venues/{closed.venue.code}/calendar?month={closed.day:%Y-%m}"
    english = english_client(demo_app).get(path).get_data(as_text=True)
    chinese = demo_app.test_client().get(path).get_data(as_text=True)
    assert CLOSURE[1] in english and CLOSURE[0] not in english
    assert CLOSURE[0] in chinese and CLOSURE[1] not in chinese


def test_every_message_queued_for_an_english_booking_is_in_english(demo_app, allowed_names):
    """What actually sits in the outbox: the demo's confirmations, approvals and the closure's
    cancellations of groups that booked in English."""
    from booking.models import Booking, OutboxMessage
    from booking.models.db import db

    with demo_app.app_context():
        messages = db.session.scalars(
            select(OutboxMessage).join(Booking, Booking.id == OutboxMessage.booking_id)
            .where(Booking.language == "en")).all()
        kinds = {message.kind for message in messages}
        problems = [f"{message.kind} #{message.id}: {run}" for message in messages
                    for run in chinese_outside_names(
                        "\n".join((message.subject, message.body_text,
                                   _unfold(message.attachment_body))), allowed_names)]
    assert "cancelled_by_museum" in kinds, kinds
    assert not problems, "\n".join(problems[:40])


def test_the_check_finds_chinese_outside_names():
    allowed = "\n".join(["开州区实验小学", "王建国", *ALLOWED_WORDS])
    assert chinese_outside_names("Dear 王建国, 开州区实验小学 booked", allowed) == []
    assert chinese_outside_names("Party size: 42 人", allowed) == ["人"]
    assert chinese_outside_names("2026年12月3日", allowed) == ["年", "日", "月"]
    assert chinese_outside_names("Status：confirmed", allowed) == ["："]
    page = PageReader()
    page.feed('<html lang="en"><a href="/x" title="预约">Book</a><script>var a="中"</script>')
    assert page.lang == "en" and page.links == ["/x"] and "预约" in " ".join(page.text)
    assert "中" not in " ".join(page.text)
