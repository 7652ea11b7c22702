"""A group books a session through the real UI in headless Chromium, on a phone and a desktop.

The app runs in a background thread on a free port with a temporary SQLite database holding
the demo world. Screenshots of the calendar and the form, in both languages and both sizes,
are written to $SCREENSHOT_DIR (or the test's temporary directory) for people to look at.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Debian's Chromium is not installed at {CHROMIUM}"
    if not _has_cjk_font():
        return "no CJK font installed (`fc-list :lang=zh` is empty)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


if _skip_reason():
    pytest.skip(_skip_reason(), allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with the demo world, served from a thread; yields its base URL and app."""
    from werkzeug.serving import make_server

    from booking.db import db
    from courses.demo import load_demo
    from run import create_app

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("browser") / "museum.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "browser-test",
                      "PUBLIC_BASE_URL": base_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        load_demo(db.session)
        db.session.commit()
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, app
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    wanted = os.environ.get("SCREENSHOT_DIR")
    directory = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _new_page(browser, base_url: str, language: str, viewport: dict) -> Page:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
    return context.new_page()


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

    from booking.db import db
    from booking.models import Booking
    from booking.tokens import normalise_reference

    with app.app_context():
        found = db.session.scalar(select(Booking).filter_by(
            reference=normalise_reference(reference)))
        return found is not None


@pytest.mark.parametrize(("language", "viewport"), [("zh", PHONE), ("en", DESKTOP)],
                         ids=["zh-phone", "en-desktop"])
def test_a_group_books_a_session_through_the_ui_and_gets_a_reference(server, browser, language,
                                                                     viewport):
    base_url, app = server
    page = _new_page(browser, base_url, language, viewport)
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


def test_screenshots_of_calendar_and_form_in_both_languages_and_sizes(server, browser,
                                                                     screenshot_dir):
    base_url, _ = server
    for language in ("zh", "en"):
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = _new_page(browser, base_url, language, viewport)
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
