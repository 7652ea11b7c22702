"""Signing in and out: throttling by account and address together, sessions that end on the
server when a person signs out (a copied cookie stops working), and an admin's "sign out
everywhere"."""
from __future__ import annotations

from booking.models import Role

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
MUSEUM = {"REMOTE_ADDR": "198.51.100.10"}
PASSWORD = "correct horse battery"


def _login(client, username, password, environ):
    return client.post("/staff/login", data={"username": username, "password": password},
                       environ_base=environ)


def test_an_attacker_elsewhere_cannot_lock_the_admin_out(app, create_user):
    create_user("admin", Role.ADMIN)
    attacker, admin = app.test_client(), app.test_client()
    answers = [_login(attacker, "admin", f"guess-{n}", ATTACKER).status_code for n in range(100)]
    assert answers.count(429) >= 90          # after a few failures the attacker is held back
    assert 302 not in answers
    assert _login(admin, "admin", PASSWORD, MUSEUM).status_code == 302


def test_the_delay_grows_and_holds_even_the_right_password_from_that_address(app, create_user):
    create_user("admin", Role.ADMIN)
    client = app.test_client()
    for n in range(5):
        assert _login(client, "admin", f"guess-{n}", ATTACKER).status_code == 200
    held = _login(client, "admin", PASSWORD, ATTACKER)
    assert held.status_code == 429
    assert "秒后再试" in held.get_data(as_text=True)


def test_a_copied_cookie_fails_after_logout(app, create_user):
    create_user("desk", Role.STAFF)
    browser, thief = app.test_client(), app.test_client()
    assert _login(browser, "desk", PASSWORD, MUSEUM).status_code == 302
    cookie = browser.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/staff/", environ_base=MUSEUM).status_code == 200   # the copy works...
    assert browser.post("/staff/logout", environ_base=MUSEUM).status_code == 302
    assert thief.get("/staff/", environ_base=MUSEUM).status_code == 302   # ...until logout


def test_an_admin_signs_a_user_out_everywhere(app, create_user):
    admin_user = create_user("admin", Role.ADMIN)
    desk_user = create_user("desk", Role.STAFF)
    admin, desk = app.test_client(), app.test_client()
    _login(admin, "admin", PASSWORD, MUSEUM)
    _login(desk, "desk", PASSWORD, MUSEUM)
    assert desk.get("/staff/", environ_base=MUSEUM).status_code == 200
    users_page = admin.get("/staff/users", environ_base=MUSEUM).get_data(as_text=True)
    assert f"/staff/users/{desk_user.id}/sign-out" in users_page
    response = admin.post(f"/staff/users/{desk_user.id}/sign-out", environ_base=MUSEUM)
    assert response.status_code == 302
    assert desk.get("/staff/", environ_base=MUSEUM).status_code == 302
    assert admin.get("/staff/", environ_base=MUSEUM).status_code == 200
    assert admin_user.session_version == 0
