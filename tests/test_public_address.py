"""The public address: with PUBLIC_BASE_URL unset every absolute link follows the address the
request came in on (any host, any port); with it set, links use it; and the commands that
write links outside a request refuse to guess one. A fresh database gets one clear page."""
from __future__ import annotations

import io
import re
from datetime import time, timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import func, select

from booking.clock import at_local
from booking.models import Booking, OutboxMessage
from booking.models.db import db
from courses.rules import issuing
from courses.rules.scheduling import schedule_session

SERVED_AT = "http://museum.test:5151"
CONFIGURED = "https://booking.example.org"

BOOKING_FORM = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
                "contact_name": "王建国", "contact_phone": "138 1234 1234",
                "contact_email": "wang@example.org", "party_size": "12", "consent": "y"}


@pytest.fixture
def app_config():
    return {"PUBLIC_BASE_URL": ""}


@pytest.fixture
def session_slot(create_venue, create_course):
    from tests.fixtures.factories import next_open_day
    venue = create_venue()
    course = create_course(venue)
    course_session = schedule_session(db.session, course, at_local(next_open_day(), time(9)),
                                      capacity=60)
    db.session.commit()
    return course_session.slot


def absolute_links(text: str) -> list[str]:
    return re.findall(r"(?:https?|webcal)://[^\s\"'<>]+", text)


def assert_all_on(base: str, links: list[str]) -> None:
    host = base.split("://", 1)[1]
    assert links, "no absolute links found"
    wrong = [link for link in links if link.split("://", 1)[1].split("/", 1)[0] != host]
    assert not wrong, f"links not on {host}: {wrong}"


def book_on_the_form(client, slot, base_url: str):
    response = client.post(f"/slots/{slot.id}/book", data=BOOKING_FORM, base_url=base_url)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"], base_url=base_url)


# --- unset: links follow the request ----------------------------------------------------------

@pytest.mark.parametrize("page", ["/venues/LBC/calendar", "/programmes/liushuai-spirit"])
def test_calendar_pages_link_their_feed_on_the_address_they_were_served_on(client, session_slot,
                                                                           page):
    html = client.get(page, base_url=SERVED_AT).get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    assert re.search(r'<link rel="alternate" type="text/calendar"[^>]*href="'
                     + re.escape(SERVED_AT) + "/", head)
    assert_all_on(SERVED_AT, absolute_links(html))


@pytest.mark.parametrize("feed", ["/venues/LBC/sessions.ics",
                                  "/programmes/liushuai-spirit/sessions.ics"])
def test_feeds_link_the_booking_form_on_the_address_they_were_served_on(client, session_slot,
                                                                        feed):
    body = client.get(feed, base_url=SERVED_AT).get_data(as_text=True)
    unfolded = body.replace("\r\n ", "")
    assert f"{SERVED_AT}/slots/{session_slot.id}/book" in unfolded
    assert_all_on(SERVED_AT, absolute_links(unfolded))


def test_the_manage_link_its_ics_and_its_mail_use_the_address_booked_on(client, session_slot):
    confirmation = book_on_the_form(client, session_slot, SERVED_AT)
    manage_link = re.search(r"data-manage-link>([^<]+)<",
                            confirmation.get_data(as_text=True)).group(1)
    assert manage_link.startswith(f"{SERVED_AT}/manage/")

    path = manage_link[len(SERVED_AT):]
    ics = client.get(f"{path}/booking.ics", base_url=SERVED_AT, follow_redirects=True)
    (event,) = Calendar.from_ical(ics.data).walk("VEVENT")
    _, _, reference, token = path.split("/")
    # The calendar file links the token-free page (the secret stays in the mail).
    assert str(event["URL"]) == f"{SERVED_AT}/manage/{reference}" and token not in str(ics.data)
    assert_all_on(SERVED_AT, absolute_links(ics.get_data(as_text=True).replace("\r\n ", "")))

    message = db.session.scalars(select(OutboxMessage)).one()
    assert manage_link in message.body_text
    assert_all_on(SERVED_AT, absolute_links(message.body_text))


def test_another_port_gets_links_to_that_port(client, session_slot):
    other = "http://127.0.0.1:8765"
    confirmation = book_on_the_form(client, session_slot, other)
    assert f'data-manage-link>{other}/manage/' in confirmation.get_data(as_text=True)


