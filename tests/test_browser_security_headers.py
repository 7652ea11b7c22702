"""With the Content-Security-Policy on, every page the public and the staff reach loads in
headless Chromium without one CSP violation, and no other site can frame a staff page."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.fixtures.browser import DESKTOP, browser_skip_reason, new_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

MAX_PAGES = 60
SKIP = re.compile(r"(\.pdf|\.ics|\.xlsx|\.csv|/logout|/language/|/feed|\.png)(\?|$)")


def _watch(page, violations: list[str]):
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


def _crawl(page, base_url: str, start: list[str]) -> list[str]:
    """Visit same-site pages reachable by links from ``start``; returns those visited."""
    queue, seen = [base_url + path for path in start], set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = page.goto(url)
        assert response is not None and response.status < 500, url
        assert "'unsafe-inline'" not in (response.headers.get("content-security-policy") or "")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = urljoin(url, href).split("#")[0]
            if urlsplit(href).netloc == urlsplit(base_url).netloc and href not in seen:
                queue.append(href)
    return sorted(seen)


def test_public_pages_load_without_a_csp_violation(demo_server, browser):
    base_url, _ = demo_server
    page = new_page(browser, base_url, "zh", DESKTOP)
    violations: list[str] = []
    _watch(page, violations)
    visited = _crawl(page, base_url, ["/", "/verify", "/certificates", "/privacy"])
    assert len(visited) > 10
    assert not violations, violations


def test_staff_pages_load_without_a_csp_violation(demo_server, browser):
    base_url, _ = demo_server
    page = new_page(browser, base_url, "zh", DESKTOP)
    violations: list[str] = []
    _watch(page, violations)
    page.goto(base_url + "/staff/login")
    page.fill("#username", "admin")
    page.fill("#password", "kaizhou-demo")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/?$"))
    visited = _crawl(page, base_url, ["/staff/"])
    assert any("/staff/roster" in url for url in visited)
    assert not violations, violations


def test_another_site_cannot_frame_a_staff_page(demo_server, browser):
    base_url, _ = demo_server
    page = new_page(browser, base_url, "zh", DESKTOP)
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    page.route("http://evil.example/", lambda route: route.fulfill(
        content_type="text/html",
        body=f'<html><body><iframe id="f" src="{base_url}/staff/login"></iframe></body></html>'))
    page.goto("http://evil.example/")
    page.wait_for_timeout(1000)
    frame = next(f for f in page.frames if f != page.main_frame)
    # Chromium replaces a refused frame with an error document: none of the page is there.
    assert "password" not in frame.content()
    assert frame.url.startswith("chrome-error://"), (frame.url, refusals)
