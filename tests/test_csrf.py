"""With CSRF switched on, no staff POST (pages or cookie-authenticated API) works without a token.

The POST routes are found by walking ``app.url_map``, so routes added later are covered.
"""
from __future__ import annotations

import re

import pytest

from booking.models import BookingState, Role

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def csrf_token_from(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) \
        or re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, user) -> str:
    """Log in with a real token; returns a token valid for the signed-in session."""
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"username": user.username,
                                                  "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return csrf_token_from(client.get("/staff/").get_data(as_text=True))


def staff_post_urls(app):
    from tests.test_staff_access import dummy_url, staff_rules
    for rule in staff_rules(app):
        if "POST" in rule.methods:
            yield dummy_url(app, rule)


def test_login_without_a_token_is_refused(client, create_user):
    user = create_user("desk", Role.STAFF)
    response = client.post("/staff/login", data={"username": user.username,
                                                 "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302  # still not signed in


def test_login_with_a_token_works(client, create_user):
    sign_in(client, create_user("desk", Role.STAFF))
    assert client.get("/staff/").status_code == 200


def test_every_staff_post_without_a_token_is_refused(app, client, create_user):
    sign_in(client, create_user("boss", Role.ADMIN))
    urls = list(staff_post_urls(app))
    assert "/staff/logout" in urls and "/api/v1/staff/bookings/x/approve" in urls
    refused = {url: client.post(url, data={}).status_code for url in urls}
    assert {url: code for url, code in refused.items() if code != 400} == {}
    assert client.get("/staff/").status_code == 200  # and nothing logged us out


def test_staff_api_post_without_a_token_answers_json(client, create_user, create_slot,
                                                     create_booking):
    booking, _ = create_booking(create_slot(requires_approval=True))
    sign_in(client, create_user("desk", Role.STAFF))
    response = client.post(f"/api/v1/staff/bookings/{booking.reference}/approve")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_staff_api_post_with_the_header_token_is_accepted(client, session, create_user,
                                                          create_slot, create_booking):
    booking, _ = create_booking(create_slot(requires_approval=True))
    token = sign_in(client, create_user("desk", Role.STAFF))
    response = client.post(f"/api/v1/staff/bookings/{booking.reference}/approve",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    session.refresh(booking)
    assert booking.state is BookingState.CONFIRMED


def test_approval_form_with_its_token_is_accepted(client, session, create_user, create_slot,
                                                  create_booking):
    booking, _ = create_booking(create_slot(requires_approval=True))
    sign_in(client, create_user("desk", Role.STAFF))
    page = client.get("/staff/approvals").get_data(as_text=True)
    response = client.post(f"/staff/bookings/{booking.reference}/approve",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    session.refresh(booking)
    assert booking.state is BookingState.CONFIRMED
