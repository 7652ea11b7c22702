"""SMS: every message a group is owed reaches it by text through the provider's own SDK,
talking to a local stand-in of the provider's API that checks the request signature as the
provider does (tests/fixtures/sms_providers.py). Throttling is retried, a bad number is given
up at once, a provider that is down loses nothing, and overlapping senders never send twice."""
from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import at_local, utcnow
from booking.models import OutboxMessage, SmsMessage, WaitlistEntry
from booking.models.db import db
from booking.rules import waitlist as waitlist_rules
from booking.rules.sms_content import TEMPLATE_VARIABLES
from booking.sms import gateway_for
from booking.usecases import bookings, mailer, notifications, sms_sender, staff
from tests.fixtures.factories import booking_request
from tests.fixtures.sms_providers import INVALID_NUMBER, INVALID_TEMPLATE, THROTTLED

pytestmark = pytest.mark.slow  # a local HTTP server per provider


def sms_outbox() -> list[SmsMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def send(provider, now=None, **settings):
    db.session.commit()
    config = provider.settings(**settings)
    return sms_sender.send_pending_sms(db.session, gateway_for(config), config, now or utcnow())


@pytest.fixture
def slot(create_slot):
    return create_slot(requires_approval=True)


def book_by_sms(slot, phone="13812341234", party_size=10, **kw):
    booking, token = bookings.book(db.session, booking_request(
        slot, party_size, contact_email="", contact_phone=phone, **kw))
    db.session.commit()
    return booking, token


def test_every_message_kind_arrives_once_signed_as_the_provider_checks(
        sms_provider, slot, create_user, create_slot):
    clerk = create_user("clerk")
    first, token = book_by_sms(slot, "13800000001")                 # received
    staff.approve(db.session, first, clerk)                         # confirmed
    second, _ = book_by_sms(slot, "13800000002")
    staff.decline(db.session, second, clerk, "当天场馆检修，请改约其他日期再来参观学习")  # declined
    third, _ = book_by_sms(slot, "13800000003")
    bookings.cancel_by_organisation(db.session, third, "行程变更")   # cancelled
    notifications.queue_booking_mail(db.session, first, "reminder")
    notifications.queue_booking_mail(db.session, first, "changed")   # staff edited it
    notifications.queue_booking_mail(db.session, first, "moved")     # staff moved it
    notifications.queue_certificates_ready(db.session, [first])
    full = create_slot(start=time(14, 0), capacity=10)
    holder, _ = book_by_sms(full, "13800000004")
    entry, _ = waitlist_rules.join_waitlist(db.session, full, waitlist_rules.WaitlistRequest(
        organisation=booking_request(full).organisation, contact_name="李明",
        contact_phone="13800000005", party_size=5))
    db.session.commit()
    bookings.cancel_by_organisation(db.session, holder)             # cancelled + waitlist_offer
    staff.cancel_by_museum(db.session, slot, "防汛应急闭馆", clerk)  # cancelled_by_museum
    staff.cancel_by_museum(db.session, full, "防汛应急闭馆", clerk)  # waitlist_closed, …
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage)).all() == []    # no e-mail address given

    queued = sms_outbox()
    assert send(sms_provider) == (len(queued), 0)
    assert send(sms_provider, utcnow() + timedelta(days=1)) == (0, 0)  # nothing twice
    assert sms_provider.bad_signatures == 0
    assert set(sms_provider.kinds()) == set(TEMPLATE_VARIABLES)
    assert len(sms_provider.delivered) == len(queued)
    assert len({m["out_id"] for m in sms_provider.delivered}) == len(queued)
    for message in sms_provider.delivered:
        assert message["sign"] == "刘伯承同志纪念馆"
        values = message["params"]
        values = list(values.values()) if isinstance(values, dict) else values
        assert len(values) == len(TEMPLATE_VARIABLES[message["template"][4:].lower()])
        assert all(0 < len(value) <= 15 for value in values)
        assert token not in "".join(values) and "http" not in "".join(values)
    declined = next(m for m in sms_provider.delivered if m["template"] == "TPL_DECLINED")
    reason = (declined["params"]["reason"] if isinstance(declined["params"], dict)
              else declined["params"][2])
    assert reason.startswith("当天场馆检修") and reason.endswith("…")
    assert all(m.sent_at and m.provider == sms_provider.name and m.provider_message_id
               for m in sms_outbox())


def test_a_wrongly_signed_call_is_refused_and_the_message_kept(sms_provider, slot):
    book_by_sms(slot)
    assert send(sms_provider, access_key_secret="not-the-secret") == (0, 1)
    assert sms_provider.delivered == [] and sms_provider.bad_signatures == 1
    (message,) = sms_outbox()
    assert message.sent_at is None and message.attempts == 1
    assert "Signature" in message.last_error
    assert send(sms_provider, utcnow() + timedelta(minutes=2)) == (1, 0)


