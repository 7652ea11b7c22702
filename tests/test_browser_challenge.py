"""In headless Chromium with the Content-Security-Policy on, a client past the soft threshold
sees the ALTCHA widget on the booking form; the widget solves the challenge by itself in its
worker and the booking goes through, without one CSP violation in the console."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from booking.models import Booking
from booking.models.db import db
from tests.fixtures.browser import PHONE, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)


@pytest.fixture
def app_config() -> dict:
    return {"RATELIMIT_ENABLED": True, "CHALLENGE_AFTER": "1 per hour",
            "BOOKING_RATE_LIMIT": "100 per minute", "ALTCHA_COST": 100,
            "ALTCHA_COUNTER_MAX": 200}


def _watch(page, problems: list[str]):
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


def _fill(page, phone: str):
    page.fill("#organisation_name", "开州区汉丰街道第一党支部")
    page.select_option("#organisation_kind", "party_organisation")
    page.fill("#contact_name", "王建国")
    page.fill("#contact_phone", phone)
    page.fill("#party_size", "12")
    page.check("#consent")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_widget_solves_under_the_csp_and_the_booking_goes_through(
        app, create_slot, live_server, browser, screenshot_dir, language):
    from playwright.sync_api import expect

    slot_id = create_slot().id
    db.session.commit()             # the test holds no transaction while the server writes
    page = new_page(browser, live_server, language, PHONE)
    problems: list[str] = []
    _watch(page, problems)
    response = page.goto(f"{live_server}/slots/{slot_id}/book")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator("altcha-widget")).to_have_count(0)      # below the threshold
    page.locator("form.booking-form button[type=submit]").click()  # one (empty) attempt
    expect(page.locator("altcha-widget")).to_be_visible()
    expect(page.locator("[data-needs-script]")).to_be_hidden()   # JavaScript runs here
    _fill(page, "13812341234")
    # The widget fills its hidden field once it has solved the challenge in its worker.
    expect(page.locator("input[name=altcha]")).not_to_have_value("", timeout=60_000)
    page.screenshot(path=str(screenshot_dir / f"challenge-solved-{language}.png"), full_page=True)
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator("[data-reference]")).to_be_visible()
    assert re.search(r"/bookings/[A-Z2-9-]+/confirmation", page.url)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert not problems, problems
    page.context.close()


def test_without_javascript_the_form_says_the_check_needs_it(
        app, create_slot, live_server, browser, screenshot_dir):
    from playwright.sync_api import expect

    slot_id = create_slot().id
    db.session.commit()             # the test holds no transaction while the server writes
    page = new_page(browser, live_server, "zh", PHONE, java_script_enabled=False)
    page.goto(f"{live_server}/slots/{slot_id}/book")
    page.locator("form.booking-form button[type=submit]").click()  # one (empty) attempt
    expect(page.get_by_text("此项验证需要启用浏览器的 JavaScript")).to_be_visible()
    _fill(page, "13812341234")
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.get_by_text("请等待下方的人机验证完成").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "challenge-no-js.png"), full_page=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    page.context.close()
