"""Every staff page and staff API route refuses anonymous users and roles without the right.

The tests walk ``app.url_map``, so a route added later under /staff or /api/v1/staff is
checked without anyone remembering to add it here.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from flask import g
from werkzeug.routing import BuildError

from booking.models import Role
from booking.web.template_helpers import staff_link

STAFF_PREFIXES = ("/staff", "/api/v1/staff")
PUBLIC_STAFF_RULES = {"/staff/login", "/staff/login/code"}  # the code step: after the password
DUMMY_BY_CONVERTER = {"IntegerConverter": 1, "BoundedIntegerConverter": 1, "FloatConverter": 1.0,
                      "UUIDConverter": uuid.UUID(int=1), "PathConverter": "x",
                      "UnicodeConverter": "x"}


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(STAFF_PREFIXES) and rule.rule not in PUBLIC_STAFF_RULES:
            yield rule


def dummy_url(app, rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = DUMMY_BY_CONVERTER.get(kind, "x")
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def call(client, method, url):
    return client.open(url, method=method, data={}, follow_redirects=False)


def test_there_are_staff_routes_to_check(app):
    rules = {r.rule for r in staff_rules(app)}
    assert {"/staff/", "/staff/approvals", "/api/v1/staff/approvals"} <= rules


def undeclared_views(app) -> list[str]:
    return [f"{rule.rule} ({rule.endpoint})" for rule in staff_rules(app)
            if getattr(app.view_functions[rule.endpoint], "required_roles", None) is None]


def anonymous_failures(app, client) -> list[str]:
    failures = []
    for rule in staff_rules(app):
        url = dummy_url(app, rule)
        for method in methods(rule):
            response = call(client, method, url)
            if rule.rule.startswith("/api/"):
                ok = (response.status_code == 401
                      and response.get_json()["error"]["code"] == "unauthorized")
            else:
                ok = (response.status_code == 302
                      and response.headers["Location"].startswith("/staff/login"))
            if not ok:
                failures.append(f"{method} {url} → {response.status_code}")
    return failures


def test_every_staff_view_declares_its_roles(app):
    assert undeclared_views(app) == []


def test_anonymous_users_are_sent_to_login_or_get_401(app, client):
    assert anonymous_failures(app, client) == []


def test_a_new_route_without_a_role_check_is_caught(tmp_path):
    from booking.models.db import db
    from tests.fixtures.app import make_app
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}")
    app.add_url_rule("/staff/forgotten/<int:n>", "forgotten", lambda n: "secret",
                     methods=["GET", "POST"])
    with app.app_context():
        db.create_all()
        assert undeclared_views(app) == ["/staff/forgotten/<int:n> (forgotten)"]
        assert anonymous_failures(app, app.test_client()) == [
            "GET /staff/forgotten/1 → 200", "POST /staff/forgotten/1 → 200"]
        db.engine.dispose()


def test_guides_are_refused_where_their_role_is_not_named(app, client, create_user, login):
    login(create_user("guide", Role.GUIDE))
    checked, failures = 0, []
    for rule in staff_rules(app):
        if Role.GUIDE in app.view_functions[rule.endpoint].required_roles:
            continue
        url = dummy_url(app, rule)
        for method in methods(rule):
            checked += 1
            response = call(client, method, url)
            if response.status_code != 403:
                failures.append(f"{method} {url} → {response.status_code}")
    assert checked and failures == []


def test_staff_are_refused_admin_pages(app, client, create_user, login):
    login(create_user("desk", Role.STAFF))
    failures = []
    for rule in staff_rules(app):
        if app.view_functions[rule.endpoint].required_roles not in ((Role.ADMIN,), ()):
            continue
        url = dummy_url(app, rule)
        for method in methods(rule):
            response = call(client, method, url)
            if response.status_code != 403:
                failures.append(f"{method} {url} → {response.status_code}")
    assert "/staff/audit" in {r.rule for r in staff_rules(app)}
    assert failures == []


def test_guides_see_only_the_navigation_they_may_use(client, create_user, login):
    login(create_user("guide", Role.GUIDE))
    page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/"' in page
    assert 'href="/staff/approvals"' not in page
    assert 'href="/staff/audit"' not in page
    assert 'href="/staff/users"' not in page


def test_admins_see_audit_and_users_in_the_navigation(client, create_user, login):
    login(create_user("boss", Role.ADMIN))
    page = client.get("/staff/").get_data(as_text=True)
    for href in ('href="/staff/approvals"', 'href="/staff/audit"', 'href="/staff/users"'):
        assert href in page


LAYOUT = Path(__file__).resolve().parent.parent / "templates" / "staff" / "layout.html"


def navigation_entries() -> list[str]:
    """The endpoints the staff layout's navigation names, one per entry."""
    source = LAYOUT.read_text()
    entries = re.findall(r"\((?:_\('[^']+'\)|pgettext\('[^']+', '[^']+'\)), '([\w.]+)'\)",
                         source.split("{% set links = [")[1]
                         .split("] %}")[0])
    assert entries, "the navigation list was not found in staff/layout.html"
    return entries


def navigation_links(page: str) -> list[str]:
    nav = page.split('<ul class="nav-list staff-nav">')[1].split("</ul>")[0]
    return re.findall(r'<li><a href="([^"]+)"', nav)


def test_every_navigation_entry_is_a_real_endpoint(app):
    assert [e for e in navigation_entries() if e not in app.view_functions] == []


