"""Where people meet the SMS channel: the booking and waiting-list forms ask how to notify
(SMS when no e-mail is given), the API takes the same choice, and staff see on a booking's
page which messages went out by which channel, when, and how it went."""
from __future__ import annotations

import re

from sqlalchemy import select

from booking.clock import utcnow
from booking.models import Booking, Role, SmsMessage, WaitlistEntry
from booking.models.db import db
from booking.sms import SmsSettings
from booking.sms.gateway import LogGateway
from booking.usecases import sms_sender


def form_data(**overrides) -> dict:
    data = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
            "credit_code": "", "contact_name": "王建国", "contact_phone": "13812341234",
            "contact_email": "", "party_size": "12", "attendees": "", "notes": "",
            "consent": "y"}
    data.update(overrides)
    return data


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_the_booking_form_offers_sms_email_or_both(client, create_slot):
    page = client.get(f"/slots/{create_slot().id}/book?lang=zh").get_data(as_text=True)
    for value, label in (("sms", "短信"), ("email", "电子邮件"), ("both", "短信和电子邮件")):
        assert re.search(rf'value="{value}"[^>]*>\s*<span>{label}</span>', page)
    assert "通知方式" in page


def test_a_booking_without_email_is_notified_by_sms(client, create_slot):
    response = client.post(f"/slots/{create_slot().id}/book", data=form_data(),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.notify_by == "sms"
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    manage = re.search(r'href="[^"]*(/manage/[^"]+)"', confirmation).group(1)
    assert "通知方式 短信" in text_of(client.get(manage + "?lang=zh", follow_redirects=True))
    (message,) = db.session.scalars(select(SmsMessage)).all()
    assert (message.phone, message.kind, message.booking_id) == ("13812341234", "confirmed",
                                                                 booking.id)


def test_choosing_email_without_an_address_is_refused_beside_the_field(client, create_slot):
    response = client.post(f"/slots/{create_slot().id}/book?lang=en",
                           data=form_data(notify_by="email"),
                           content_type="multipart/form-data")
    assert response.status_code in (200, 422)
    assert "To be notified by e-mail, give an e-mail address, or choose SMS." in text_of(response)
    assert db.session.scalar(select(Booking)) is None


def test_the_waiting_list_form_stores_the_choice(client, create_slot):
    slot = create_slot(capacity=12)
    client.post(f"/slots/{slot.id}/book", data=form_data(), content_type="multipart/form-data")
    response = client.post(f"/slots/{slot.id}/waitlist", data=form_data(
        organisation_name="开州中学", contact_phone="13912345678",
        contact_email="school@example.org", notify_by="email"))
    assert response.status_code == 302
    assert db.session.scalar(select(WaitlistEntry)).notify_by == "email"


def api_body(**overrides) -> dict:
    body = {"organisation": {"name": "开州中学", "kind": "school"},
            "contact": {"name": "李明", "phone": "13812341234"}, "party_size": 12,
            "attendees": []}
    body.update(overrides)
    return body


def test_the_api_takes_the_notification_choice_and_refuses_an_unknown_one(client, create_slot):
    slot = create_slot()
    refused = client.post("/api/v1/bookings", json=api_body(slot_id=slot.id, notify_by="fax"))
    assert refused.status_code == 422
    assert "notify_by" in refused.get_json()["error"]["fields"]
    no_address = client.post("/api/v1/bookings", json=api_body(slot_id=slot.id,
                                                               notify_by="email"))
    assert no_address.status_code == 422
    created = client.post("/api/v1/bookings", json=api_body(
        slot_id=slot.id, notify_by="email",
        contact={"name": "李明", "phone": "13812341234", "email": "li@example.org"}))
    assert created.status_code == 201
    assert db.session.scalar(select(Booking)).notify_by == "email"
    assert db.session.scalars(select(SmsMessage)).all() == []


def test_staff_see_each_message_with_its_channel_status_and_error(client, create_slot,
                                                                 create_user, login):
    client.post(f"/slots/{create_slot().id}/book",
                data=form_data(contact_email="wang@example.org", notify_by="both"),
                content_type="multipart/form-data")
    booking = db.session.scalar(select(Booking))
    sms_sender.send_pending_sms(db.session, LogGateway(), SmsSettings(), utcnow())
    login(create_user("clerk", Role.STAFF))
    page = text_of(client.get(f"/staff/bookings/{booking.reference}?lang=zh"))
    assert "通知方式 短信和电子邮件" in page
    assert "通知记录" in page
    assert re.search(r"短信 预约已确认 13812341234 已发送", page)
    assert re.search(r"电子邮件 预约已确认 wang@example.org 待发送", page)
