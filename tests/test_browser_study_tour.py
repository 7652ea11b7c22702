"""A school books a study tour through the public form in headless Chromium (CSRF on): the
form asks for adults and minors, refuses one adult for eleven pupils naming the two needed,
and books once a second adult comes along.

Screenshots of the study-tour form (and its refusal) in both languages go to $SCREENSHOT_DIR
or the test's temporary directory.
"""
from __future__ import annotations

import pytest

from tests.fixtures.browser import DESKTOP, PHONE, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from booking.models import Booking  # noqa: E402
from booking.models.db import db  # noqa: E402

STUDY_TOUR = dict(title="传承红色基因 接续百年奋斗 青少年研学",
                  title_en="Passing on the Red Gene: a youth study tour",
                  programme="youth-study-tour", kind="study_tour", party_size_min=10,
                  party_size_max=50)
REFUSAL = {"zh": "11 名学生至少需要 2 名成人，现有 1 名",
           "en": "11 pupils need at least 2 adults, and the group has 1"}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def booked() -> list[tuple[int, int | None, int | None]]:
    """The bookings' (party size, adults, minors); the read's transaction ends at once, or on
    SQLite (BEGIN IMMEDIATE) it would hold the lock the server needs to book."""
    db.session.expire_all()
    rows = [tuple(row) for row in db.session.execute(
        select(Booking.party_size, Booking.adults, Booking.minors))]
    db.session.commit()
    return rows


@pytest.mark.parametrize(("language", "viewport"), [("zh", PHONE), ("en", DESKTOP)],
                         ids=["zh-phone", "en-desktop"])
def test_a_school_books_a_study_tour_after_the_ratio_error(live_server, browser, create_slot,
                                                           screenshot_dir, language, viewport):
    slot_id = create_slot(capacity=50, **STUDY_TOUR).id
    db.session.commit()
    page = new_page(browser, live_server, language, viewport)
    page.goto(f"{live_server}/slots/{slot_id}/book")
    expect(page.locator("#party_size")).to_have_count(0)
    page.screenshot(path=screenshot_dir / f"study-tour-form-{language}.png", full_page=True)

    page.fill("#organisation_name", "开州区实验小学")
    page.select_option("#organisation_kind", "school")
    page.fill("#contact_name", "李老师")
    page.fill("#contact_phone", "13912345678")
    page.fill("#adults", "1")
    page.fill("#minors", "11")
    page.check("#consent")
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator("#adults-error")).to_contain_text(REFUSAL[language])
    expect(page.locator(".error-summary")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"study-tour-refused-{language}.png", full_page=True)
    assert booked() == []

    page.fill("#adults", "2")
    page.check("#consent")
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator("[data-reference]")).to_be_visible()
    assert booked() == [(13, 2, 11)]
    page.context.close()
