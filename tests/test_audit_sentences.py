"""The audit log reads as sentences in the reader's language; codes only in the CSV export."""
from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import pytest
from flask_babel import refresh

from booking.models import AuditEntry, Role
from booking.models.db import db
from booking.rules.audit import record_change
from booking.rules.audit_sentences import SENTENCES, audit_sentence

ROOT = Path(__file__).resolve().parent.parent
ACTION_CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def action_codes_in_source() -> set[str]:
    """Every action code a ``record_change(...)`` call in booking/ or courses/ can log."""
    codes: set[str] = set()
    for package in ("booking", "courses"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None)
                        == "record_change"):
                    continue
                action = node.args[2] if len(node.args) > 2 else next(
                    k.value for k in node.keywords if k.arg == "action")
                codes |= {c.value for c in ast.walk(action) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str) and ACTION_CODE.match(c.value)}
    return codes


def test_every_action_code_in_the_code_base_has_a_sentence():
    codes = action_codes_in_source()
    assert len(codes) >= 40, codes  # the scan itself works (both branches of a choice too)
    assert {"user.reactivate", "user.deactivate", "booking.headcount"} <= codes
    assert sorted(codes - SENTENCES.keys()) == []


def entry(user, action: str, before: dict | None, after: dict | None) -> AuditEntry:
    made = record_change(db.session, user, action, user, before, after)
    db.session.commit()
    return made


def in_language(app, language: str, made: AuditEntry) -> str:
    with app.test_request_context(f"/?lang={language}"):
        refresh()
        return audit_sentence(made)


def test_check_in_and_party_size_read_as_sentences_in_both_languages(app, create_user):
    wang = create_user("wangmin")
    wang.display_name = "王敏"
    checked_in = entry(wang, "booking.check_in", {"state": "confirmed", "arrived_count": 0},
                       {"state": "checked_in", "arrived_count": 25, "party_size": 27})
    assert in_language(app, "zh", checked_in) == "王敏 为团体签到：实到 25 人（预约 27 人）"
    assert in_language(app, "en", checked_in) == "王敏 checked the group in: 25 of 27 present"
    resized = entry(wang, "booking.edit_by_staff", {"party_size": 20, "notes": ""},
                    {"party_size": 25, "notes": ""})
    assert in_language(app, "zh", resized) == "王敏 将预约人数由 20 改为 25"
    assert in_language(app, "en", resized) == "王敏 changed the party size from 20 to 25"


def test_a_job_without_a_user_is_the_system(app):
    made = entry(None, "booking.complete", {"state": "checked_in"}, {"state": "completed"})
    assert in_language(app, "zh", made) == "系统 将预约标记为“已完成”"
    assert in_language(app, "en", made).startswith("System ")


@pytest.mark.parametrize("action", sorted(SENTENCES))
def test_every_sentence_renders_from_empty_or_odd_facts_in_both_languages(app, action):
    for before, after in (({}, {}), ({"state": "nonsense", "slot": None}, {"offered": 3})):
        made = AuditEntry(action=action, object_type="Booking", object_id="1",
                          before=str(before).replace("'", '"'), after=str(after).replace("'", '"'))
        for language in ("zh", "en"):
            text = in_language(app, language, made)
            assert text and "%(" not in text and action not in text
    with app.test_request_context("/?lang=en"):
        refresh()
        english = audit_sentence(AuditEntry(action=action, object_type="X", object_id="1",
                                            before="", after=""))
    assert not re.search(r"[\u4e00-\u9fff]", english), english


def test_the_staff_booking_history_shows_sentences_not_codes(client, login, create_user,
                                                             create_booking):
    booking, _token = create_booking(party_size=20)
    desk = create_user("desk", Role.STAFF)
    record_change(db.session, desk, "booking.edit_by_staff", booking,
                  {"party_size": 20}, {"party_size": 25})
    db.session.commit()
    login(desk)
    page = client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    assert "desk 将预约人数由 20 改为 25" in page
    assert "booking.edit_by_staff" not in page and "party_size" not in page


def test_the_admin_export_has_the_raw_codes_escaped_for_spreadsheets(client, login,
                                                                     create_user):
    admin = create_user("boss", Role.ADMIN)
    evil = create_user("=HYPERLINK(1)", Role.STAFF)
    record_change(db.session, evil, "user.role", evil, {"role": "guide"}, {"role": "staff"})
    db.session.commit()
    login(admin)
    response = client.get("/staff/audit.csv?action=user.")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["at_beijing", "user", "action"]
    assert rows[1][1:3] == ["'=HYPERLINK(1)", "user.role"]
    assert '"role": "staff"' in rows[1][6]
    page = client.get("/staff/audit").get_data(as_text=True)
    assert 'href="/staff/audit.csv"' in page


def test_only_admins_export_the_audit_log(client, login, create_user):
    login(create_user("desk", Role.STAFF))
    assert client.get("/staff/audit.csv").status_code == 403
