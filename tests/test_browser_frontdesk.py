"""Acceptance, in headless Chromium with CSRF on: the front desk books a group that phoned,
moves it to another day and cancels it (the mails arrive over SMTP, and a waiting group gets
the freed seats); at the door a fake camera shows a pass and the group is checked in.

Screenshots (staff search, the door page on a phone in both languages) go to
$SCREENSHOT_DIR or the test's temporary directory.
"""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, browser_skip_reason
from tests.fixtures.factories import next_open_day

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from booking.clock import MUSEUM_TZ, local, utcnow  # noqa: E402
from booking.models import Booking, BookingState, OrganisationKind, Role  # noqa: E402
from booking.models.db import db  # noqa: E402
from booking.rules import capacity  # noqa: E402
from booking.rules.waitlist import WaitlistRequest, join_waitlist  # noqa: E402
from booking.rules.workflow import OrganisationDetails  # noqa: E402
from tests.test_notifications import SmtpServer  # noqa: E402

PASSWORD = "correct horse battery"
ORG_EMAIL, WAITING_EMAIL = "dangan@example.org", "school@example.org"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".staff-user-name")).to_be_visible()


def _launch(playwright, *extra_args: str):
    return playwright.chromium.launch(executable_path=CHROMIUM,
                                      args=[*CHROMIUM_ARGS, *extra_args])


# --- the front desk -------------------------------------------------------------------------

