"""The notification choice and what a text message may say: which channels a message takes,
template variables cut to the providers' limits with no secrets or links, the per-number
daily cap, and the .ics that the "confirmed" e-mail now carries (parsed by icalendar and
vobject, updating the event an earlier file put in a calendar)."""
from __future__ import annotations

import icalendar
import pytest
import vobject
from sqlalchemy import select

from booking.clock import utcnow
from booking.models import OutboxMessage, SmsMessage
from booking.models.db import db
from booking.rules.channels import Channels, channels_for, parse_choice
from booking.rules.sms_content import TEMPLATE_VARIABLES, clean_variable, template_params
from booking.sms import SmsSettings
from booking.sms.gateway import LogGateway
from booking.usecases import bookings, mailer, sms_sender, staff
from tests.fixtures.factories import booking_request


@pytest.mark.parametrize(("choice", "email", "expected"), [
    ("sms", "a@example.org", Channels(email=False, sms=True)),
    ("email", "a@example.org", Channels(email=True, sms=False)),
    ("both", "a@example.org", Channels(email=True, sms=True)),
    ("email", "", Channels(email=False, sms=True)),   # nobody is left without messages
    ("both", "", Channels(email=False, sms=True)),
])
def test_the_choice_and_the_addresses_given_decide_the_channels(choice, email, expected):
    assert channels_for(choice, email, "13812341234") == expected


def test_sms_is_the_default_when_no_email_is_given():
    assert parse_choice("", "").value == "sms"
    assert parse_choice("", "a@example.org").value == "both"
    assert parse_choice("email", "").value == "sms"
    with pytest.raises(ValueError):
        parse_choice("fax", "")


def test_every_message_a_group_is_owed_has_an_sms_template():
    from booking.usecases.notifications import (
        BOOKING_MAIL_KINDS,
        WAITLIST_CLOSED,
        WAITLIST_OFFER,
    )
    assert set(BOOKING_MAIL_KINDS) | {WAITLIST_OFFER, WAITLIST_CLOSED} == set(TEMPLATE_VARIABLES)


def test_template_variables_are_cut_to_the_providers_limit_and_carry_no_link():
    assert clean_variable("x" * 40) == "x" * 14 + "…"
    assert "http" not in clean_variable("见 https://evil.example/manage/abc 详情")
    assert clean_variable("【广告】{x}") == "广告 x"
    assert clean_variable("") == "-"
    assert list(template_params("declined", {"ref": "AB12-3456", "date": "2026-12-09",
                                             "reason": "r"})) == ["ref", "date", "reason"]


def test_settings_take_template_codes_from_the_environment_style_keys():
    keys = {"SMS_SIGN_NAME": "开州博物馆", "SMS_ACCESS_KEY_ID": "id", "SMS_ACCESS_KEY_SECRET": "s",
            "SMS_SDK_APP_ID": "1400000001"}
    settings = SmsSettings.from_config({"SMS_PROVIDER": "Tencent", "SMS_TEMPLATE_CONFIRMED": "1234",
                                        "SMS_TEMPLATES": {"reminder": "5678"},
                                        "SMS_DAILY_CAP": "3", **keys})
    assert (settings.provider, settings.daily_cap) == ("tencent", 3)
    assert settings.template_for("confirmed") == "1234"
    assert settings.template_for("reminder") == "5678"
    with pytest.raises(ValueError):
        SmsSettings.from_config({"SMS_PROVIDER": "carrier-pigeon"})
    with pytest.raises(ValueError, match="SMS_SDK_APP_ID"):
        SmsSettings.from_config({"SMS_PROVIDER": "tencent", **keys, "SMS_SDK_APP_ID": ""})


def test_send_sms_sends_through_the_log_provider_and_refuses_a_half_configured_one(
        app, runner, create_slot):
    book(create_slot(), contact_email="")
    result = runner.invoke(args=["send-sms"])
    assert result.exit_code == 0 and "SMS (log): 1 sent, 0 failed" in result.output
    app.config["SMS_PROVIDER"] = "aliyun"
    result = runner.invoke(args=["send-sms"])
    assert result.exit_code != 0 and "SMS_ACCESS_KEY_ID" in result.output


