"""Issuing certificates: who gets one, serial numbers under concurrency, revoking and
reissuing, and what the PDF says (read back with pypdf)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
from datetime import time, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.clock import local
from booking.errors import BookingError
from booking.models import AuditEntry, Role
from booking.models.db import db
from booking.rules.checkin import mark_no_show, set_attendance
from courses.models import (
    Certificate,
    CertificateCounter,
    CertificateState,
    CourseKind,
    CourseSession,
)
from courses.render.certificates import render_certificates
from courses.rules import certificate_lookup, issuing

BASE_URL = "https://booking.example.cn"


def after(course_session: CourseSession, minutes: int = 60):
    return course_session.slot.ends_at + timedelta(minutes=minutes)


def issue(course_session, now=None, **kw) -> list[Certificate]:
    issued = issuing.issue_certificates(db.session, course_session, None,
                                        now=now or after(course_session), **kw)
    db.session.commit()
    return issued


def all_certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def year_of(course_session) -> int:
    return local(after(course_session)).year


def audit_actions(obj) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == type(obj).__name__,
                                        AuditEntry.object_id == str(obj.id))
        .order_by(AuditEntry.id)))


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- who gets a certificate --------------------------------------------------------------------

def test_only_attendees_ticked_present_get_a_certificate(create_attended_group):
    course_session, booking, _ = create_attended_group(["王晓红", "李建国", "张伟"],
                                                       absent=["李建国"])
    issued = issue(course_session)
    year = year_of(course_session)
    assert [(c.name, c.serial) for c in issued] == [
        ("王晓红", f"LBC-{year}-000001"), ("张伟", f"LBC-{year}-000002")]
    cert = issued[0]
    assert (cert.organisation, cert.programme, cert.programme_kind, cert.title) == (
        "开州区汉丰街道党工委", "学习百年党史 感悟刘帅精神", "专题党课", "学习证明")
    assert (cert.venue_name, cert.issuing_unit, cert.training_hours, cert.lecturer) == (
        "刘伯承同志纪念馆", "刘伯承同志纪念馆", Decimal("1.5"), "陈静")
    assert cert.session_starts_at == course_session.slot.starts_at
    assert cert.state is CertificateState.VALID
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{12}", cert.verification_code)
    assert len({c.verification_code for c in issued}) == 2


def test_asking_twice_never_creates_a_second_certificate(create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红", "李建国"])
    first = issue(course_session)
    assert issue(course_session) == []
    assert issue(course_session, now=after(course_session, 600)) == []
    assert [c.serial for c in all_certificates()] == [c.serial for c in first]
    assert db.session.scalar(select(CertificateCounter.last_number)) == 2


def test_an_attendee_ticked_later_gets_the_next_serial_alone(create_attended_group):
    course_session, booking, _ = create_attended_group(["王晓红", "李建国"], absent=["李建国"])
    issue(course_session)
    set_attendance(db.session, booking, {a.id for a in booking.attendees}, None,
                   now=after(course_session))
    db.session.commit()
    (late,) = issue(course_session)
    assert (late.name, late.number) == ("李建国", 2)


def test_no_certificate_before_the_session_has_ended(create_attended_group):
    course_session, _, _ = create_attended_group()
    slot = course_session.slot
    for moment in (slot.starts_at - timedelta(minutes=5), slot.starts_at + timedelta(minutes=30),
                   slot.ends_at - timedelta(seconds=1)):
        with pytest.raises(BookingError) as refused:
            issuing.issue_certificates(db.session, course_session, None, now=moment)
        db.session.rollback()
        assert refused.value.code == "session_not_ended"
    assert all_certificates() == []
    assert len(issue(course_session, now=slot.ends_at)) == 2


def test_no_show_and_cancelled_groups_get_none(create_attended_group, create_booking):
    course_session, _, _ = create_attended_group(["王晓红"])
    slot = course_session.slot
    absent, _ = create_booking(slot, 5, now=slot.starts_at - timedelta(days=14),
                               attendee_names=["缺席者"], organisation_name="开州中学")
    mark_no_show(db.session, absent, None, now=slot.ends_at + timedelta(minutes=5))
    db.session.commit()
    assert [c.name for c in issue(course_session)] == ["王晓红"]


def test_issuing_for_one_booking_leaves_the_other_groups_alone(create_attended_group):
    course_session, first, _ = create_attended_group(["王晓红"])
    _, second, _ = create_attended_group(["李建国", "张伟"], course_session=course_session,
                                         organisation_name="开州中学")
    assert [c.name for c in issue(course_session, booking=second)] == ["李建国", "张伟"]
    assert [c.name for c in issue(course_session)] == ["王晓红"]
    assert [c.organisation for c in all_certificates()] == ["开州中学", "开州中学",
                                                            "开州区汉丰街道党工委"]


def test_a_guide_issues_only_for_their_own_sessions(create_attended_group, create_user):
    course_session, _, _ = create_attended_group()
    guide = create_user("guide", Role.GUIDE)
    with pytest.raises(BookingError) as refused:
        issuing.issue_certificates(db.session, course_session, guide, now=after(course_session))
    assert refused.value.status == 403
    db.session.rollback()
    course_session.slot.guide_user_id = guide.id
    db.session.commit()
    assert len(issuing.issue_certificates(db.session, course_session, guide,
                                          now=after(course_session))) == 2


@pytest.mark.parametrize("kind, title, kind_name", [
    (CourseKind.THEMED_COURSE, "学习证明", "专题党课"),
    (CourseKind.PARTY_DAY, "学习证明", "红色主题党日"),
    (CourseKind.STUDY_TOUR, "研学证明", "青少年研学"),
    (CourseKind.EXHIBITION, "参观证明", "展览参观"),
])
def test_the_title_follows_the_kind_of_programme(create_attended_group, create_course, kind,
                                                 title, kind_name):
    course = create_course(code=f"c-{kind.value}", kind=kind, title="红色开州 百年锦绣")
    course_session, _, _ = create_attended_group(["王晓红"], course=course)
    (cert,) = issue(course_session)
    assert (cert.title, cert.programme_kind) == (title, kind_name)


def test_issued_facts_do_not_change_when_the_course_is_edited(create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    course_session.course.title = "新的名称"
    course_session.course.training_hours = Decimal("3")
    db.session.commit()
    data = issuing.certificate_data(db.session.get(Certificate, cert.id), BASE_URL)
    assert (data.programme, data.training_hours) == ("学习百年党史 感悟刘帅精神", "1.5")


# --- serial numbers ----------------------------------------------------------------------------

def test_serials_run_per_venue_and_per_year(create_attended_group, create_venue, create_course):
    lbc_session, _, _ = create_attended_group(["王晓红", "李建国"])
    kaizhou = create_venue("KZM", name="开州博物馆", issuing_unit="开州博物馆")
    kzm_course = create_course(kaizhou, code="red-kaizhou", kind=CourseKind.EXHIBITION)
    kzm_session, _, _ = create_attended_group(["张伟"], course=kzm_course)
    year = year_of(lbc_session)
    assert [c.serial for c in issue(lbc_session)] == [f"LBC-{year}-000001", f"LBC-{year}-000002"]
    assert [c.serial for c in issue(kzm_session)] == [f"KZM-{year}-000001"]
    # The next year starts again at 1; last year's counter is untouched.
    next_year, _, _ = create_attended_group(["赵敏"], course_session=None,
                                            course=lbc_session.course)
    later = next_year.slot.ends_at + timedelta(days=366)
    (cert,) = issue(next_year, now=later)
    assert cert.serial == f"LBC-{local(later).year}-000001"
    assert cert.year == local(later).year != year


def test_a_failed_issue_leaves_no_gap_in_the_serials(create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红", "李建国"])
    issuing.issue_certificates(db.session, course_session, None, now=after(course_session))
    db.session.rollback()            # e.g. the request failed after issuing
    assert [c.number for c in issue(course_session)] == [1, 2]


def test_the_database_refuses_a_second_current_certificate_for_one_attendee(
        create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    twin = Certificate(**{column: getattr(cert, column) for column in (
        "venue_id", "year", "attendee_id", "session_id", "name", "organisation", "programme",
        "programme_kind", "title", "session_starts_at", "venue_name", "training_hours",
        "issuing_unit")}, number=99, serial="LBC-0000-000099", verification_code="TWIN",
        latest=True)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _issue_in_thread(app, session_id: int, now, barrier, errors: list) -> None:
    with app.app_context():
        try:
            barrier.wait(timeout=30)
            course_session = db.session.get(CourseSession, session_id)
            issuing.issue_certificates(db.session, course_session, None, now=now)
            db.session.commit()
        except Exception as error:  # noqa: BLE001  (reported by the test)
            db.session.rollback()
            errors.append(error)
        finally:
            db.session.remove()


def test_concurrent_issuing_gives_unique_gapless_serials(app, create_attended_group):
    """Twelve issuers at once over three sessions of one venue (each session asked for four
    times), on a fresh counter: every attendee gets exactly one certificate and the numbers
    are 1..N without a duplicate or a gap."""
    sessions = []
    for hour in (9, 11, 14):
        course_session, _, _ = create_attended_group([f"学员{hour}-{i}" for i in range(6)],
                                                     start=time(hour, 0))
        create_attended_group([f"第二组{hour}-{i}" for i in range(4)],
                              course_session=course_session, organisation_name="开州中学")
        sessions.append(course_session)
    now = after(sessions[-1], 120)
    ids = [cs.id for cs in sessions]
    db.session.commit()
    db.session.remove()
    barrier, errors = threading.Barrier(12), []
    threads = [threading.Thread(target=_issue_in_thread,
                                args=(app, ids[i % 3], now, barrier, errors))
               for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    certs = all_certificates()
    assert len(certs) == 30
    assert sorted(c.number for c in certs) == list(range(1, 31))
    assert len({c.serial for c in certs}) == 30
    assert len({(c.attendee_id, c.session_id) for c in certs}) == 30
    assert db.session.scalar(select(CertificateCounter.last_number)) == 30


# --- revoking and reissuing --------------------------------------------------------------------

def test_revoking_keeps_the_serial_and_is_audited(create_attended_group, create_user):
    staff = create_user("desk", Role.STAFF)
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    issuing.revoke_certificate(db.session, cert, "  经核实未参加  ", staff)
    db.session.commit()
    assert (cert.state, cert.revoked_reason, cert.number) == (
        CertificateState.REVOKED, "经核实未参加", 1)
    assert audit_actions(cert) == ["certificate.revoke"]
    assert issue(course_session) == []  # revoked is final: issuing again gives nothing
    with pytest.raises(BookingError):
        issuing.revoke_certificate(db.session, cert, "again", staff)


def test_revoking_needs_a_reason_and_staff(create_attended_group, create_user):
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    with pytest.raises(BookingError) as no_reason:
        issuing.revoke_certificate(db.session, cert, "   ", create_user("desk", Role.STAFF))
    assert no_reason.value.field == "reason"
    with pytest.raises(BookingError) as guide:
        issuing.revoke_certificate(db.session, cert, "x", create_user("guide", Role.GUIDE))
    assert guide.value.status == 403
    assert cert.state is CertificateState.VALID


def test_reissuing_gives_a_new_serial_and_the_old_one_shows_replaced(create_attended_group,
                                                                    create_user):
    staff = create_user("desk", Role.STAFF)
    course_session, _, _ = create_attended_group(["王小红", "李建国"])
    old, other = issue(course_session)
    new = issuing.reissue_certificate(db.session, old, staff, new_name=" 王晓红 ",
                                      now=after(course_session))
    db.session.commit()
    assert (old.state, old.replaced_by, old.latest) == (CertificateState.REPLACED, new, None)
    assert (new.state, new.name, new.number, new.latest) == (
        CertificateState.VALID, "王晓红", 3, True)
    assert new.serial not in (old.serial, other.serial)
    assert new.verification_code != old.verification_code
    assert (new.attendee_id, new.session_id, new.programme, new.organisation) == (
        old.attendee_id, old.session_id, old.programme, old.organisation)
    assert audit_actions(old) == ["certificate.reissue"]
    assert issue(course_session) == []
    # A replaced certificate is history: it can be neither reissued nor revoked again.
    with pytest.raises(BookingError):
        issuing.reissue_certificate(db.session, old, staff)
    db.session.rollback()
    with pytest.raises(BookingError):
        issuing.revoke_certificate(db.session, old, "x", staff)
    db.session.rollback()
    # The replacement can itself be replaced; serials keep counting up, never reused.
    newest = issuing.reissue_certificate(db.session, new, staff)
    db.session.commit()
    assert (newest.name, newest.number) == ("王晓红", 4)
    assert sorted(c.number for c in all_certificates()) == [1, 2, 3, 4]


def test_a_revoked_certificate_can_be_reissued(create_attended_group, create_user):
    staff = create_user("desk", Role.STAFF)
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    issuing.revoke_certificate(db.session, cert, "姓名有误", staff)
    new = issuing.reissue_certificate(db.session, cert, staff)
    db.session.commit()
    assert (cert.state, cert.revoked_reason, new.state) == (
        CertificateState.REPLACED, "姓名有误", CertificateState.VALID)


# --- finding a visitor's certificate ------------------------------------------------------------

@pytest.mark.parametrize("typed", ["阿卜杜拉·艾力", "阿卜杜拉•艾力", "阿卜杜拉・艾力", " 阿卜杜拉 · 艾力 ",
                                   "阿卜杜拉.艾力"])
def test_a_visitor_name_matches_however_the_dot_is_typed(create_attended_group, typed):
    course_session, booking, _ = create_attended_group(["阿卜杜拉·艾力", "Anna Müller"])
    issue(course_session)
    (found,) = certificate_lookup.find_visitor_certificates(
        db.session, booking.display_reference.lower(), typed)
    assert found.name == "阿卜杜拉·艾力"
    assert [c.name for c in certificate_lookup.find_visitor_certificates(
        db.session, booking.reference, "anna  MÜLLER")] == ["Anna Müller"]


def test_a_wrong_reference_and_a_wrong_name_raise_the_same_error(create_attended_group):
    course_session, booking, _ = create_attended_group(["王晓红"])
    issue(course_session)
    errors = []
    for reference, name in ((booking.reference, "王小红"), ("ZZZZZZZZ", "王晓红"), ("", "")):
        with pytest.raises(BookingError) as refused:
            certificate_lookup.find_visitor_certificates(db.session, reference, name)
        errors.append((refused.value.code, str(refused.value.message), refused.value.status))
    assert errors[0] == errors[1] == errors[2]


# --- the PDF ---------------------------------------------------------------------------------

def test_certificate_pdf_text_equals_the_issued_data(create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红", "𠮷田䶮"])
    certs = issue(course_session)
    data = [issuing.certificate_data(c, BASE_URL) for c in certs]
    pages = pdf_text(render_certificates(data))
    assert len(pages) == 2
    for cert, text in zip(certs, pages):
        flat = re.sub(r"\s+", "", text)
        for value in (cert.name, cert.serial, cert.organisation, cert.programme,
                      cert.venue_name, issuing.display_code(cert.verification_code),
                      f"{BASE_URL}/verify/{cert.verification_code}", "学习证明", "陈静"):
            assert re.sub(r"\s+", "", value) in flat, value
        assert "计1.5学时" in flat
        start = local(course_session.slot.starts_at)
        assert f"{start.year}年{start.month}月{start.day}日09:00–10:30" in flat


def test_the_cjk_fonts_are_embedded_in_the_pdf(create_attended_group):
    course_session, _, _ = create_attended_group(["𠮷", "䶮", "珺", "喆", "阿卜杜拉·艾力",
                                                  "Anna Müller"])
    certs = issue(course_session)
    reader = PdfReader(io.BytesIO(render_certificates(
        issuing.certificate_data(c, BASE_URL) for c in certs)))
    embedded = set()

    def collect(resources):
        resources = resources.get_object() if resources is not None else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            for part in ([d.get_object() for d in descendants] if descendants else [font]):
                descriptor = part.get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    embedded.add(str(part["/BaseFont"]).split("+")[-1].split("-")[0])
        for xobject in (resources.get("/XObject") or {}).values():
            collect(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        collect(page.get("/Resources"))
    # Hei for the text, Kai for names and titles, HanaMin for 𠮷 (Ext B) and 䶮 (Ext A).
    assert {"WenQuanYiMicroHei", "UKaiCN"} <= embedded
    assert embedded & {"HanaMinA", "HanaMinB"}
    texts = [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]
    for name, text in zip(["𠮷", "䶮", "珺", "喆", "阿卜杜拉·艾力", "AnnaMüller"], texts):
        assert f"{name}同志" in text


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="poppler's pdftoppm or zbarimg is not installed")
def test_the_qr_code_scans_to_the_verification_page(create_attended_group, tmp_path):
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificates([issuing.certificate_data(cert, BASE_URL)]))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page.png")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert scanned == f"{BASE_URL}/verify/{cert.verification_code}"


def test_a_space_after_a_rare_character_is_not_drawn_as_a_missing_glyph():
    """The HanaMin fallback fonts have no space glyph: a space must come from another font."""
    from reportlab.pdfbase import pdfmetrics

    from booking.render.fonts import KAI, SANS, split_runs
    for text, font in (("欧阳䶮 𠮷田", KAI), ("䶮\t王", SANS), ("Anna 𠮷 Müller", KAI)):
        for name, run in split_runs(text, font):
            if " " in run:
                assert 32 in pdfmetrics.getFont(name).face.charToGlyph, (text, name)


def test_the_seal_image_comes_from_the_venue_config(create_attended_group, tmp_path):
    from PIL import Image
    seal = tmp_path / "seal.png"
    Image.new("RGBA", (60, 60), (200, 20, 20, 255)).save(seal)
    course_session, _, _ = create_attended_group(["王晓红"])
    (cert,) = issue(course_session)
    assert issuing.certificate_data(cert, BASE_URL, {"LBC": str(seal)}).seal == seal.read_bytes()
    assert issuing.certificate_data(cert, BASE_URL, {"KZM": str(seal)}).seal is None
    assert issuing.certificate_data(cert, BASE_URL, {"LBC": str(tmp_path / "gone.png")}
                                    ).seal is None  # a missing file falls back to the drawn seal


def test_revoked_and_replaced_certificates_print_with_a_watermark(create_attended_group,
                                                                   create_user):
    staff = create_user("desk", Role.STAFF)
    course_session, _, _ = create_attended_group(["王晓红", "李建国"])
    first, second = issue(course_session)
    issuing.revoke_certificate(db.session, first, "未参加", staff)
    issuing.reissue_certificate(db.session, second, staff)
    db.session.commit()
    assert issuing.certificate_data(first, BASE_URL).status == "已撤销 REVOKED"
    assert issuing.certificate_data(second, BASE_URL).status == "已作废 REPLACED"
    assert issuing.certificate_data(second.replaced_by, BASE_URL).status is None


def test_counting_certificates_needs_no_query_per_attendee(create_attended_group):
    """The idempotency check is one query for the whole session, not one per attendee."""
    course_session, _, _ = create_attended_group([f"学员{i}" for i in range(30)])
    issue(course_session)
    from sqlalchemy import event
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert issue(course_session) == []
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) < 10
    assert db.session.scalar(select(func.count(Certificate.id))) == 30
