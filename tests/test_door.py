"""Booking passes and the door: the QR's opaque code, the confirmation PDF, and checking a
group in by scanning or typing at the entrance."""
from __future__ import annotations

import shutil
import subprocess
import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking.clock import MUSEUM_TZ, local, utcnow
from booking.models import AuditEntry, Booking, BookingState, Role, StaffUser
from booking.models.db import db
from booking.rules import capacity
from booking.usecases import staff as staff_cases
from tests.fixtures.factories import next_open_day


def today_start() -> time:
    """A start time today that makes check-in open now (ten minutes ago, or midnight)."""
    now = local(utcnow(), MUSEUM_TZ)
    start = max(now - timedelta(minutes=10), now.replace(hour=0, minute=0, second=0))
    return time(start.hour, start.minute)


@pytest.fixture
def desk(create_user):
    return create_user("desk", Role.STAFF)


@pytest.fixture
def todays_group(create_venue, create_slot, book_ahead):
    venue = create_venue(weekly_closed_day=None)
    slot = create_slot(venue, day=local(utcnow(), MUSEUM_TZ).date(), start=today_start(),
                       capacity=30)
    return book_ahead(slot, 12)


@pytest.fixture
def later_group(create_slot, create_booking):
    return create_booking(create_slot(day=next_open_day(9)), 15)


# --- the pass -------------------------------------------------------------------------------

def test_every_booking_gets_an_opaque_pass_code_that_is_not_its_reference_or_token(
        later_group):
    booking, token = later_group
    assert booking.pass_code and len(booking.pass_code) == 26
    assert booking.reference not in booking.pass_code and booking.pass_code != token


def test_manage_page_and_confirmation_mail_carry_the_pass(client, create_slot, desk):
    from booking.models import OutboxMessage
    from booking.usecases import bookings
    from tests.fixtures.factories import booking_request
    booking, token = bookings.book(db.session, booking_request(create_slot(), 10))
    db.session.commit()
    page = client.get(f"/manage/{booking.reference}/{token}", follow_redirects=True).get_data(as_text=True)
    assert 'class="pass-qr"' in page and "confirmation.pdf" in page
    # One attachment a message: the confirmation carries the calendar file and sends the group
    # to the pass on the manage page; a "moved" message carries the pass itself.
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.attachment_type.startswith("text/calendar") and "二维码" in message.body_text
    from booking.usecases.notifications import queue_booking_mail
    moved = queue_booking_mail(db.session, booking, "moved")
    assert moved.attachment_type == "image/svg+xml" and "<svg" in moved.attachment_body


def test_the_confirmation_pdf_qr_decodes_to_the_pass_code(client, later_group, tmp_path):
    for tool in ("zbarimg", "pdftoppm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    booking, token = later_group
    response = client.get(f"/manage/{booking.reference}/{token}/confirmation.pdf", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (tmp_path / "c.pdf").write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"),
                    str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True,
                             text=True, check=True).stdout.split()
    assert decoded == [booking.pass_code]


def test_the_pass_code_alone_reveals_nothing_without_a_staff_login(client, later_group):
    booking, _ = later_group
    for url in (f"/staff/door?code={booking.pass_code}", f"/bookings/{booking.pass_code}/confirmation"):
        response = client.get(url)
        assert booking.organisation.name not in response.get_data(as_text=True)
    assert client.get(f"/staff/door?code={booking.pass_code}").status_code in (302, 401)


# --- the door ---------------------------------------------------------------------------------

def test_a_scanned_pass_opens_todays_group_with_the_headcount_prefilled_and_checks_it_in(
        client, login, todays_group, desk):
    login(desk)
    page = client.get("/staff/door", query_string={"code": todays_group.pass_code})
    html = page.get_data(as_text=True)
    assert "data-door-card" in html and todays_group.organisation.name in html
    assert 'value="12"' in html and "data-warning" not in html
    response = client.post("/staff/door/check-in", data={
        "code": todays_group.pass_code, "venue": todays_group.slot.venue.code, "headcount": 11})
    assert response.status_code == 302
    db.session.expire_all()
    assert (todays_group.state, todays_group.arrived_count) == (BookingState.CHECKED_IN, 11)
    again = client.get("/staff/door", query_string={"code": todays_group.display_reference})
    assert 'data-warning="checked_in"' in again.get_data(as_text=True)


def test_a_pass_for_another_day_shows_the_warning_and_changes_nothing(
        client, login, later_group, desk):
    booking, _ = later_group
    login(desk)
    html = client.get("/staff/door", query_string={"code": booking.pass_code}).get_data(
        as_text=True)
    assert 'data-warning="wrong_day"' in html and "data-check-in" not in html
    client.post("/staff/door/check-in", data={"code": booking.pass_code, "headcount": 15})
    db.session.expire_all()
    assert booking.state is BookingState.CONFIRMED and booking.arrived_count is None


def test_the_door_warns_of_a_wrong_venue_a_cancelled_or_unapproved_booking(
        client, login, create_venue, create_slot, todays_group, desk, book_ahead):
    other = create_venue("KZM", name="开州博物馆", weekly_closed_day=None)
    login(desk)
    html = client.get("/staff/door", query_string={"code": todays_group.pass_code,
                                                   "venue": other.code}).get_data(as_text=True)
    assert 'data-warning="wrong_venue"' in html and "data-check-in" not in html
    pending = book_ahead(create_slot(todays_group.slot.venue, day=todays_group.slot.day,
                                     start=today_start(), capacity=30, requires_approval=True), 10)
    html = client.get("/staff/door", query_string={"code": pending.pass_code}).get_data(
        as_text=True)
    assert 'data-warning="not_approved"' in html and "data-check-in" not in html


def test_a_guide_learns_nothing_about_another_guides_group(client, login, create_user,
                                                           todays_group):
    guide = create_user("guide", Role.GUIDE)
    login(guide)
    html = client.get("/staff/door", query_string={"code": todays_group.pass_code}).get_data(
        as_text=True)
    assert 'data-warning="not_your_session"' in html
    assert todays_group.organisation.name not in html


def test_an_unknown_code_says_so(client, login, desk):
    login(desk)
    html = client.get("/staff/door", query_string={"code": "NOPE-NOPE"}).get_data(as_text=True)
    assert 'data-warning="not_found"' in html


def test_two_staff_checking_in_one_group_at_once_leave_the_counters_exact(
        app, todays_group, create_user):
    users = [create_user("desk1", Role.STAFF).id, create_user("desk2", Role.STAFF).id]
    booking_id = todays_group.id
    db.session.commit()
    barrier, errors = threading.Barrier(2), []

    def check_in(user_id: int, headcount: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                booking = db.session.get(Booking, booking_id)
                staff_cases.check_in_group(db.session, booking, headcount,
                                           db.session.get(StaffUser, user_id))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=check_in, args=(u, n)) for u, n in zip(users, (12, 11))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [e for e in errors if "locked" not in str(e)], errors
    db.session.expire_all()
    booking = db.session.get(Booking, booking_id)
    assert booking.state is BookingState.CHECKED_IN and booking.arrived_count in (11, 12)
    assert booking.seats == 12 and capacity.find_drift(db.session) == []
    assert db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id == str(booking_id))).all()




def test_staff_print_the_confirmation_for_a_walk_up_group(client, login, later_group, desk):
    booking, _ = later_group
    assert client.get(f"/staff/bookings/{booking.reference}/confirmation.pdf").status_code == 302
    login(desk)
    page = client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    assert f"/staff/bookings/{booking.reference}/confirmation.pdf" in page
    response = client.get(f"/staff/bookings/{booking.reference}/confirmation.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