def book(slot, **kw):
    booking, token = bookings.book(db.session, booking_request(slot, 10, **kw))
    db.session.commit()
    return booking, token


def test_a_phone_gets_at_most_the_daily_cap_and_the_rest_waits_for_tomorrow(app, create_slot):
    slot = create_slot()
    for _ in range(3):
        book(slot, contact_email="", contact_phone="13812341234")
    gateway, settings = LogGateway(), SmsSettings(daily_cap=2)
    now = utcnow()
    assert sms_sender.send_pending_sms(db.session, gateway, settings, now) == (2, 0)
    assert sms_sender.send_pending_sms(db.session, gateway, settings, now) == (0, 0)
    held = db.session.scalars(select(SmsMessage).where(SmsMessage.sent_at.is_(None))).one()
    assert held.last_error == sms_sender.DAILY_CAP_ERROR and held.attempts == 0
    assert sms_sender.send_pending_sms(db.session, gateway, settings,
                                       held.next_attempt_at) == (1, 0)
    assert len(gateway.sent) == 3


def test_a_kind_without_a_configured_template_is_given_up_and_recorded(app, create_slot):
    book(create_slot(), contact_email="")

    class Refuses:
        name = "aliyun"

        def send(self, request):
            raise AssertionError("must not be sent without a template")

    settings = SmsSettings(provider="aliyun", templates={})
    assert sms_sender.send_pending_sms(db.session, Refuses(), settings, utcnow()) == (0, 1)
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.attempts == mailer.MAX_ATTEMPTS and "SMS_TEMPLATE_CONFIRMED" in message.last_error


def test_email_only_sends_no_sms_and_sms_only_sends_no_email(app, create_slot):
    slot = create_slot()
    book(slot, contact_email="a@example.org", notify_by="email")
    book(slot, contact_email="b@example.org", notify_by="sms")
    db.session.expire_all()
    assert [m.recipient for m in db.session.scalars(select(OutboxMessage))] == ["a@example.org"]
    assert len(db.session.scalars(select(SmsMessage)).all()) == 1


def test_the_confirmed_email_carries_the_ics_that_updates_the_earlier_file(
        app, client, create_slot, create_user):
    slot = create_slot(requires_approval=True)
    booking, token = book(slot, contact_email="a@example.org", notify_by="email")
    earlier = client.get(f"/manage/{booking.reference}/{token}/booking.ics", follow_redirects=True).data
    staff.approve(db.session, booking, create_user("clerk"))
    db.session.commit()
    confirmed = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "confirmed")).one()
    assert confirmed.booking_id == booking.id
    assert "日历文件" in confirmed.body_text
    email = mailer.build_email(confirmed, "museum <noreply@example.org>")
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    body = attachment.get_content()
    body = body.decode("utf-8") if isinstance(body, bytes) else body
    old = icalendar.Calendar.from_ical(earlier).walk("VEVENT")[0]
    new = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(new["UID"]) == str(old["UID"])
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert str(new["STATUS"]) == "CONFIRMED" and str(old["STATUS"]) == "TENTATIVE"
    parsed = vobject.readOne(body)
    assert parsed.vevent.uid.value == str(old["UID"])
    assert int(parsed.vevent.sequence.value) == int(new["SEQUENCE"])
    assert token not in body


def test_a_gateway_that_breaks_leaves_the_message_queued_for_a_retry(app, create_slot):
    book(create_slot(), contact_email="")

    class Broken:
        name = "aliyun"

        def send(self, request):
            raise RuntimeError("SDK bug")

    now = utcnow()
    assert sms_sender.send_pending_sms(db.session, Broken(), SmsSettings(), now) == (0, 1)
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.attempts == 1 and "SDK bug" in message.last_error
    assert message.locked_until is None and message.next_attempt_at > now
