"""A visitor downloads their certificate and verifies it, in headless Chromium.

The app runs in a background thread on a free port with a temporary SQLite database holding
the demo world; the certificates of one past demo session are issued through the real rule.
Screenshots of the visitor page and of the verification page (valid, revoked, not found) on a
phone and a desktop, in both languages, go to $SCREENSHOT_DIR (or a temporary directory).
"""
from __future__ import annotations

import io
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

from playwright.sync_api import expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _issue_for_a_past_session(app) -> dict:
    """Issue the certificates of the demo's most recent past session that had attendees;
    revoke one. Returns facts about one valid and the revoked certificate."""
    from sqlalchemy import select

    from booking.clock import utcnow
    from booking.db import db
    from booking.models import Attendee, Booking, Slot
    from courses import issuing
    from courses.models import CourseSession

    with app.app_context():
        sessions = db.session.scalars(
            select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
            .join(Booking, Booking.slot_id == Slot.id).join(Attendee)
            .where(Slot.ends_at < utcnow(), Attendee.attended.is_(True))
            .order_by(Slot.starts_at.desc())).unique().all()
        for course_session in sessions:
            issued = issuing.issue_certificates(db.session, course_session, None)
            if len(issued) >= 2:
                break
        valid, revoked = issued[0], issued[1]
        issuing.revoke_certificate(db.session, revoked, "经核实本人未参加", None)
        db.session.commit()
        return {"reference": valid.attendee.booking.display_reference, "name": valid.name,
                "code": valid.verification_code, "serial": valid.serial,
                "revoked_code": revoked.verification_code}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from werkzeug.serving import make_server

    from booking.db import db
    from courses.demo import load_demo
    from run import create_app

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("browser-certificates") / "museum.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "browser-test",
                      "PUBLIC_BASE_URL": base_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        load_demo(db.session)
        db.session.commit()
    facts = _issue_for_a_past_session(app)
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, facts
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


def _new_page(browser, base_url: str, language: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
    return context.new_page()


def _masked(name: str) -> str:
    from booking.identifiers import mask_name
    return mask_name(name)


@pytest.mark.parametrize(("language", "viewport"), [("zh", PHONE), ("en", DESKTOP)],
                         ids=["zh-phone", "en-desktop"])
def test_a_visitor_downloads_their_certificate_and_verifies_it(server, browser, language,
                                                               viewport, tmp_path):
    from pypdf import PdfReader

    base_url, facts = server
    page = _new_page(browser, base_url, language, viewport)
    page.goto(base_url + "/certificates")
    page.fill("#reference", facts["reference"].lower())
    page.fill("#name", facts["name"])
    with page.expect_download() as download_info:
        page.locator("form.cert-form button[type=submit]").click()
    download = download_info.value
    assert download.suggested_filename == f"certificate-{facts['serial']}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())
    assert facts["name"] in text and facts["serial"] in text

    # The QR code's target: the verification page.
    page.goto(f"{base_url}/verify/{facts['code']}")
    state = page.locator(".verify-state")
    expect(state).to_have_class(re.compile(r"state-valid"))
    # (English shows the Chinese word until the catalogue has a translation for it.)
    expect(state).to_contain_text(re.compile("有效" if language == "zh" else "有效|Valid"))
    expect(page.locator(".cert-facts")).to_contain_text(_masked(facts["name"]))
    expect(page.locator(".cert-facts")).to_contain_text(facts["serial"])
    assert facts["name"] not in page.content()
    page.context.close()


def test_a_wrong_name_gets_a_message_not_a_download(server, browser):
    base_url, facts = server
    page = _new_page(browser, base_url, "zh", PHONE)
    page.goto(base_url + "/certificates")
    page.fill("#reference", facts["reference"])
    page.fill("#name", facts["name"] + "某")
    page.locator("form.cert-form button[type=submit]").click()
    expect(page.locator(".lookup-error")).to_contain_text("没有找到与预约编号和姓名相符的证书")
    page.context.close()


def test_a_code_typed_into_the_verification_form_opens_its_page(server, browser):
    base_url, facts = server
    page = _new_page(browser, base_url, "zh", DESKTOP)
    page.goto(base_url + "/verify")
    code = facts["code"]
    page.fill("#code", f"{code[:4]}-{code[4:8]}-{code[8:]}".lower())
    page.locator(".code-form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/verify/{code}")
    expect(page.locator(".verify-state")).to_contain_text("有效")
    page.context.close()


def test_screenshots_of_the_certificate_pages(server, browser, screenshot_dir):
    base_url, facts = server
    pages = {"visitor": "/certificates", "verify-valid": f"/verify/{facts['code']}",
             "verify-revoked": f"/verify/{facts['revoked_code']}",
             "verify-unknown": "/verify/ABCDEFGHJKMN"}
    for language in ("zh", "en"):
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = _new_page(browser, base_url, language, viewport)
            for name, path in pages.items():
                page.goto(base_url + path)
                page.screenshot(path=screenshot_dir / f"cert-{name}-{language}-{size}.png",
                                full_page=True)
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"{name} {language} {size}: scrolls sideways {overflow}px"
            page.context.close()
    assert len(list(screenshot_dir.glob("cert-*.png"))) >= 16
