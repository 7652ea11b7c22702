"""A visitor downloads their certificate and verifies it, in headless Chromium.

The app runs in a background thread on a free port with a temporary SQLite database holding
the demo world; the certificates of one past demo session are issued through the real rule.
Screenshots of the visitor page and of the verification page (valid, revoked, not found) on a
phone and a desktop, in both languages, go to $SCREENSHOT_DIR (or a temporary directory).
"""
from __future__ import annotations

import io
import re

import pytest

from tests.fixtures.browser import DESKTOP, PHONE, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402


def _issue_for_a_past_session(app) -> dict:
    """Issue the certificates of the demo's most recent past session that had attendees;
    revoke one. Returns facts about one valid and the revoked certificate."""
    from sqlalchemy import select

    from booking.clock import utcnow
    from booking.models import Attendee, Booking, Slot
    from booking.models.db import db
    from courses.models import CourseSession
    from courses.rules import issuing

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
def server(demo_server):
    """The demo world served, with one past session's certificates issued: (base URL, facts)."""
    base_url, app = demo_server
    return base_url, _issue_for_a_past_session(app)


def _masked(name: str) -> str:
    from booking.rules.identifiers import mask_name
    return mask_name(name)


@pytest.mark.parametrize(("language", "viewport"), [("zh", PHONE), ("en", DESKTOP)],
                         ids=["zh-phone", "en-desktop"])
def test_a_visitor_downloads_their_certificate_and_verifies_it(server, browser, language,
                                                               viewport, tmp_path):
    from pypdf import PdfReader

    base_url, facts = server
    page = new_page(browser, base_url, language, viewport, accept_downloads=True)
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
    page = new_page(browser, base_url, "zh", PHONE, accept_downloads=True)
    page.goto(base_url + "/certificates")
    page.fill("#reference", facts["reference"])
    page.fill("#name", facts["name"] + "某")
    page.locator("form.cert-form button[type=submit]").click()
    expect(page.locator(".lookup-error")).to_contain_text("没有找到与预约编号和姓名相符的证书")
    page.context.close()


def test_a_code_typed_into_the_verification_form_opens_its_page(server, browser):
    base_url, facts = server
    page = new_page(browser, base_url, "zh", DESKTOP, accept_downloads=True)
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
            page = new_page(browser, base_url, language, viewport, accept_downloads=True)
            for name, path in pages.items():
                page.goto(base_url + path)
                page.screenshot(path=screenshot_dir / f"cert-{name}-{language}-{size}.png",
                                full_page=True)
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"{name} {language} {size}: scrolls sideways {overflow}px"
            page.context.close()
    assert len(list(screenshot_dir.glob("cert-*.png"))) >= 16
