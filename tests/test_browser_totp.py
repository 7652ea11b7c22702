"""In Chromium: enrolling in TOTP and signing in with a code (computed here with pyotp), and
a manage link from a mail ending on a token-free URL. Screenshots of the enrolment page and
the code step in both languages go to $SCREENSHOT_DIR."""
from __future__ import annotations

import re

import pyotp
import pytest

from booking.models import Role
from booking.models.db import db
from tests.fixtures.browser import DESKTOP, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

PASSWORD = "correct horse battery"


def _password_step(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action$='/staff/login'] button[type=submit]")


def test_signing_in_with_a_totp_code(app, live_server, browser, create_user, screenshot_dir):
    secret = pyotp.random_base32()
    user = create_user("desk", Role.STAFF)
    user.totp_secret = secret
    db.session.commit()
    for language in ("en", "zh"):
        page = new_page(browser, live_server, language, DESKTOP)
        _password_step(page, live_server, "desk")
        assert page.url == f"{live_server}/staff/login/code"
        assert page.locator("#code").is_visible()
        page.screenshot(path=str(screenshot_dir / f"totp-login-code-{language}.png"),
                        full_page=True)
        if language == "en":
            assert "Two-step verification" in page.content()
            page.context.close()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("form[action$='/staff/login/code'] button[type=submit]")
    assert page.url == f"{live_server}/staff/"
    assert page.locator(".staff-user-name").inner_text() == "desk"


def test_enrolling_from_the_account_page(app, live_server, browser, create_user,
                                         screenshot_dir):
    for language in ("en", "zh"):
        create_user(f"new-{language}", Role.ADMIN)
        page = new_page(browser, live_server, language, DESKTOP)
        _password_step(page, live_server, f"new-{language}")
        page.goto(f"{live_server}/staff/account")
        assert page.locator(".pass-qr-box svg").is_visible()
        page.screenshot(path=str(screenshot_dir / f"totp-enrol-{language}.png"), full_page=True)
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("form[action$='/account/totp'] button[type=submit]")
    assert page.url == f"{live_server}/staff/account"
    assert secret not in page.content() and "已启用" in page.inner_text(".totp-status")


def test_a_manage_link_ends_on_a_token_free_url(app, live_server, browser, create_booking):
    booking, token = create_booking()
    db.session.commit()
    page = new_page(browser, live_server, "zh", DESKTOP)
    page.goto(f"{live_server}/manage/{booking.reference}/{token}")
    assert page.url == f"{live_server}/manage/{booking.reference}"
    assert booking.display_reference in page.inner_text("h1")
    assert token not in page.content()
    # The cookie is not readable by scripts, and the page works again on reload.
    assert page.evaluate("document.cookie").find("manage=") == -1
    page.reload()
    assert page.url == f"{live_server}/manage/{booking.reference}"
    assert booking.display_reference in page.inner_text("h1")
    # Following a link from the page sends no Referer that could carry the token.
    with page.expect_request(lambda request: request.url.endswith("/find")) as followed:
        page.locator("a[href='/find']").first.click()
    assert token not in (followed.value.headers.get("referer") or "")
