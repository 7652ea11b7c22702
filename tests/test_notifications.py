"""E-mail: each action queues its message in its own transaction, in the organisation's
language, and `send-mail` delivers the outbox to a real SMTP server (aiosmtpd on 127.0.0.1)
exactly once — even when the server was down for the first attempt."""
from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
from datetime import datetime, time, timedelta

import icalendar
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from booking import dates
from booking.clock import at_local, local_today, utcnow
from booking.models import Booking, OutboxMessage, Role, SmsMessage
from booking.models.db import db, deferred_transactions
from booking.rules import waitlist, workflow
from booking.usecases import mailer, notifications
from courses.rules.scheduling import schedule_session
from tests.fixtures.browser import free_port
from tests.fixtures.factories import booking_request, next_open_day
from tests.fixtures.manage_links import open_manage_link

pytestmark = pytest.mark.slow  # a real SMTP server per test

SHANGHAI_PHONE = "023-52222222"
SENDER = "刘伯承同志纪念馆 <noreply@lbc.example.cn>"


# --- a real SMTP server ----------------------------------------------------------------------

class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refused: set[str] = set()
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.original_content,
                                                      policy=email.policy.default))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]


class SmtpServer:
    """Start and stop an SMTP server on a fixed port (stopped means: nobody listens)."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.port = free_port()
        self.inbox = Inbox()
        self._controller_class = Controller
        self.controller = None

    def start(self) -> None:
        self.controller = self._controller_class(self.inbox, hostname="127.0.0.1",
                                                 port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> mailer.SmtpConfig:
        return mailer.SmtpConfig(host="127.0.0.1", port=self.port, sender=SENDER, timeout=5)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stopped_smtp():
    server = SmtpServer()
    yield server
    server.stop()


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def venue(create_venue):
    return create_venue(weekly_closed_day=None, phone=SHANGHAI_PHONE, address="开州区汉丰街道",
                        address_en="Hanfeng Subdistrict, Kaizhou")


@pytest.fixture
def slot(venue, create_slot, create_room):
    return create_slot(venue, room=create_room(venue), title_en="Study the Party's history",
                       lecturer_name="陈静", modules_text="参观展厅 30分钟\n专题党课 45分钟")


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def deliver(server: SmtpServer, now: datetime | None = None) -> tuple[int, int]:
    db.session.commit()
    return mailer.send_pending(db.session, server.config(), now or utcnow())


def form_data(**overrides) -> dict:
    data = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
            "credit_code": "", "contact_name": "王建国", "contact_phone": "13812341234",
            "contact_email": "wang@example.org", "party_size": "12", "attendees": "张三\n李四",
            "notes": "", "consent": "y"}
    data.update(overrides)
    return data


def book(slot, party_size=10, **kw):
    booking, token = workflow.create_booking(db.session, booking_request(slot, party_size, **kw))
    db.session.commit()
    return booking, token


def queue_some(slot, count: int) -> list[OutboxMessage]:
    for n in range(count):
        booking, token = workflow.create_booking(db.session, booking_request(
            slot, 1, organisation_name=f"第{n}党支部", contact_email=f"branch{n}@example.org"))
        notifications.queue_new_booking_mail(db.session, booking, token)
    db.session.commit()
    return outbox()


def english_date(day) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"  # booking.dates: one British style


# --- each action queues its message, in the organisation's language ---------------------------

@pytest.mark.parametrize("language", ["zh", "en"])
def test_booking_on_the_form_queues_the_confirmation_with_the_manage_link(client, slot, smtp,
                                                                          language):
    response = client.post(f"/slots/{slot.id}/book?lang={language}", data=form_data(),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    (message,) = outbox()
    assert (message.kind, message.recipient) == ("confirmed", "wang@example.org")
    body = message.body_text
    assert booking.display_reference in message.subject and booking.display_reference in body
    assert f"http://127.0.0.1:5000/manage/{booking.reference}/" in body
    assert SHANGHAI_PHONE in body and "12" in body and "09:00–10:30" in body
    if language == "en":
        assert "Liu Bocheng Memorial Hall" in body and "Study the Party's history" in body
        assert english_date(slot.day) in body
    else:
        assert "刘伯承同志纪念馆" in body and "学习百年党史 感悟刘帅精神" in body
        assert f"{slot.day.year}年{slot.day.month}月{slot.day.day}日" in body
    assert deliver(smtp) == (1, 0)
    (received,) = smtp.inbox.messages
    assert received["Subject"] == message.subject and received["To"] == "wang@example.org"
    assert booking.display_reference in received.get_body(("plain",)).get_content()


def test_a_booking_awaiting_approval_is_told_it_was_received(client, venue, create_slot):
    slot = create_slot(venue, requires_approval=True)
    client.post(f"/slots/{slot.id}/book", data=form_data(), content_type="multipart/form-data")
    (message,) = outbox()
    assert message.kind == "received" and "等待审核" in message.subject


def test_no_email_address_means_no_email_is_queued_but_an_sms(client, slot):
    response = client.post(f"/slots/{slot.id}/book", data=form_data(contact_email=""),
                           content_type="multipart/form-data")
    assert response.status_code == 302 and outbox() == []
    assert [m.kind for m in db.session.scalars(select(SmsMessage))] == ["confirmed"]


def test_the_api_queues_on_create_and_on_cancel_in_the_requested_language(client, slot):
    created = client.post("/api/v1/bookings", json={
        "slot_id": slot.id, "organisation": {"name": "开州中学", "kind": "school"},
        "contact": {"name": "Anna Müller", "phone": "13812341234", "email": "anna@example.org"},
        "party_size": 12, "attendees": [], "language": "en"}).get_json()
    (confirmed,) = outbox("confirmed")
    assert created["reference"] in confirmed.body_text.replace("-", "")
    assert created["manage_token"] in confirmed.body_text
    assert "Liu Bocheng Memorial Hall" in confirmed.body_text
    response = client.delete(f"/api/v1/bookings/{created['reference']}",
                             headers={"Authorization": f"Bearer {created['manage_token']}"})
    assert response.status_code == 200
    (cancelled,) = outbox("cancelled")
    assert cancelled.recipient == "anna@example.org"
    assert created["manage_token"] not in cancelled.body_text


def test_cancelling_on_the_manage_page_confirms_the_cancellation(client, slot):
    booking, token = book(slot)
    page = open_manage_link(client, booking.reference, token)
    assert client.post(f"{page}/cancel", data={"reason": "行程变更"}).status_code == 303
    (message,) = outbox("cancelled")
    assert booking.display_reference in message.body_text and "已取消" in message.subject


def test_staff_approval_and_decline_are_mailed_with_the_recovery_link(client, venue, create_slot,
                                                                      create_user, login):
    slot = create_slot(venue, requires_approval=True)
    approved, token = book(slot, organisation_name="开州中学")
    declined, _ = book(slot, organisation_name="开州区文峰街道党工委",
                       contact_email="wenfeng@example.org")
    login(create_user("clerk", Role.STAFF))
    client.post(f"/staff/bookings/{approved.reference}/approve")
    client.post(f"/staff/bookings/{declined.reference}/decline", data={"reason": "当天已满额"})
    (confirmed,) = outbox("confirmed")
    assert confirmed.recipient == "wang@example.org"
    assert token not in confirmed.body_text and "http://127.0.0.1:5000/find" in confirmed.body_text
    (refusal,) = outbox("declined")
    assert refusal.recipient == "wenfeng@example.org" and "当天已满额" in refusal.body_text


def test_the_staff_api_mails_its_decisions_too(client, venue, create_slot, create_user, login):
    slot = create_slot(venue, requires_approval=True)
    first, _ = book(slot)
    second, _ = book(slot, organisation_name="开州中学")
    login(create_user("clerk", Role.STAFF))
    assert client.post(f"/api/v1/staff/bookings/{first.reference}/approve").status_code == 200
    assert client.post(f"/api/v1/staff/bookings/{second.reference}/decline",
                       json={"reason": "人数超出"}).status_code == 200
    assert [m.kind for m in outbox()] == ["confirmed", "declined"]


def test_a_session_cancelled_by_the_museum_tells_every_group_in_its_language(
        client, venue, create_course, create_room, create_user, login):
    course = create_course(venue, title_en="Study the Party's history")
    session = schedule_session(db.session, course, at_local(next_open_day(), time(9, 0)),
                               room=create_room(venue))
    db.session.commit()
    book(session.slot, party_size=12)
    book(session.slot, party_size=12, organisation_name="开州中学",
         contact_email="school@example.org", language="en")
    login(create_user("clerk", Role.STAFF))
    response = client.post(f"/staff/courses/sessions/{session.id}/cancel",
                           data={"reason": "场馆临时承接重要接待"})
    assert response.status_code == 302
    messages = outbox("cancelled_by_museum")
    assert sorted(m.recipient for m in messages) == ["school@example.org", "wang@example.org"]
    assert all("场馆临时承接重要接待" in m.body_text for m in messages)
    english = next(m for m in messages if m.recipient == "school@example.org")
    assert "Liu Bocheng Memorial Hall" in english.body_text


def test_closing_a_day_tells_the_groups_booked_that_day(client, venue, slot, create_user, login):
    book(slot)
    login(create_user("clerk", Role.STAFF))
    client.post("/staff/courses/closures", data={
        "venue": venue.id, "day": slot.day.isoformat(), "kind": "close", "reason": "设备维修",
        "action": "confirm"})
    (message,) = outbox("cancelled_by_museum")
    assert "设备维修" in message.body_text


def test_freed_seats_offered_to_the_waiting_list_are_mailed_with_a_working_accept_link(
        client, venue, create_slot):
    slot = create_slot(venue, capacity=20)
    holder, token = book(slot, party_size=20)
    entry, _ = waitlist.join_waitlist(db.session, slot, waitlist.WaitlistRequest(
        organisation=workflow.OrganisationDetails("开州中学", holder.organisation.kind),
        contact_name="Li", contact_phone="13912345678", party_size=15,
        contact_email="li@example.org", language="en"), now=utcnow() - timedelta(hours=1))
    db.session.commit()
    page = open_manage_link(client, holder.reference, token)
    assert client.post(f"{page}/cancel", data={"reason": ""}).status_code == 303
    (offer,) = outbox("waitlist_offer")
    assert offer.recipient == "li@example.org" and "Liu Bocheng Memorial Hall" in offer.body_text
    db.session.refresh(entry)
    deadline = dates.date_and_time(entry.offer_expires_at, entry.language, venue.tz)
    assert deadline in offer.body_text and deadline in offer.subject
    accept = re.search(r"http://127\.0\.0\.1:5000(/waitlist/[A-Za-z0-9_\-]+)", offer.body_text)
    assert client.get(accept.group(1)).status_code == 200
    assert client.post(accept.group(1) + "/accept").status_code == 302
    (confirmation,) = [m for m in outbox("confirmed") if m.recipient == "li@example.org"]
    assert "/manage/" in confirmation.body_text


def test_issuing_certificates_tells_each_group_where_to_download_them(
        client, create_attended_group, create_user, login):
    course_session, booking, _ = create_attended_group()
    login(create_user("clerk", Role.STAFF))
    client.post(f"/staff/certificates/sessions/{course_session.id}/complete")
    (message,) = outbox("certificates_ready")
    assert message.recipient == booking.contact_email
    assert "http://127.0.0.1:5000/certificates" in message.body_text
    assert "http://127.0.0.1:5000/find" in message.body_text


# --- reminders -----------------------------------------------------------------------------------

def test_the_reminder_is_queued_once_the_day_before_with_the_ics_attached(slot, smtp):
    booking, token = book(slot)
    book(slot, contact_email="")  # nobody to write to: reminded by SMS only
    evening_before = at_local(slot.day - timedelta(days=1), time(18, 0))
    assert notifications.queue_reminders(db.session, evening_before - timedelta(days=1)) == 0
    assert notifications.queue_reminders(db.session, evening_before) == 2
    db.session.commit()
    assert notifications.queue_reminders(db.session, evening_before) == 0
    assert deliver(smtp) == (1, 0)
    (received,) = smtp.inbox.messages
    assert booking.display_reference in received["Subject"]
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == f"booking-{booking.display_reference}.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute, start.utcoffset()) == (9, 0, timedelta(hours=8))
    assert str(event["UID"]).startswith(f"booking-{booking.reference}@")
    assert token not in attachment.get_content()  # the secret link is never mailed later


def test_queue_reminders_command_reminds_tomorrows_confirmed_bookings_once(runner, venue,
                                                                           create_slot):
    tomorrow = local_today() + timedelta(days=1)
    slot = create_slot(venue, day=tomorrow)
    booking, _ = workflow.create_booking(db.session, booking_request(slot, 10),
                                         now=slot.starts_at - timedelta(days=20))
    db.session.commit()
    first = runner.invoke(args=["queue-reminders"])
    second = runner.invoke(args=["queue-reminders"])
    assert first.exit_code == 0 and "1 queued" in first.output
    assert second.exit_code == 0 and "0 queued" in second.output
    assert len(outbox("reminder")) == 1
    assert db.session.get(Booking, booking.id).reminder_queued_at is not None


# --- transactions ------------------------------------------------------------------------------

def test_a_rolled_back_action_queues_nothing(slot, smtp):
    booking, token = workflow.create_booking(db.session, booking_request(slot, 10))
    notifications.queue_new_booking_mail(db.session, booking, token)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    db.session.rollback()
    assert outbox() == []
    assert deliver(smtp) == (0, 0) and smtp.inbox.messages == []


def test_nothing_is_sent_before_the_action_commits(app, slot, smtp):
    booking, token = workflow.create_booking(db.session, booking_request(slot, 10))
    notifications.queue_new_booking_mail(db.session, booking, token)
    db.session.flush()  # written, not committed
    other = Session(db.engine)
    try:
        with deferred_transactions():  # a reader beside the open write transaction (SQLite)
            assert mailer.send_pending(other, smtp.config(), utcnow()) == (0, 0)
        assert smtp.inbox.messages == []
        db.session.commit()
        assert mailer.send_pending(other, smtp.config(), utcnow()) == (1, 0)
    finally:
        other.close()
    assert len(smtp.inbox.messages) == 1


# --- delivery ----------------------------------------------------------------------------------

def test_a_server_that_was_down_gets_every_queued_message_exactly_once(slot, stopped_smtp):
    """The acceptance test: stopped, then started; nothing lost, nothing twice."""
    queued = queue_some(slot, 5)
    now = utcnow()
    assert deliver(stopped_smtp, now) == (0, 5)  # nobody listens on the port
    for message in outbox():
        assert (message.attempts, message.sent_at) == (1, None)
        assert timedelta(minutes=1) <= message.next_attempt_at - now < timedelta(minutes=2)
        assert "ConnectionRefusedError" in message.last_error
    assert deliver(stopped_smtp, now + timedelta(seconds=30)) == (0, 0)  # still backing off
    stopped_smtp.start()
    assert deliver(stopped_smtp, now + timedelta(minutes=2)) == (5, 0)
    assert deliver(stopped_smtp, now + timedelta(hours=1)) == (0, 0)  # a third run: nothing
    received = stopped_smtp.inbox.message_ids()
    assert len(received) == len(set(received)) == len(queued) == 5
    assert sorted(m["To"] for m in stopped_smtp.inbox.messages) == sorted(
        m.recipient for m in queued)
    assert all(m.sent_at is not None and m.attempts == 1 for m in outbox())


def test_two_overlapping_senders_never_send_a_message_twice(app, slot, smtp):
    queue_some(slot, 12)
    db.session.rollback()  # hold no transaction (on SQLite, no write lock) while they run
    smtp.inbox.delay = 0.02  # keep both senders busy at the same time
    results, errors = [], []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        with app.app_context():
            session = Session(db.engine)
            try:
                start.wait(timeout=10)
                results.append(mailer.send_pending(session, smtp.config(), utcnow(),
                                                   worker=name))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                session.close()

    threads = [threading.Thread(target=run, args=(f"cron-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(sent for sent, _ in results) == 12 and all(f == 0 for _, f in results)
    received = smtp.inbox.message_ids()
    assert len(received) == len(set(received)) == 12


def test_a_message_claimed_by_another_sender_waits_for_its_lease(slot, smtp):
    (message,) = queue_some(slot, 1)
    now = utcnow()
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        locked_until=now + mailer.LEASE, claimed_by="crashed-run"))
    db.session.commit()
    assert deliver(smtp, now) == (0, 0)
    assert deliver(smtp, now + mailer.LEASE + timedelta(seconds=1)) == (1, 0)
    assert len(smtp.inbox.messages) == 1


def test_failures_back_off_exponentially_then_give_up_but_stay_visible(slot, stopped_smtp):
    (message,) = queue_some(slot, 1)
    now = utcnow()
    waits = []
    for attempt in range(1, mailer.MAX_ATTEMPTS + 1):
        assert deliver(stopped_smtp, now) == (0, 1)
        (row,) = outbox()
        assert row.attempts == attempt
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert [w.total_seconds() // 60 for w in waits[:5]] == [1, 2, 4, 8, 16]
    assert max(waits) <= mailer.MAX_BACKOFF + timedelta(seconds=5)
    assert deliver(stopped_smtp, now + timedelta(days=1)) == (0, 0)  # given up
    (row,) = outbox()
    assert row.sent_at is None and row.last_error
    assert mailer.undeliverable_count(db.session) == 1


def test_a_refused_address_gives_up_at_once(slot, smtp):
    queue_some(slot, 2)
    smtp.inbox.refused.add("branch0@example.org")
    assert deliver(smtp) == (1, 1)
    refused = next(m for m in outbox() if m.recipient == "branch0@example.org")
    assert refused.attempts == mailer.MAX_ATTEMPTS and "550" in refused.last_error


def test_send_mail_command_reports_and_fails_when_a_message_failed(app, runner, slot,
                                                                   stopped_smtp):
    queue_some(slot, 2)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(stopped_smtp.port))
    down = runner.invoke(args=["send-mail"])
    assert down.exit_code == 1 and "0 sent, 2 failed" in down.output
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    stopped_smtp.start()
    up = runner.invoke(args=["send-mail"])
    assert up.exit_code == 0 and "2 sent, 0 failed" in up.output
    assert len(stopped_smtp.inbox.messages) == 2


def test_sent_messages_carry_a_stable_message_id_and_the_sender(slot, smtp):
    (message,) = queue_some(slot, 1)
    deliver(smtp)
    (received,) = smtp.inbox.messages
    assert received["Message-ID"].startswith(f"<outbox-{message.id}.")
    assert received["From"].addresses[0].addr_spec == "noreply@lbc.example.cn"
    assert received["From"].addresses[0].display_name == "刘伯承同志纪念馆"
    assert received["Auto-Submitted"] == "auto-generated"


def test_booking_mail_kinds_render_without_a_request(app, slot):
    """Rendering needs only the app context (as under cron), for every kind."""
    booking, token = book(slot)
    booking.state_reason = "测试理由"
    for kind in notifications.BOOKING_MAIL_KINDS:
        message = notifications.queue_booking_mail(db.session, booking, kind,
                                                   "https://booking.example.cn")
        assert message.subject and booking.display_reference in message.body_text
        assert SHANGHAI_PHONE in message.body_text
        if kind in ("received", "confirmed", "reminder", "certificates_ready"):
            assert "https://booking.example.cn/" in message.body_text
        assert "{{" not in message.body_text and "\n\n\n" not in message.body_text
    db.session.rollback()



def test_the_manage_link_leaves_the_outbox_once_the_mail_is_sent(slot, smtp):
    booking, token = workflow.create_booking(db.session, booking_request(slot, 10))
    notifications.queue_new_booking_mail(db.session, booking, token)
    assert token in outbox()[0].body_text                    # needed until it is sent
    assert deliver(smtp) == (1, 0)
    assert token in smtp.inbox.messages[0].get_body(("plain",)).get_content()
    db.session.expire_all()
    kept = outbox()[0]
    assert token not in kept.body_text and "link removed" in kept.body_text
    assert kept.attachment_body == ""
