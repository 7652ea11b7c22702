"""A group books a session through the real UI in headless Chromium, on a phone and a desktop.

The app runs in a background thread on a free port with a temporary SQLite database holding
the demo world. Screenshots of the calendar and the form, in both languages and both sizes,
are written to $SCREENSHOT_DIR (or the test's temporary directory) for people to look at.
"""
from __future__ import annotations

import re

import pytest

from tests.fixtures.browser import DESKTOP, PHONE, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402


def _open_a_bookable_day(page: Page) -> None:
    """From a venue calendar, open the first day with seats, moving on a month if needed."""
    for _ in range(3):
        bookable = page.locator("li.day.state-available a.day-link, li.day.state-few_left a.day-link")
        if bookable.count():
            bookable.first.click()
            return
        page.locator("a[rel=next]").click()
    raise AssertionError("no bookable day within three months")


def _reference_in_database(app, reference: str) -> bool:
    from sqlalchemy import select

    from booking.models import Booking
    from booking.models.db import db
    from booking.rules.tokens import normalise_reference

    with app.app_context():
        found = db.session.scalar(select(Booking).filter_by(
            reference=normalise_reference(reference)))
        return found is not None


@pytest.mark.parametrize(("language", "viewport"), [("zh", PHONE), ("en", DESKTOP)],
                         ids=["zh-phone", "en-desktop"])
def test_a_group_books_a_session_through_the_ui_and_gets_a_reference(demo_server, browser,
                                                                     language, viewport):
    base_url, app = demo_server
    page = new_page(browser, base_url, language, viewport)
    page.goto(base_url + "/")

    page.locator("#venue-lbc a.button").first.click()  # the venue's booking calendar
    expect(page.locator("h1")).to_be_visible()
    _open_a_bookable_day(page)
    page.locator("a.button[href*='/book']").first.click()

    page.fill("#organisation_name", "开州区汉丰街道第一党支部")
    page.select_option("#organisation_kind", "party_organisation")
    page.fill("#contact_name", "王建国")
    page.fill("#contact_phone", "13812341234")
    page.fill("#party_size", "12")
    page.fill("#attendees", "张三\n李四")
    page.check("#consent")
    page.locator("form.booking-form button[type=submit]").click()

    reference = page.locator("[data-reference]")
    expect(reference).to_be_visible()
    text = reference.inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", text)
    assert _reference_in_database(app, text)

    page.locator("[data-manage-link]").click()  # the secret link opens the manage page
    expect(page.locator("h1")).to_contain_text(text)
    page.context.close()


def test_screenshots_of_calendar_and_form_in_both_languages_and_sizes(demo_server, browser,
                                                                     screenshot_dir):
    base_url, _ = demo_server
    for language in ("zh", "en"):
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = new_page(browser, base_url, language, viewport)
            page.goto(base_url + "/venues/LBC/calendar")
            _open_a_bookable_day(page)
            calendar_url = page.url  # the day view; shoot its month too
            page.go_back()
            page.screenshot(path=screenshot_dir / f"calendar-{language}-{name}.png",
                            full_page=True)
            page.goto(calendar_url)
            page.locator("a.button[href*='/book']").first.click()
            page.screenshot(path=screenshot_dir / f"form-{language}-{name}.png", full_page=True)
            page.locator("form.booking-form button[type=submit]").click()  # empty: errors
            expect(page.locator(".error-summary")).to_be_visible()
            page.screenshot(path=screenshot_dir / f"form-errors-{language}-{name}.png",
                            full_page=True)
            # nothing overflows sideways on a phone
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{language} {name}: page scrolls sideways by {overflow}px"
            page.context.close()
    assert len(list(screenshot_dir.glob("*.png"))) >= 12
