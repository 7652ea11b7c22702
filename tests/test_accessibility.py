"""WCAG 2.1 AA proven by checkers this project did not write.

Headless Chromium crawls every page reachable by links from the home page (anonymous) and from
the staff home as each role (admin, staff, guide), in Chinese and English. On each page
axe-core runs at phone (390x844) and desktop (1280x800) widths and must find no violation of
any impact (WCAG 2.0/2.1 A and AA, plus axe's best practices); the HTML the server sent for
each page is then checked by the Nu HTML Checker (vnu) in one batch and must have no error.

axe-core and vnu come from npm into `.ci/node_modules` (`.ci/run` installs them; locally:
`npm install --prefix .ci axe-core@4 vnu-jar`); vnu needs Java (Debian's
`default-jre-headless`). axe is put into each page with `page.evaluate` (a DevTools call, which
the page's Content-Security-Policy does not govern), so the pages keep their CSP while checked.

Pages whose URL holds a secret (two manage pages, a certificate's verify page) are added to
the anonymous crawl's start. The crawl is bounded: same origin, at most MAX_PER_SHAPE pages
per URL shape (numbers, references and codes folded, so one booking form stands for all), at
most MAX_PAGES per crawl, no sign-out, language switch, download or feed links. A staff
page that another role's crawl already checked with axe (same shape, same language) is only
checked by vnu again.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.browser import PHONE, browser_skip_reason

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / ".ci" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DESKTOP = {"width": 1280, "height": 800}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DEMO_PASSWORD = "kaizhou-demo"
ROLES = ("anonymous", "admin", "staff", "guide")
LANGUAGES = ("zh", "en")
MAX_PAGES = 70
MAX_PER_SHAPE = 1
SKIP = re.compile(r"/language/|/logout|/static/|/api/|/healthz|/readyz|[?&]lang=|"
                  r"\.(pdf|ics|xlsx|csv|png|svg|json|txt|zip)(\?|$)")


TIMES: dict[str, float] = defaultdict(float)


def _missing_tools() -> str | None:
    if not AXE.exists():
        return f"axe-core is not installed ({AXE}): npm install --prefix .ci axe-core@4"
    if not VNU.exists():
        return f"vnu-jar is not installed ({VNU}): npm install --prefix .ci vnu-jar"
    if shutil.which("java") is None:
        return "java is not installed (Debian's default-jre-headless), which vnu needs"
    return None


def _shape(url: str) -> str:
    """The page a URL stands for: numbers, booking references, programme codes and query
    values folded, so one booking (or day, or programme) stands for all."""
    parts = urlsplit(url)
    path = re.sub(r"/programmes/[^/]+", "/programmes/P", parts.path)
    path = re.sub(r"/[A-Z0-9]{6,}(?=/|$)", "/R", path)
    query = "&".join(sorted(item.split("=")[0] for item in parts.query.split("&") if item))
    return re.sub(r"\d+", "N", path + "?" + query)


def _axe(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                   resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: "
                                                   + n.failureSummary.replace(/\\s+/g, " "))}));
        }""", AXE_TAGS)


def _sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/staff/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".staff-user-name")).to_be_visible()


def _private_pages(app) -> list[str]:
    """Pages no link reaches because their URL holds a secret: an upcoming booking's and a
    completed one's manage page (given a token the test knows) and a certificate's verify
    page."""
    from sqlalchemy import select

    from booking.models import Booking, BookingState
    from booking.models.db import db
    from booking.rules import tokens
    from courses.models import Certificate

    pages = []
    with app.app_context():
        for states in ((BookingState.CONFIRMED,),
                       (BookingState.CHECKED_IN, BookingState.COMPLETED)):
            booking = db.session.scalars(select(Booking).where(Booking.state.in_(states))
                                         .order_by(Booking.id.desc()).limit(1)).first()
            if booking is not None:
                booking.manage_token_hash = tokens.hash_secret(f"a11y-{booking.id}")
                pages.append(f"/manage/{booking.reference}/a11y-{booking.id}")
        code = db.session.scalar(select(Certificate.verification_code).limit(1))
        if code:
            pages.append(f"/verify/{code}")
        db.session.commit()
    return pages