def test_certificate_qr_links_point_at_the_address_they_were_downloaded_from(
        client, create_attended_group):
    course_session, booking, token = create_attended_group(["王晓红"])
    (certificate,) = issuing.issue_certificates(db.session, course_session, None,
                                                now=course_session.slot.ends_at + timedelta(hours=1))
    db.session.commit()
    response = client.get(f"/manage/{booking.reference}/{token}/certificates.pdf",
                          base_url=SERVED_AT, follow_redirects=True)
    (page,) = [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(response.data)).pages]
    assert f"{SERVED_AT}/verify/{certificate.verification_code}" in page


# --- outside a request: refuse rather than guess --------------------------------------------

@pytest.mark.parametrize("command", [["send-mail"], ["queue-reminders"],
                                     ["expire-waitlist-offers"],
                                     ["certificate-preview", "--name", "王晓红", "--out", "x.pdf"]])
def test_commands_that_write_links_refuse_without_a_public_address(runner, command, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=command)
    assert result.exit_code != 0
    assert "PUBLIC_BASE_URL is not set" in result.output
    assert "https://" in result.output  # says what to set it to
    assert not (tmp_path / "x.pdf").exists()


def test_the_refusal_happens_before_anything_is_queued(runner, create_venue, create_slot,
                                                     create_booking):
    from booking.clock import local_today
    venue = create_venue(weekly_closed_day=None)  # tomorrow may be a Monday
    tomorrow = create_slot(venue, day=local_today() + timedelta(days=1))
    booking, _ = create_booking(tomorrow, now=tomorrow.starts_at - timedelta(days=5))
    assert booking.state.value == "confirmed"  # so queue-reminders would remind it
    result = runner.invoke(args=["queue-reminders"])
    assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.get(Booking, booking.id).reminder_queued_at is None


# --- set: links use it wherever the request came in -------------------------------------------

class TestConfigured:
    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_BASE_URL": CONFIGURED + "/"}

    def test_pages_feeds_and_mail_use_the_configured_address(self, client, session_slot):
        html = client.get("/venues/LBC/calendar", base_url=SERVED_AT).get_data(as_text=True)
        assert_all_on(CONFIGURED, absolute_links(html))
        confirmation = book_on_the_form(client, session_slot, SERVED_AT)
        assert f"data-manage-link>{CONFIGURED}/manage/" in confirmation.get_data(as_text=True)
        message = db.session.scalars(select(OutboxMessage)).one()
        assert_all_on(CONFIGURED, absolute_links(message.body_text))

    def test_commands_run_with_it(self, runner, tmp_path):
        out = tmp_path / "specimen.pdf"
        result = runner.invoke(args=["certificate-preview", "--name", "王晓红", "--out", str(out)])
        assert result.exit_code == 0, result.output
        (page,) = [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(out).pages]
        assert f"{CONFIGURED}/verify/" in page


def test_a_public_address_without_a_scheme_is_refused_at_start(tmp_path):
    from tests.fixtures.app import make_app
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL must start with https://"):
        make_app(f"sqlite:///{tmp_path / 'x.db'}", PUBLIC_BASE_URL="booking.example.org")


# --- python run.py --host --port -------------------------------------------------------------

def test_run_py_takes_host_and_port(monkeypatch, tmp_path):
    from flask import Flask

    import courses.demo
    import run

    served = {}
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'museum.db'}")
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setattr(courses.demo, "ensure_demo_database", lambda: served.setdefault("demo", 1))
    monkeypatch.setattr(Flask, "run", lambda self, host, port: served.update(host=host, port=port))
    run.main(["--host", "0.0.0.0", "--port", "5151"])
    assert served == {"demo": 1, "host": "0.0.0.0", "port": 5151}
    run.main([])
    assert (served["host"], served["port"]) == ("127.0.0.1", 5000)


# --- a fresh database: one clear page, then the site -------------------------------------------

def test_a_fresh_database_shows_which_command_to_run_then_serves(empty_database_url):
    from tests.fixtures.app import make_app
    app = make_app(empty_database_url)
    client = app.test_client()
    with app.app_context():
        page = client.get("/")
        assert page.status_code == 503
        text = page.get_data(as_text=True)
        assert "flask --app run init-db" in text and "数据库尚未初始化" in text
        assert "no such table" not in text.lower()
        api = client.get("/api/v1/slots")
        assert api.status_code == 503 and api.json["error"]["code"] == "database_not_initialised"

        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/slots").status_code == 200
        db.session.remove()
        db.engine.dispose()
