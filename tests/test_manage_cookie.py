"""The manage link's token is traded for a cookie on its first visit: the page and every
action then live under a token-free URL, so the token is in no address bar, page link or
Referer; without the cookie that URL says how to get in."""
from __future__ import annotations

import re

import pytest

from booking.models import BookingState
from booking.models.db import db
from tests.fixtures.manage_links import open_manage_link, tampered


@pytest.fixture
def link(create_slot, create_booking):
    booking, token = create_booking(create_slot(capacity=40), party_size=12,
                                    attendee_names=["张三"])
    return booking, token


def test_the_first_visit_trades_the_token_for_a_scoped_httponly_cookie(client, link):
    booking, token = link
    response = client.get(f"/manage/{booking.reference}/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/{booking.reference}"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("manage=") and token not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Path=/manage/{booking.reference}" in cookie
    assert "Secure" not in cookie                          # plain http: a Secure cookie is lost


def test_over_https_the_cookie_is_secure(client, link):
    booking, token = link
    response = client.get(f"/manage/{booking.reference}/{token}",
                          base_url="https://booking.example.org")
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_final_page_has_no_token_in_its_url_links_or_forms(client, link):
    booking, token = link
    response = client.get(f"/manage/{booking.reference}/{token}", follow_redirects=True)
    assert response.status_code == 200 and booking.display_reference in response.get_data(
        as_text=True)
    assert response.request.path == f"/manage/{booking.reference}" and token not in (
        response.request.url)
    html = response.get_data(as_text=True)
    assert token not in html
    targets = re.findall(r'(?:href|action)="([^"]+)"', html)
    manage_targets = [t for t in targets if t.startswith(f"/manage/{booking.reference}")]
    assert {f"/manage/{booking.reference}/attendees", f"/manage/{booking.reference}/party-size",
            f"/manage/{booking.reference}/cancel", f"/manage/{booking.reference}/booking.ics",
            f"/manage/{booking.reference}/confirmation.pdf"} <= set(manage_targets)
    # The Referer a browser sends from this page is its URL at most (no-referrer: nothing).
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_every_action_works_from_the_token_free_url(client, link):
    booking, token = link
    page = open_manage_link(client, booking.reference, token)
    assert client.post(f"{page}/attendees", data={"attendees": "李四\n王五"}).status_code == 303
    assert client.post(f"{page}/party-size", data={"party_size": "10"}).status_code == 303
    assert client.get(f"{page}/booking.ics").headers["Content-Type"].startswith("text/calendar")
    assert client.get(f"{page}/confirmation.pdf").data.startswith(b"%PDF")
    assert "确定要取消这次预约吗" in client.get(f"{page}/cancel").get_data(as_text=True)
    assert client.post(f"{page}/cancel", data={"reason": "行程调整"}).status_code == 303
    db.session.refresh(booking)
    assert [a.name for a in booking.attendees] == ["李四", "王五"]
    assert booking.party_size == 10 and booking.state is BookingState.CANCELLED


def test_without_the_cookie_the_page_says_to_use_the_mail_link_or_find(app, client, link):
    booking, token = link
    for path in (f"/manage/{booking.reference}", "/manage/ZZZZZZZZ"):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 403 and "请使用专属管理链接" in text
        assert 'href="/find"' in text and "邮件" in text
        assert response.headers["Cache-Control"] == "no-store"
    refused = client.post(f"/manage/{booking.reference}/party-size", data={"party_size": "5"})
    assert refused.status_code == 403
    db.session.refresh(booking)
    assert booking.party_size == 12


def test_the_cookie_is_bound_to_its_booking_and_signed(app, client, link, create_slot,
                                                      create_booking):
    booking, token = link
    other, other_token = create_booking(create_slot(capacity=40), party_size=5)
    open_manage_link(client, other.reference, other_token)
    value = client.get_cookie("manage", path=f"/manage/{other.reference}").value
    thief = app.test_client()
    thief.set_cookie("manage", value, path=f"/manage/{booking.reference}")
    assert thief.get(f"/manage/{booking.reference}").status_code == 403   # not this booking's
    thief.set_cookie("manage", tampered(value, 3), path=f"/manage/{other.reference}")
    assert thief.get(f"/manage/{other.reference}").status_code == 403     # tampered


def test_old_links_to_downloads_redirect_token_free(client, link):
    booking, token = link
    response = client.get(f"/manage/{booking.reference}/{token}/booking.ics")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/{booking.reference}/booking.ics"
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get(f"/manage/{booking.reference}/{token}/anything").status_code == 404
    assert client.get(f"/manage/{booking.reference}/wrong/booking.ics").status_code == 404


def test_the_confirmation_page_downloads_are_token_free(client, create_slot):
    from tests.test_booking_form import book

    confirmation = client.get(book(client, create_slot(capacity=40)).headers["Location"])
    html = confirmation.get_data(as_text=True)
    link = re.search(r'data-manage-link>([^<]+)<', html).group(1)
    token = link.rsplit("/", 1)[1]
    downloads = re.findall(r'href="(/manage/[^"]+\.(?:ics|pdf))"', html)
    assert downloads and all(token not in url for url in downloads)
    assert all(client.get(url).status_code == 200 for url in downloads)
