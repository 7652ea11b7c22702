"""The optional TOTP second factor of staff accounts: enrolment from the account page, the
code as a second sign-in step (throttled, one step either side, each code once), switching it
off, an admin's reset (audited, also from the command line), and REQUIRE_TOTP_FOR_ADMINS."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from booking.errors import BookingError
from booking.models import AuditEntry, Role, StaffUser
from booking.models.db import db
from booking.rules import two_factor

PASSWORD = "correct horse battery"
REQUIRED = {"REQUIRE_TOTP_FOR_ADMINS": True}


def _password(client, username):
    return client.post("/staff/login", data={"username": username, "password": PASSWORD})


def _code(secret: str, steps_ahead: int = 0) -> str:
    """A code of a later step than any used so far (each code is good once), still within
    the one step of slack either side."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _enrol(client) -> str:
    """Enrol the signed-in user through the account page; returns the secret."""
    page = client.get("/staff/account").get_data(as_text=True)
    secret = re.search(r'data-totp-secret>([A-Z2-7]+)<', page).group(1)
    response = client.post("/staff/account/totp", data={"code": _code(secret)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return secret


@pytest.fixture
def enrolled(app, create_user, login):
    """A staff user with TOTP switched on (and signed out again); returns (user, secret)."""
    user = create_user("desk", Role.STAFF)
    client = app.test_client()
    client.post("/staff/login", data={"username": "desk", "password": PASSWORD})
    secret = _enrol(client)
    db.session.expire_all()
    return db.session.get(StaffUser, user.id), secret


def test_enrolment_shows_the_secret_as_uri_and_qr_until_a_first_code_confirms_it(
        client, create_user, login):
    login(create_user("desk", Role.STAFF))
    page = client.get("/staff/account")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'data-totp-secret>([A-Z2-7]+)<', text).group(1)
    assert "otpauth://totp/" in text and f"secret={secret}" in text
    assert "<svg" in text and "<path d=" in text          # the QR code, drawn on the server
    wrong = client.post("/staff/account/totp", data={"code": "000000" if _code(secret) != "000000"
                                                      else "111111"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.get_data(as_text=True)
    assert not db.session.scalar(select(StaffUser.totp_secret).filter_by(username="desk"))
    assert client.post("/staff/account/totp", data={"code": _code(secret)}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(StaffUser.totp_secret).filter_by(username="desk")) == secret
    after = client.get("/staff/account").get_data(as_text=True)
    assert secret not in after and "otpauth://" not in after and "已启用" in after
    assert db.session.scalar(select(AuditEntry).filter_by(action="user.totp_enable"))
    assert secret not in "".join(e.before + e.after for e in db.session.scalars(
        select(AuditEntry)))


def test_the_password_alone_does_not_sign_in_a_user_with_totp(app, enrolled):
    user, secret = enrolled
    client = app.test_client()
    response = _password(client, "desk")
    assert response.status_code == 302 and response.location.endswith("/staff/login/code")
    assert client.get("/staff/").status_code == 302          # not signed in yet
    wrong = client.post("/staff/login/code", data={"code": "12345x"})
    assert "6 位数字" in wrong.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    signed_in = client.post("/staff/login/code", data={"code": _code(secret, 1)})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/staff/")
    assert client.get("/staff/").status_code == 200


def test_the_code_step_needs_the_password_step_first(client, enrolled):
    _, secret = enrolled
    response = client.post("/staff/login/code", data={"code": _code(secret, 1)})
    assert response.status_code == 302 and response.location.endswith("/staff/login")
    assert client.get("/staff/").status_code == 302


def test_a_code_is_accepted_once(app, enrolled):
    _, secret = enrolled
    code = _code(secret, 1)
    first, second = app.test_client(), app.test_client()
    _password(first, "desk")
    assert first.post("/staff/login/code", data={"code": code}).status_code == 302
    _password(second, "desk")
    replay = second.post("/staff/login/code", data={"code": code})
    assert replay.status_code == 200 and "已使用" in replay.get_data(as_text=True)
    assert second.get("/staff/").status_code == 302


def test_codes_one_step_either_side_are_accepted_and_further_ones_refused():
    secret, now = pyotp.random_base32(), 1_800_000_015.0
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in (-1, 0, 1):
        assert two_factor.matching_step(secret, totp.at(now + 30 * offset), None, now) == (
            step + offset)
    for offset in (-2, 2):
        with pytest.raises(BookingError):
            two_factor.matching_step(secret, totp.at(now + 30 * offset), None, now)
    with pytest.raises(BookingError):   # a step not after the last accepted one: a replay
        two_factor.matching_step(secret, totp.at(now), step, now)


def test_wrong_codes_are_throttled_like_passwords(app, enrolled):
    _, secret = enrolled
    client = app.test_client()
    _password(client, "desk")
    bad = "000000" if _code(secret, 1) != "000000" else "999999"
    answers = [client.post("/staff/login/code", data={"code": bad}).status_code
               for _ in range(6)]
    assert answers[:5] == [200] * 5 and answers[5] == 429
    held = client.post("/staff/login/code", data={"code": _code(secret, 1)})
    assert held.status_code == 429 and "秒后再试" in held.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_switching_totp_off_needs_password_and_code(app, enrolled):
    user, secret = enrolled
    client = app.test_client()
    _password(client, "desk")
    client.post("/staff/login/code", data={"code": _code(secret, 1)})
    wrong_password = client.post("/staff/account/totp/disable",
                                 data={"password": "wrong password!", "code": _code(secret, 1)})
    assert wrong_password.status_code == 422 and "密码不正确" in wrong_password.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).has_totp
    _a_minute_later(user.id)
    off = client.post("/staff/account/totp/disable",
                      data={"password": PASSWORD, "code": _code(secret)})
    assert off.status_code == 302
    db.session.expire_all()
    assert not db.session.get(StaffUser, user.id).has_totp
    assert db.session.scalar(select(AuditEntry).filter_by(action="user.totp_disable"))


def _a_minute_later(user_id: int) -> None:
    """As if the last code accepted were two steps old: the current code is good again."""
    user = db.session.get(StaffUser, user_id)
    user.totp_last_step = pyotp.TOTP(user.totp_secret).timecode(time.time()) - 2
    db.session.commit()


def test_an_admin_resets_a_users_totp_and_it_is_audited(app, enrolled, create_user, login,
                                                        client):
    user, _ = enrolled
    admin = create_user("boss", Role.ADMIN)
    login(admin)
    users_page = client.get("/staff/users").get_data(as_text=True)
    assert f"/staff/users/{user.id}/totp-reset" in users_page
    assert client.post(f"/staff/users/{user.id}/totp-reset").status_code == 302
    db.session.expire_all()
    assert not db.session.get(StaffUser, user.id).has_totp
    entry = db.session.scalar(select(AuditEntry).filter_by(action="user.totp_reset"))
    assert entry.user_id == admin.id and entry.object_id == str(user.id)
    # Signing in is back to the password alone.
    other = app.test_client()
    assert _password(other, "desk").location.endswith("/staff/")


def test_a_guide_cannot_reset_anyones_totp(app, enrolled, create_user, login, client):
    user, _ = enrolled
    login(create_user("guide", Role.GUIDE))
    assert client.post(f"/staff/users/{user.id}/totp-reset").status_code == 403
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).has_totp


def test_the_command_line_resets_totp(runner, enrolled):
    user, _ = enrolled
    result = runner.invoke(args=["reset-totp", "desk"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not db.session.get(StaffUser, user.id).has_totp
    assert db.session.scalar(select(AuditEntry).filter_by(action="user.totp_reset"))
    again = runner.invoke(args=["reset-totp", "desk"])
    assert again.exit_code != 0 and "未启用" in again.output
    assert runner.invoke(args=["reset-totp", "nobody"]).exit_code != 0


@pytest.mark.parametrize("app_config", [REQUIRED])
def test_an_admin_without_totp_must_enrol_before_anything_else(app, client, create_user):
    create_user("boss", Role.ADMIN)
    response = _password(client, "boss")
    assert response.location.endswith("/staff/account")
    for path in ("/staff/", "/staff/users", "/staff/audit"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.location.endswith("/staff/account"), path
    api = client.get("/api/v1/staff/approvals")
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "totp_required"
    assert "本站要求管理员启用两步验证" in client.get("/staff/account").get_data(as_text=True)
    _enrol(client)
    assert client.get("/staff/users").status_code == 200
    assert client.get("/api/v1/staff/approvals").status_code == 200


@pytest.mark.parametrize("app_config", [REQUIRED])
def test_the_requirement_is_for_admins_only(client, create_user):
    create_user("desk", Role.STAFF)
    assert _password(client, "desk").location.endswith("/staff/")
    assert client.get("/staff/").status_code == 200


def test_without_the_requirement_an_admin_needs_no_totp(client, create_user):
    create_user("boss", Role.ADMIN)
    assert _password(client, "boss").location.endswith("/staff/")
    assert client.get("/staff/users").status_code == 200
