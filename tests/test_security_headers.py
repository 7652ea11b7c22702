"""Security headers on every response, and templates the CSP can serve as they are."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from booking.models import Role
from tests.fixtures.app import make_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE = re.compile(r"<style|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.I)


def test_public_pages_carry_the_csp_and_friends(client, create_venue):
    create_venue()
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers    # http public address
    assert response.headers.get("Cache-Control") != "no-store"


def test_errors_and_the_api_carry_them_too(client):
    assert "frame-ancestors" in client.get("/no-such-page").headers["Content-Security-Policy"]
    assert client.get("/api/v1/slots").headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_when_the_public_address_is_https(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'h.db'}", PUBLIC_BASE_URL="https://yuyue.example.cn")
    response = app.test_client().get("/static/css/site.css")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/staff/", "/staff/login", "/manage/ABC/def", "/manage/ABC"])
def test_staff_and_secret_link_pages_are_never_stored(client, create_user, login, path):
    login(create_user("desk", Role.STAFF))
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_no_template_holds_an_inline_style_script_or_handler():
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
                 for path in TEMPLATES.rglob("*.html")
                 for match in INLINE.finditer(path.read_text(encoding="utf-8"))]
    assert not offenders, offenders