def test_an_admin_sees_every_navigation_entry_and_each_page_opens(client, create_venue,
                                                                   create_user, login):
    create_venue()
    login(create_user("boss", Role.ADMIN))
    links = navigation_links(client.get("/staff/").get_data(as_text=True))
    assert len(links) == len(navigation_entries())
    assert "/staff/certificates/" in links
    for href in links:
        forget_loaded_user()
        assert client.get(href, follow_redirects=True).status_code == 200, href


def test_a_guide_opens_every_navigation_link_shown(client, create_venue, create_user, login):
    create_venue()
    login(create_user("guide", Role.GUIDE))
    links = navigation_links(client.get("/staff/").get_data(as_text=True))
    # Guides see their own workload too.
    assert links == ["/staff/", "/staff/roster/", "/staff/door", "/staff/certificates/",
                     "/staff/workload"]
    for href in links:
        forget_loaded_user()
        assert client.get(href, follow_redirects=True).status_code == 200, href


def test_a_staff_link_to_an_endpoint_that_does_not_exist_is_an_error(app):
    with app.test_request_context(), pytest.raises(BuildError):
        staff_link("staff.waitlist")


def forget_loaded_user():
    """Tests share one app context (and so ``g``) across requests; a real request does not."""
    g.pop("_login_user", None)


def test_a_deactivated_account_loses_its_open_session(client, session, create_user, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    assert client.get("/staff/approvals").status_code == 200
    user.active = False
    session.commit()
    forget_loaded_user()
    assert client.get("/staff/approvals").status_code == 302


def test_a_password_reset_ends_sessions_signed_in_with_the_old_password(client, session,
                                                                         create_user, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    user.set_password("a brand new password")
    session.commit()
    forget_loaded_user()
    assert client.get("/staff/approvals").status_code == 302


def test_logout_ends_the_session(client, create_user, login):
    login(create_user("desk", Role.STAFF))
    assert client.post("/staff/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("base_url, secure", [("https://yuyue.example.cn", True),
                                              ("http://127.0.0.1:5000", False)])
def test_session_cookie_is_secure_when_the_site_is_served_over_https(base_url, secure, tmp_path):
    from tests.fixtures.app import make_app
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", PUBLIC_BASE_URL=base_url)
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


# --- user management and the audit log (admins) ---------------------------------------------

def test_admin_creates_changes_and_deactivates_users_with_an_audit_trail(
        client, session, create_user, login):
    from sqlalchemy import select

    from booking.models import AuditEntry, StaffUser
    admin = create_user("boss", Role.ADMIN)
    login(admin)
    response = client.post("/staff/users", data={
        "username": "chenjing", "display_name": "陈静", "role": "guide",
        "password": "a long password", "confirm": "a long password"})
    assert response.status_code == 302
    user = session.scalar(select(StaffUser).filter_by(username="chenjing"))
    assert user.role is Role.GUIDE and user.check_password("a long password")
    client.post(f"/staff/users/{user.id}/role", data={"role": "staff"})
    client.post(f"/staff/users/{user.id}/password",
                data={"password": "another long one", "confirm": "another long one"})
    client.post(f"/staff/users/{user.id}/deactivate")
    session.expire_all()
    assert user.role is Role.STAFF and not user.active
    assert user.check_password("another long one")
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == admin.id)
                              .order_by(AuditEntry.id)).all()
    assert actions == ["user.create", "user.role", "user.password_reset", "user.deactivate"]
    page = client.get("/staff/audit").get_data(as_text=True)
    # Read as sentences, newest first; the codes stay in the export.
    assert page.index("boss 停用了账号 chenjing") < page.index("boss 新建了账号 chenjing（讲解员）")
    assert "boss 将 chenjing 的角色由“讲解员”改为“工作人员”" in page
    assert "password_hash" not in page and "<td>user.deactivate</td>" not in page
    filtered = client.get("/staff/audit?action=user.role").get_data(as_text=True)
    assert "角色由" in filtered and "停用了账号" not in filtered


def test_admin_cannot_lock_themselves_out(client, session, create_user, login):
    admin = create_user("boss", Role.ADMIN)
    login(admin)
    response = client.post(f"/staff/users/{admin.id}/deactivate", follow_redirects=True)
    assert "不能修改自己的角色或停用自己的账号" in response.get_data(as_text=True)
    client.post(f"/staff/users/{admin.id}/role", data={"role": "guide"})
    session.expire_all()
    assert admin.active and admin.role is Role.ADMIN


def test_user_form_errors_are_shown_beside_the_fields(client, create_user, login):
    login(create_user("boss", Role.ADMIN))
    response = client.post("/staff/users", data={
        "username": "boss", "role": "staff", "password": "short", "confirm": "different"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "密码至少 10 个字符" in page and "两次输入的密码不一致" in page
    response = client.post("/staff/users", data={
        "username": "BOSS", "role": "staff", "password": "a long password",
        "confirm": "a long password"})
    assert response.status_code == 422 and "已存在" in response.get_data(as_text=True)


def test_audit_log_pages_through_entries(client, session, create_user, login):
    from booking.rules.audit import record_change
    admin = create_user("boss", Role.ADMIN)
    for n in range(55):
        record_change(session, admin, "booking.approve", admin, {"n": n}, {"n": n + 1})
    session.commit()
    login(admin)
    first = client.get("/staff/audit").get_data(as_text=True)
    assert "第 1 / 2 页" in first and "page=2" in first
    second = client.get("/staff/audit?page=2").get_data(as_text=True)
    assert second.count("<td>boss 批准了预约</td>") == 5
