"""PIPL retention: `purge` blanks personal data past its period; the statistics keep their
figures, certificates stay verifiable with the masked name, the privacy page states it all."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Attendee, Booking
from booking.models.db import db
from booking.rules.statistics import statistics_report
from courses.models import Certificate, CourseSession
from courses.rules import issuing
from tests.fixtures.factories import past_open_day

RETENTION = {"RETENTION_DAYS": {"contacts": 30, "attendees": 30, "notes": 30, "mail": 7}}


@pytest.fixture
def old_and_recent(create_attended_group, create_course, create_venue):
    venue = create_venue()
    course = create_course(venue)
    old_session, old, _ = create_attended_group(("王晓红", "李建国"), course=course,
                                                day=past_open_day(60), notes="需要轮椅")
    recent_session, recent, _ = create_attended_group(("赵六",), course=course,
                                                      day=past_open_day(3))
    for course_session in (old_session, recent_session):
        issuing.issue_certificates(db.session, course_session, None)
    db.session.commit()
    return old, recent


def _figures():
    report = statistics_report(db.session, date(2000, 1, 1), date(2100, 1, 1))
    return [(t.people, t.organisations) for t in report.detail]


@pytest.mark.parametrize("app_config", [RETENTION])
def test_purge_blanks_old_personal_data_and_keeps_figures_and_certificates(
        client, runner, old_and_recent):
    old, recent = old_and_recent
    figures = _figures()
    old_serial = db.session.scalar(select(Certificate.serial).join(Attendee).where(
        Attendee.booking_id == old.id, Attendee.name == "王晓红"))
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 booking contacts" in result.output
    db.session.expire_all()
    old, recent = db.session.get(Booking, old.id), db.session.get(Booking, recent.id)
    assert (old.contact_name, old.contact_phone, old.contact_email, old.notes) == ("", "", "", "")
    assert {a.name for a in old.attendees} == {""}
    assert recent.contact_phone == "13812341234"
    assert [a.name for a in recent.attendees] == ["赵六"]
    assert _figures() == figures
    old_certificate = db.session.scalar(select(Certificate).filter_by(serial=old_serial))
    assert old_certificate.name == "王*红"
    page = client.get(f"/verify/{old_certificate.verification_code}")
    assert page.status_code == 200 and "王*红" in page.get_data(as_text=True)
    assert runner.invoke(args=["check-integrity"]).exit_code == 0
    assert "0 booking contacts" in runner.invoke(args=["purge"]).output   # idempotent


@pytest.mark.parametrize("app_config", [RETENTION])
def test_the_privacy_page_states_each_period(client):
    text = client.get("/privacy").get_data(as_text=True)
    assert "参观结束后 30 天" in text and "发送后 7 天" in text


def test_nothing_within_the_default_period_is_purged(runner, old_and_recent):
    # The default periods (a year) keep two-month-old visits.
    assert "0 booking contacts" in runner.invoke(args=["purge"]).output


@pytest.mark.slow
@pytest.mark.parametrize("app_config", [{"RETENTION_DAYS": {
    "contacts": 7, "attendees": 7, "notes": 7, "mail": 0}}])
def test_purge_on_the_demo_data(client, runner, create_user, login):
    """The acceptance run: the demo's history (four weeks back) loses its personal data older
    than a week; the statistics page shows the same figures; every verify page answers."""
    from datetime import timedelta

    from booking.models import Role, Slot
    from courses.demo import load_demo

    load_demo(db.session)
    for course_session in db.session.scalars(select(CourseSession).join(Slot).where(
            Slot.ends_at < utcnow())):
        try:
            issuing.issue_certificates(db.session, course_session, None)
        except BookingError:
            pass                                       # e.g. nobody attended
    db.session.commit()
    login(create_user("reporter", Role.ADMIN))
    start, end = (date.today() - timedelta(days=60)).isoformat(), date.today().isoformat()
    query = {"start": start, "end": end}

    def table(html):
        return html[html.index("<table"):]
    before = table(client.get("/staff/statistics", query_string=query).get_data(as_text=True))
    old = select(Booking).join(Slot).where(Slot.ends_at < utcnow() - timedelta(days=7))
    assert any(b.contact_phone for b in db.session.scalars(old))
    codes = db.session.scalars(select(Certificate.verification_code)).all()
    assert codes

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert all(not (b.contact_phone or b.contact_email or b.contact_name or b.notes)
               for b in db.session.scalars(old))
    assert not db.session.scalar(select(Attendee.id).join(Booking).join(Slot).where(
        Slot.ends_at < utcnow() - timedelta(days=7), Attendee.name != ""))
    after = table(client.get("/staff/statistics", query_string=query).get_data(as_text=True))
    assert after == before
    for code in codes:
        assert client.get(f"/verify/{code}").status_code == 200


def test_purge_blanks_old_feedback_comments_and_keeps_the_ratings(runner, create_venue):
    from datetime import timedelta

    from booking.models import Feedback

    venue = create_venue()
    old = Feedback(venue_id=venue.id, programme="p", title="参观", overall=5, lecturer_rating=4,
                   comment="讲解很好，联系人张老师 13812345678",
                   created_at=utcnow() - timedelta(days=400))
    recent = Feedback(venue_id=venue.id, programme="p", title="参观", overall=3,
                      comment="还可以", created_at=utcnow() - timedelta(days=10))
    db.session.add_all([old, recent])
    db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 feedback comments" in result.output
    db.session.expire_all()
    assert (old.comment, old.overall, old.lecturer_rating) == ("", 5, 4)
    assert old.purged_at is not None
    assert recent.comment == "还可以" and recent.purged_at is None


@pytest.mark.parametrize("app_config", [RETENTION])
def test_purge_blanks_old_audit_snapshots_and_keeps_who_what_when(runner, old_and_recent,
                                                                    create_user):
    from booking.models import AuditEntry
    from booking.rules.audit import record_change

    old, recent = old_and_recent
    admin = create_user("auditor")
    contact = {"contact_name": "王晓红", "contact_phone": "13812341234",
               "contact_email": "wang@example.org"}
    old_entry = record_change(db.session, admin, "booking.edit_by_staff", old, contact, contact)
    recent_entry = record_change(db.session, admin, "booking.edit_by_staff", recent, contact,
                                 contact)
    old_cert = db.session.scalar(select(Certificate).join(Attendee).where(
        Attendee.booking_id == old.id))
    cert_entry = record_change(db.session, admin, "certificate.reissue", old_cert,
                               {"name": "王晓红"}, {"new_name": "王小红"})
    db.session.commit()
    stamp = (old_entry.id, old_entry.at, old_entry.user_id, old_entry.action,
             old_entry.object_type, old_entry.object_id)

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    old_entry = db.session.get(AuditEntry, stamp[0])
    assert (old_entry.before, old_entry.after) == ("", "")
    assert (old_entry.id, old_entry.at, old_entry.user_id, old_entry.action,
            old_entry.object_type, old_entry.object_id) == stamp
    assert db.session.get(AuditEntry, cert_entry.id).after == ""
    assert "13812341234" in db.session.get(AuditEntry, recent_entry.id).before
    assert not any("13812341234" in e.before + e.after or "王晓红" in e.before + e.after
                   for e in db.session.scalars(select(AuditEntry).where(
                       AuditEntry.object_id == str(old.id),
                       AuditEntry.object_type == "Booking")))


@pytest.mark.parametrize("app_config", [RETENTION])
def test_the_privacy_page_states_audit_snapshots_are_blanked(client):
    text = client.get("/privacy").get_data(as_text=True)
    assert "工作人员操作记录" in text and "只保留何人、何时、做了何种操作" in text