def test_a_throttled_message_is_retried_later_and_then_sent(sms_provider, slot):
    book_by_sms(slot)
    sms_provider.script.append(THROTTLED)
    now = utcnow()
    assert send(sms_provider, now) == (0, 1)
    (message,) = sms_outbox()
    assert (message.attempts, message.sent_at) == (1, None)
    assert "LIMIT" in message.last_error.upper()
    assert send(sms_provider, now + timedelta(seconds=30)) == (0, 0)  # backing off
    assert send(sms_provider, now + timedelta(minutes=2)) == (1, 0)
    assert sms_provider.kinds() == ["received"]


@pytest.mark.parametrize(("answer", "recorded"), [
    (INVALID_NUMBER, ("MOBILE_NUMBER_ILLEGAL", "IncorrectPhoneNumber")),
    (INVALID_TEMPLATE, ("SMS_TEMPLATE_ILLEGAL", "TemplateIncorrectOrUnapproved")),
])
def test_an_invalid_number_or_template_is_given_up_at_once_and_recorded(
        sms_provider, slot, answer, recorded):
    book_by_sms(slot)
    sms_provider.script.append(answer)
    assert send(sms_provider) == (0, 1)
    (message,) = sms_outbox()
    assert message.attempts == mailer.MAX_ATTEMPTS and message.sent_at is None
    assert any(code in message.last_error for code in recorded)
    assert send(sms_provider, utcnow() + timedelta(days=2)) == (0, 0)
    assert sms_provider.calls == 1
    assert sms_sender.undeliverable_sms_count(db.session) == 1


def test_a_provider_that_is_down_loses_nothing_and_delivers_everything_when_back(
        sms_provider, slot):
    phones = [f"1380000{n:04d}" for n in range(4)]
    for phone in phones:
        book_by_sms(slot, phone)
    sms_provider.down = True
    now = utcnow()
    assert send(sms_provider, now) == (0, 4)
    assert send(sms_provider, now + timedelta(minutes=2)) == (0, 4)
    sms_provider.down = False
    assert send(sms_provider, now + timedelta(minutes=5)) == (4, 0)
    assert sorted(sms_provider.phones()) == phones
    assert all(message.sent_at for message in sms_outbox())


def test_two_overlapping_senders_never_send_a_message_twice(app, sms_provider, slot):
    for n in range(8):
        book_by_sms(slot, f"1390000{n:04d}", party_size=2)
    db.session.rollback()
    sms_provider.delay = 0.05  # keep both senders busy at the same time
    config = sms_provider.settings()
    results, errors = [], []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        with app.app_context():
            session = Session(db.engine)
            try:
                start.wait(timeout=10)
                results.append(sms_sender.send_pending_sms(
                    session, gateway_for(config), config, utcnow(), worker=name))
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
    assert sum(sent for sent, _ in results) == 8 and all(f == 0 for _, f in results)
    out_ids = [message["out_id"] for message in sms_provider.delivered]
    assert len(out_ids) == len(set(out_ids)) == 8


def test_a_group_without_email_hears_of_approval_decline_museum_cancellation_and_reminder(
        sms_provider, create_slot, create_user):
    clerk = create_user("clerk")
    day_slot = create_slot(requires_approval=True)
    approved, _ = book_by_sms(day_slot, "13700000001")
    declined, _ = book_by_sms(day_slot, "13700000002")
    staff.approve(db.session, approved, clerk)
    staff.decline(db.session, declined, clerk, "人数超出讲解安排")
    evening_before = at_local(day_slot.day - timedelta(days=1), time(18, 0))
    assert notifications.queue_reminders(db.session, evening_before) == 1
    db.session.commit()
    other = create_slot(start=time(14, 0))
    cancelled, _ = book_by_sms(other, "13700000003")
    staff.cancel_by_museum(db.session, other, "设备检修", clerk)
    db.session.commit()
    send(sms_provider)
    by_phone = {}
    for message in sms_provider.delivered:
        by_phone.setdefault(message["phone"], []).append(message["template"])
    assert by_phone["13700000001"] == ["TPL_RECEIVED", "TPL_CONFIRMED", "TPL_REMINDER"]
    assert by_phone["13700000002"] == ["TPL_RECEIVED", "TPL_DECLINED"]
    assert by_phone["13700000003"] == ["TPL_CONFIRMED", "TPL_CANCELLED_BY_MUSEUM"]
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(WaitlistEntry)).all() == []