def test_staff_book_by_phone_move_and_cancel_and_the_mails_arrive(
        app, live_server, runner, smtp, create_venue, create_slot, create_booking, create_user,
        screenshot_dir):
    venue = create_venue(weekly_closed_day=None)
    first = create_slot(venue, day=next_open_day(7), capacity=30)
    second = create_slot(venue, day=next_open_day(9), start=time(14, 0), capacity=30)
    create_booking(first, 20, organisation_name="开州区文峰街道党工委")
    create_user("desk", Role.STAFF)
    first_id, second_id = first.id, second.id
    db.session.commit()

    with sync_playwright() as playwright:
        browser = _launch(playwright)
        page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
        _sign_in(page, live_server, "desk")
        page.locator("nav a", has_text="代为预约").click()
        page.select_option("#slot", str(first_id))
        page.fill("#organisation_name", "开州区档案馆党支部")
        page.select_option("#organisation_kind", "party_organisation")
        page.fill("#contact_name", "周老师")
        page.fill("#contact_phone", "137 1234 5678")
        page.fill("#contact_email", ORG_EMAIL)
        page.fill("#party_size", "10")
        page.locator("form.stack-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text("开州区档案馆党支部")

        with app.app_context():  # the session is full now: a school queues for it
            join_waitlist(db.session, db.session.get(type(first), first_id), WaitlistRequest(
                organisation=OrganisationDetails(name="开州中学", kind=OrganisationKind.SCHOOL),
                contact_name="李老师", contact_phone="13912345678", party_size=8,
                contact_email=WAITING_EMAIL))
            db.session.commit()

        page.locator("a.button", has_text="改期").click()
        page.select_option("#slot", str(second_id))
        page.locator("form.stack-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text("改到")
        page.locator("a.button", has_text="取消预约").click()
        page.fill("#reason", "单位来电：活动延期")
        page.locator("form.stack-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text("已取消")

        page.goto(live_server + "/staff/search?q=5678")
        expect(page.locator("table.search-results")).to_contain_text("开州区档案馆党支部")
        page.screenshot(path=screenshot_dir / "staff-search-zh.png", full_page=True)
        browser.close()

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port))
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    to_org = [m["Subject"] for m in smtp.inbox.messages if m["To"] == ORG_EMAIL]
    assert [s.split("：")[0] for s in to_org] == ["预约已确认", "预约场次已调整", "场馆已取消您的预约"]
    offers = [m for m in smtp.inbox.messages if m["To"] == WAITING_EMAIL]
    assert len(offers) == 1 and "8" in offers[0].get_body().get_content()
    with app.app_context():
        booking = db.session.scalars(select(Booking).where(
            Booking.contact_email == ORG_EMAIL)).one()
        assert (booking.state, booking.slot_id, booking.seats) == (
            BookingState.CANCELLED, second_id, 0)
        assert capacity.find_drift(db.session) == []


# --- the door, with a fake camera ------------------------------------------------------------

def write_y4m(path, text: str, width: int = 640, height: int = 480, frames: int = 10) -> None:
    """A Y4M video (4:2:0) of ``text``'s QR code on a grey background, for Chromium's fake
    camera: a text header, then per frame the raw Y, U and V planes."""
    import qrcode
    from PIL import Image

    code = qrcode.QRCode(border=4, box_size=8)
    code.add_data(text)
    code.make(fit=True)
    qr = code.make_image(fill_color="black", back_color="white").convert("L")
    side = min(height - 40, qr.size[0])
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (width, height), 160)
    frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    luma, chroma = frame.tobytes(), bytes([128]) * (width // 2 * height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def _today_start() -> time:
    now = local(utcnow(), MUSEUM_TZ)
    start = max(now - timedelta(minutes=10), now.replace(hour=0, minute=0, second=0))
    return time(start.hour, start.minute)


@pytest.fixture
def door_scene(create_venue, create_slot, book_ahead, create_user):
    venue = create_venue(weekly_closed_day=None)
    today = create_slot(venue, day=local(utcnow(), MUSEUM_TZ).date(), start=_today_start(),
                        capacity=30)
    group = book_ahead(today, 12, organisation_name="开州区汉丰街道党工委")
    later = book_ahead(create_slot(venue, day=next_open_day(8), capacity=30), 15,
                       organisation_name="开州区文峰街道党工委")
    create_user("desk", Role.STAFF)
    scene = group.id, group.pass_code, later.id, later.pass_code
    db.session.commit()  # ends the test's read transaction too: SQLite lets the server write
    return scene


def _scan(playwright, tmp_path, base_url: str, pass_code: str, language: str = "zh"):
    video = tmp_path / f"pass-{pass_code[:6]}.y4m"
    write_y4m(video, pass_code)
    browser = _launch(playwright, "--use-fake-ui-for-media-stream",
                      "--use-fake-device-for-media-stream",
                      f"--use-file-for-fake-video-capture={video}")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
    page = context.new_page()
    _sign_in(page, base_url, "desk")
    page.goto(base_url + "/staff/door")
    expect(page.locator("[data-door-card]")).to_be_visible(timeout=20_000)
    return browser, page


def test_a_pass_scanned_by_the_door_camera_checks_the_group_in(
        app, live_server, door_scene, tmp_path, screenshot_dir):
    group_id, pass_code, _, _ = door_scene
    with sync_playwright() as playwright:
        browser, page = _scan(playwright, tmp_path, live_server, pass_code)
        card = page.locator("[data-door-card]")
        expect(card).to_contain_text("开州区汉丰街道党工委")
        expect(page.locator("#headcount")).to_have_value("12")
        page.screenshot(path=screenshot_dir / "door-phone-zh.png", full_page=True)
        page.locator("[data-check-in]").click()
        expect(page.locator(".flash-success")).to_contain_text("已签到")
        page.locator("a", has_text="在接待表中查看").click()
        expect(page.locator("body")).to_contain_text("已签到")
        browser.close()
    with app.app_context():
        booking = db.session.get(Booking, group_id)
        assert (booking.state, booking.arrived_count) == (BookingState.CHECKED_IN, 12)


def test_a_pass_for_another_day_shows_the_warning_and_changes_nothing(
        app, live_server, door_scene, tmp_path, screenshot_dir):
    _, _, later_id, later_code = door_scene
    with sync_playwright() as playwright:
        browser, page = _scan(playwright, tmp_path, live_server, later_code, language="en")
        expect(page.locator("[data-warning=wrong_day]")).to_be_visible()
        expect(page.locator("[data-check-in]")).to_have_count(0)
        page.screenshot(path=screenshot_dir / "door-phone-en-wrong-day.png", full_page=True)
        browser.close()
    with app.app_context():
        booking = db.session.get(Booking, later_id)
        assert (booking.state, booking.arrived_count) == (BookingState.CONFIRMED, None)
