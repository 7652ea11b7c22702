"""Acceptance, in headless Chromium with CSRF on: a group uploads its introduction letter on
the booking form; staff see it on the approval page and open it.

Screenshots (the form with the upload field, the approval page; zh and en) go to
$SCREENSHOT_DIR or the test's temporary directory.
"""
from __future__ import annotations

import io

import pytest

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, browser_skip_reason

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from booking.models import Booking, Role  # noqa: E402
from booking.models.db import db  # noqa: E402

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _letter_png() -> bytes:
    image = Image.new("RGB", (600, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 580, 380), outline="black", width=3)
    draw.text((60, 60), "Introduction letter / jieshaoxin", fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_group_uploads_a_letter_and_staff_open_it_from_the_approval_page(
        app, live_server, tmp_path, create_slot, create_user, screenshot_dir):
    slot = create_slot(requires_letter=True, requires_approval=True)
    create_user("desk", Role.STAFF)
    slot_id = slot.id
    db.session.commit()
    letter = tmp_path / "介绍信.png"
    letter.write_bytes(_letter_png())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        for language in ("en", "zh"):
            context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
            page.goto(f"{live_server}/slots/{slot_id}/book")
            expect(page.locator("input[name=letter]")).to_be_visible()
            page.locator("input[name=letter]").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot_dir / f"letter-form-{language}.png"),
                            full_page=True)
        page.fill("#organisation_name", "开州区汉丰街道党工委")
        page.select_option("#organisation_kind", "party_organisation")
        page.fill("#contact_name", "王建国")
        page.fill("#contact_phone", "13812341234")
        page.fill("#contact_email", "wang@example.org")
        page.fill("#party_size", "12")
        page.set_input_files("input[name=letter]", str(letter))
        page.check("#consent")
        page.locator("form.booking-form button[type=submit]").click()
        expect(page.locator("[data-manage-link]")).to_be_visible()

        db.session.expire_all()
        booking = db.session.scalars(select(Booking)).one()
        assert booking.letter_type == "png" and booking.is_pending
        reference = booking.reference
        db.session.commit()  # end the test's read, or SQLite blocks the server's writes

        staff = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
        staff.goto(f"{live_server}/staff/login")
        staff.fill("#username", "desk")
        staff.fill("#password", PASSWORD)
        staff.locator("form button[type=submit]").click()
        expect(staff.locator(".staff-user-name")).to_be_visible()
        for language in ("en", "zh"):
            staff.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
            staff.goto(f"{live_server}/staff/approvals")
            expect(staff.locator(f"#booking-{reference} dd.letter")).to_contain_text("PNG")
            staff.screenshot(path=str(screenshot_dir / f"letter-approvals-{language}.png"),
                             full_page=True)
        with staff.context.expect_page() as opened:
            staff.locator(f"#booking-{reference} dd.letter a").click()
        letter_page = opened.value
        response = letter_page.wait_for_load_state() or letter_page.request.get(letter_page.url)
        assert response.status == 200 and response.body() == letter.read_bytes()
        assert response.headers["content-type"] == "image/png"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        letter_page.screenshot(path=str(screenshot_dir / "letter-opened.png"))
        # Signed out, the same address shows nothing.
        anonymous = browser.new_context().new_page()
        anonymous.goto(letter_page.url)
        assert "/staff/login" in anonymous.url
        browser.close()
