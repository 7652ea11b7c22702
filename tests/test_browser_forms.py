"""Forms keep what was typed, in headless Chromium with CSRF on (the demo server's config).

A failed booking submit keeps the names read from an uploaded file; a language switch in the
middle of a form keeps its values (public form, manage page, front desk); a refused change on
the manage page is announced at the top with focus, and a reload does not post it again.
Screenshots of the manage page's error state and of a staff booking's history, zh and en.
"""
from __future__ import annotations

import pytest

from tests.fixtures.browser import DESKTOP, PHONE, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

NAMES_CSV = "姓名\n赵六\n钱七\n".encode()
FOCUSED_SUMMARY = "document.activeElement && document.activeElement.matches('.error-summary')"


def _booking_form(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.locator("#venue-lbc a.button").first.click()
    for _ in range(3):
        bookable = page.locator("li.day.state-available a.day-link, "
                                "li.day.state-few_left a.day-link")
        if bookable.count():
            bookable.first.click()
            break
        page.locator("a[rel=next]").click()
    page.locator("a.button[href*='/book']").first.click()
    expect(page.locator("form.booking-form")).to_be_visible()


def _switch_language(page: Page, code: str) -> None:
    page.locator(f".lang-switch a[lang={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if code == "en" else "zh-CN")
    # The new page's lang is there as soon as it is parsed; its deferred forms.js, which puts
    # the draft back, has run only by the load event.
    page.wait_for_load_state("load")


def _organisation_of(app, name: str):
    from sqlalchemy import select

    from booking.models import Booking, Organisation
    from booking.models.db import db
    with app.app_context():
        return db.session.scalars(select(Booking.reference).join(Organisation)
                                  .where(Organisation.name == name)).one()


def _a_slot_next_week(app, page: Page) -> str:
    """An option of the front desk's session list a week or more ahead, with room for 14."""
    from datetime import timedelta

    from booking.clock import utcnow
    from booking.models import Slot
    from booking.models.db import db
    offered = set(page.locator("#slot option").evaluate_all("os => os.map(o => o.value)"))
    with app.app_context():
        for slot in db.session.query(Slot).order_by(Slot.starts_at):
            if (str(slot.id) in offered and slot.starts_at > utcnow() + timedelta(days=7)
                    and slot.seats_left >= 14):
                return str(slot.id)
    raise AssertionError("no session a week ahead with 14 seats free")


@pytest.mark.parametrize(("language", "viewport", "organisation"), [
    ("zh", PHONE, "开州区汉丰街道第二党支部"), ("en", DESKTOP, "开州区汉丰街道第三党支部")],
    ids=["zh-phone", "en-desktop"])
def test_a_group_keeps_its_typing_through_an_error_a_language_switch_and_a_manage_error(
        demo_server, browser, screenshot_dir, language, viewport, organisation):
    base_url, app = demo_server
    page = new_page(browser, base_url, language, viewport)
    _booking_form(page, base_url)

    # 1. A file and another field wrong: the names come back in the list, and it says so.
    page.fill("#organisation_name", organisation)
    page.select_option("#organisation_kind", "party_organisation")
    page.fill("#contact_name", "王建国")
    page.fill("#contact_phone", "12345")
    page.fill("#party_size", "12")
    page.fill("#attendees", "张三")
    page.set_input_files("#attendee_file", files=[
        {"name": "names.csv", "mimeType": "text/csv", "buffer": NAMES_CSV}])
    page.check("#consent")
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator("#contact_phone-error")).to_be_visible()
    assert page.input_value("#attendees").splitlines() == ["张三", "赵六", "钱七"]
    expect(page.locator("#attendees-file-read")).to_contain_text("2")
    page.wait_for_function(FOCUSED_SUMMARY)  # site.js (deferred) moves the focus there

    # 2. Switching language mid-form keeps every value typed so far.
    page.fill("#contact_phone", "13812341234")
    page.fill("#notes", "需要讲解员")
    other = "zh" if language == "en" else "en"
    _switch_language(page, other)
    expect(page.locator("#organisation_name")).to_have_value(organisation)
    expect(page.locator("#organisation_kind")).to_have_value("party_organisation")
    expect(page.locator("#contact_phone")).to_have_value("13812341234")
    expect(page.locator("#notes")).to_have_value("需要讲解员")
    assert page.input_value("#attendees").splitlines() == ["张三", "赵六", "钱七"]
    assert page.is_checked("#consent")
    assert page.evaluate("Object.keys(sessionStorage).length") == 0  # nothing lingers
    page.locator("form.booking-form button[type=submit]").click()
    page.locator("[data-manage-link]").click()
    _switch_language(page, language)

    # 3. A refused change on the manage page: the summary at the top has focus; a reload is a
    #    GET of the manage page (no second POST).
    manage_url = page.url.split("?")[0]
    page.fill("#party_size", "30")
    page.locator("form[action$='/party-size'] button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    page.wait_for_function(FOCUSED_SUMMARY)  # site.js (deferred) moves the focus there
    assert summary.bounding_box()["y"] < viewport["height"] / 2
    expect(page).to_have_url(manage_url)  # forms.js (deferred) puts the page's address back
    page.screenshot(path=str(screenshot_dir / f"manage-error-{language}.png"), full_page=False)
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "party_size"
    methods = []
    page.on("request", lambda request: methods.append(request.method)
            if request.resource_type == "document" else None)
    page.reload()
    assert methods == ["GET"]
    expect(page.locator(".error-summary")).to_have_count(0)

    # The manage page's own forms keep a draft across the switch too.
    page.fill("#attendees", "张三\n李四")
    expect(page.locator("#attendees")).to_have_value("张三\n李四")
    _switch_language(page, other)
    expect(page.locator("#attendees")).to_have_value("张三\n李四")
    page.context.close()


def test_front_desk_keeps_its_values_and_a_booking_history_reads_as_sentences(
        demo_server, browser, screenshot_dir):
    base_url, app = demo_server
    page = new_page(browser, base_url, "zh", DESKTOP)
    page.goto(base_url + "/staff/login")
    page.fill("#username", "staff")
    page.fill("#password", "kaizhou-demo")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".staff-user-name")).to_be_visible()

    page.goto(base_url + "/staff/bookings/new")
    slot = _a_slot_next_week(app, page)
    page.select_option("#slot", slot)
    page.fill("#organisation_name", "开州区档案馆党支部")
    page.select_option("#organisation_kind", "institution")
    page.fill("#contact_name", "周老师")
    page.fill("#contact_phone", "13712345678")
    page.fill("#party_size", "12")
    _switch_language(page, "en")
    assert page.input_value("#slot") == slot
    assert page.input_value("#organisation_name") == "开州区档案馆党支部"
    assert page.input_value("#organisation_kind") == "institution"
    assert page.input_value("#contact_phone") == "13712345678"
    page.locator("form.stack-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    reference = _organisation_of(app, "开州区档案馆党支部")
    page.goto(f"{base_url}/staff/bookings/{reference}/edit")
    page.fill("#party_size", "14")
    page.locator("form.stack-form button[type=submit]").click()
    history = page.locator("table.audit-table")
    expect(history).to_contain_text("changed the party size from 12 to 14")
    assert "booking.edit_by_staff" not in history.inner_text()
    history.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "staff-history-en.png"), full_page=True)
    _switch_language(page, "zh")
    expect(history).to_contain_text("将预约人数由 12 改为 14")
    page.screenshot(path=str(screenshot_dir / "staff-history-zh.png"), full_page=True)
    page.context.close()