def _crawl(page, base_url: str, start: list[str], html_dir: Path, label: str,
           checked: set[str]):
    """Visit pages reachable from ``start``; save each one's HTML, and axe it at both widths
    unless a page of its shape was axed already (by another role: the same template).

    Returns (pages visited, axe findings as text lines)."""
    origin = urlsplit(base_url).netloc
    queue = [base_url + path for path in start]
    queued, shapes = set(queue), defaultdict(int)
    visited: list[str] = []
    findings: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        started = time.monotonic()
        response = page.goto(url)
        TIMES["goto"] += time.monotonic() - started
        assert response is not None and response.status < 400, f"{label}: {url} answered " \
            f"{response and response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(url)
        name = f"{label}-{len(visited):03d}.html"
        (html_dir / name).write_text(f"<!-- {url} -->\n" + response.text(), encoding="utf-8")
        if _shape(url) in checked:
            widths = ()
        else:
            checked.add(_shape(url))
            widths = (("desktop", DESKTOP), ("phone", PHONE))
        for width_name, viewport in widths:
            page.set_viewport_size(viewport)
            started = time.monotonic()
            violations = _axe(page)
            TIMES["axe"] += time.monotonic() - started
            for violation in violations:
                findings.append(f"{label} {width_name} {url}: {violation['id']} "
                                f"({violation['impact']}) {violation['help']}\n      "
                                + "\n      ".join(violation["nodes"]))
        page.set_viewport_size(DESKTOP)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = href.split("#")[0]
            parts = urlsplit(href)
            if (parts.scheme not in ("http", "https") or parts.netloc != origin
                    or href in queued or SKIP.search(href)):
                continue
            if label.split("-")[0] != "anonymous" and not parts.path.startswith("/staff"):
                continue  # public pages are crawled anonymously; staff crawl their own pages
            shape = _shape(href)
            if shapes[shape] >= MAX_PER_SHAPE:
                continue
            shapes[shape] += 1
            queued.add(href)
            queue.append(href)
    return visited, findings


def _failed_booking_form(page, visited: list[str], html_dir: Path, label: str) -> list[str]:
    """A booking form sent empty: the error summary and the fields' errors, axed and saved."""
    page.goto(next(url for url in visited if re.search(r"/slots/\d+/book$", url)))
    with page.expect_navigation() as navigation:
        page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    (html_dir / f"{label}-failed-form.html").write_text(
        f"<!-- {page.url} (sent empty) -->\n" + navigation.value.text(), encoding="utf-8")
    findings = []
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        findings += [f"{label} {width_name} failed booking form: {v['id']} ({v['impact']}) "
                     f"{v['help']}\n      " + "\n      ".join(v["nodes"]) for v in _axe(page)]
    return findings


def _vnu(html_dir: Path) -> list[str]:
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", str(html_dir)],
        capture_output=True, text=True, check=False, timeout=600)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = []
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        path = Path(urlsplit(message.get("url", "")).path)
        first_line = path.read_text(encoding="utf-8").split("\n", 1)[0] if path.exists() else ""
        errors.append(f"{path.name} {first_line} line {message.get('lastLine')}: "
                      f"{message['message']} [{message.get('extract', '').strip()}]")
    return errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_and_vnu(demo_server, browser, tmp_path, language):
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    base_url, app = demo_server
    TIMES.clear()
    private = _private_pages(app)
    html_dir = tmp_path / "html"
    html_dir.mkdir()
    counts: dict[str, int] = {}
    findings: list[str] = []
    checked: set[str] = set()
    for role in ROLES:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
        page = context.new_page()
        label = f"{role}-{language}"
        if role != "anonymous":
            _sign_in(page, base_url, role)
        visited, found = _crawl(page, base_url,
                                ["/", *private] if role == "anonymous" else ["/staff/"],
                                html_dir, label, checked)
        counts[label] = len(visited)
        findings += found
        if role == "anonymous":
            findings += _failed_booking_form(page, visited, html_dir, label)
        context.close()
    started = time.monotonic()
    errors = _vnu(html_dir)
    TIMES["vnu"] += time.monotonic() - started
    print(f"\npages crawled per role in {language} (vnu on each, axe at two widths on each "
          f"of the {len(checked)} kinds of page):")
    for label, count in counts.items():
        print(f"  {label}: {count}")
    print("  seconds spent: " + ", ".join(f"{k} {v:.0f}" for k, v in TIMES.items()))
    assert len(private) == 3, private
    assert all(count >= 3 for count in counts.values()), counts
    problems = [f"axe: {line}" for line in findings] + [f"vnu: {line}" for line in errors]
    assert not problems, f"{len(findings)} axe violations, {len(errors)} vnu errors:\n" + \
        "\n".join(problems)
