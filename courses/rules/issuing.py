"""Issuing attendance certificates: who gets one, serial numbers, revoking and reissuing.

Rules (functions take a database session, flush, and raise :class:`BookingError`; the caller
commits once):

* A certificate is issued for every attendee ticked as present (``Attendee.attended``) in a
  CHECKED_IN or COMPLETED booking of a course session, once the session has **ended**
  (``Slot.ends_at``): it attests the whole session, so it is never issued while the session
  runs or before it. Staff issue at a POST (completing the session, or for one group);
  visitor pages only read.
* Idempotent: at most one not-replaced certificate per (attendee, session). The check is made
  after locking the serial counter, and the unique constraint on
  (attendee_id, session_id, latest) backs it up (see :class:`courses.models.Certificate`).
* Serials are ``<VENUE.CODE>-<YEAR>-<6 digits>``, sequential per venue and year of issue
  (Asia/Shanghai), never reused: a revoked or replaced certificate keeps its serial.
  Numbers are taken from :class:`CertificateCounter` by one atomic
  ``UPDATE … SET last_number = last_number + :n`` and read back in the same transaction.
  Before checking which attendees still need a certificate, the issuer locks the counter row
  (a no-op UPDATE): on PostgreSQL that serialises issuers per venue and year, on SQLite
  ``BEGIN IMMEDIATE`` already serialises writers. A transaction that fails rolls its
  counter advance back with it, and numbers are only taken for certificates actually
  created, so there are no gaps.
* The printed facts are copied onto the certificate when it is issued.

Finding certificates (read-only) is in :mod:`courses.rules.certificate_lookup`.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import dates
from booking.clock import MUSEUM_TZ, local, utcnow
from booking.errors import BookingError
from booking.models import Attendee, Booking, BookingState, Role, SlotState, StaffUser, Venue
from booking.rules.audit import record_change
from booking.rules.checkin import can_run_session, complete_session
from booking.rules.tokens import REFERENCE_ALPHABET
from booking.rules.vocabulary import programme_kind_name
from courses.models import (
    Certificate,
    CertificateCounter,
    CertificateState,
    CourseKind,
    CourseSession,
)
from courses.render.certificates import CertificateData, CertificateEnglish

log = logging.getLogger(__name__)

#: Printed title by course kind (printed on paper, always Chinese; the kind itself is printed
#: as :func:`booking.rules.vocabulary.programme_kind_name` words it).
TITLES = {CourseKind.THEMED_COURSE: "学习证明", CourseKind.PARTY_DAY: "学习证明",
          CourseKind.STUDY_TOUR: "研学证明", CourseKind.EXHIBITION: "参观证明"}
CERTIFIED_STATES = (BookingState.CHECKED_IN, BookingState.COMPLETED)
#: Watermarks on a certificate that no longer stands (only staff ever print those).
STATUS_MARKS = {CertificateState.REVOKED: "已撤销 REVOKED",
                CertificateState.REPLACED: "已作废 REPLACED"}

CODE_ALPHABET = REFERENCE_ALPHABET  # no 0/O, 1/I/L: read off paper without mistakes
CODE_LENGTH = 12                    # 31^12 ≈ 2^59 codes: not guessable, even unthrottled
MAX_NAME = 60
MAX_REASON = 300


# --- issuing -----------------------------------------------------------------------------

def issue_certificates(session: Session, course_session: CourseSession,
                       user: StaffUser | None, now: datetime | None = None,
                       booking: Booking | None = None) -> list[Certificate]:
    """Certificates for the session's attended attendees who have none yet (only those of
    ``booking`` when given). Returns the new ones; asking again returns []."""
    now = now or utcnow()
    slot = course_session.slot
    if not can_run_session(user, slot):
        raise BookingError("not_your_session", _l("这不是您负责的场次。"), status=403)
    if slot.state is SlotState.CANCELLED:
        raise BookingError("slot_cancelled", _l("该场次已取消，不能出具证书。"))
    if now < slot.ends_at:
        raise BookingError("session_not_ended", _l(
            "场次结束（%(end)s）后才能出具证书。",
            end=local(slot.ends_at, slot.venue.tz).strftime("%m-%d %H:%M")))
    if booking is not None and booking.slot_id != slot.id:
        raise BookingError("wrong_session", _l("该预约不属于这个场次。"), status=422)
    venue, year = slot.venue, local(now, slot.venue.tz).year
    _lock_counter(session, venue.id, year)
    query = (select(Attendee).join(Booking, Attendee.booking_id == Booking.id)
             .where(Booking.slot_id == slot.id, Booking.state.in_(CERTIFIED_STATES),
                    Attendee.attended.is_(True))
             .order_by(Booking.created_at, Booking.id, Attendee.position, Attendee.id))
    if booking is not None:
        query = query.where(Booking.id == booking.id)
    attendees = list(session.scalars(query))
    have = set(session.scalars(select(Certificate.attendee_id).where(
        Certificate.session_id == course_session.id, Certificate.latest.is_(True))))
    missing = [a for a in attendees if a.id not in have]
    if not missing:
        return []
    first = _allocate_numbers(session, venue.id, year, len(missing))
    codes = _new_verification_codes(session, len(missing))
    facts = _session_facts(course_session)
    issued = []
    for offset, (attendee, code) in enumerate(zip(missing, codes)):
        cert = Certificate(**facts, **_serial(venue, year, first + offset),
                           verification_code=code, attendee_id=attendee.id,
                           session_id=course_session.id, name=attendee.name,
                           organisation=attendee.booking.organisation.name,
                           state=CertificateState.VALID, latest=True, issued_at=now)
        session.add(cert)
        issued.append(cert)
    session.flush()
    record_change(session, user, "certificate.issue", course_session, None,
                  {"serials": [c.serial for c in issued],
                   "booking": booking.reference if booking is not None else None})
    # The "certificates ready" e-mail is queued by the staff views (courses.web.public.certificates)
    # from what this returns, before their commit.
    return issued


def complete_and_issue(session: Session, course_session: CourseSession, user: StaffUser | None,
                       now: datetime | None = None) -> tuple[list[Booking], list[Certificate]]:
    """完成场次并签发证书: the ended session's checked-in groups become COMPLETED, then every
    attended attendee without a certificate gets one. Returns (groups completed, issued)."""
    now = now or utcnow()
    groups = complete_session(session, course_session.slot, user, now)
    return groups, issue_certificates(session, course_session, user, now)


def _session_facts(course_session: CourseSession) -> dict:
    slot, course = course_session.slot, course_session.course
    lecturer = course_session.lecturer.name if course_session.lecturer else slot.lecturer_name
    venue = slot.venue
    return dict(programme=course.title, programme_en=course.title_en,
                programme_kind=programme_kind_name(course.kind), title=TITLES[course.kind],
                session_starts_at=slot.starts_at, session_ends_at=slot.ends_at,
                venue_name=venue.name, venue_name_en=venue.name_en,
                training_hours=course.training_hours, lecturer=lecturer or "",
                issuing_unit=venue.issuing_unit or venue.name,
                issuing_unit_en=venue.issuing_unit_en or venue.name_en)


def _serial(venue: Venue, year: int, number: int) -> dict:
    return dict(venue_id=venue.id, year=year, number=number,
                serial=f"{venue.code}-{year}-{number:06d}")


def _counter_row(venue_id: int, year: int):
    return (CertificateCounter.venue_id == venue_id, CertificateCounter.year == year)


def _lock_counter(session: Session, venue_id: int, year: int) -> None:
    """Take the venue-and-year counter row's write lock (creating the row if missing), so
    that issuers of one venue and year run one after the other until commit."""
    touch = (update(CertificateCounter).where(*_counter_row(venue_id, year))
             .values(last_number=CertificateCounter.last_number)
             .execution_options(synchronize_session=False))
    if session.execute(touch).rowcount:
        return
    try:
        with session.begin_nested():
            session.add(CertificateCounter(venue_id=venue_id, year=year, last_number=0))
    except IntegrityError:
        pass  # another issuer created it a moment ago (and has committed: it is visible now)
    session.execute(touch)


def _allocate_numbers(session: Session, venue_id: int, year: int, count: int) -> int:
    """Advance the counter by ``count`` in one atomic UPDATE; the first number taken."""
    session.execute(update(CertificateCounter).where(*_counter_row(venue_id, year))
                    .values(last_number=CertificateCounter.last_number + count)
                    .execution_options(synchronize_session=False))
    last = session.scalar(select(CertificateCounter.last_number)
                          .where(*_counter_row(venue_id, year)))
    return last - count + 1


def _new_verification_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {"".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                 for _ in range(count - len(codes))}
        taken = set(session.scalars(select(Certificate.verification_code)
                                    .where(Certificate.verification_code.in_(fresh))))
        codes |= fresh - taken
    return list(codes)


# --- revoking and reissuing ----------------------------------------------------------------

def _require_staff(user: StaffUser | None) -> None:
    if user is not None and not user.has_role(Role.STAFF):
        raise BookingError("forbidden", _l("只有工作人员和管理员可以撤销或补发证书。"), status=403)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _state_snapshot(cert: Certificate) -> dict:
    return {"serial": cert.serial, "state": cert.state.value, "name": cert.name,
            "revoked_reason": cert.revoked_reason}


def revoke_certificate(session: Session, cert: Certificate, reason: str,
                       user: StaffUser | None) -> None:
    """Withdraw a valid certificate; its verification page then says so. Audited."""
    _require_staff(user)
    reason = _clean(reason)
    if not reason:
        raise BookingError("reason_required", _l("请填写撤销原因。"), status=422, field="reason")
    if len(reason) > MAX_REASON:
        raise BookingError("reason_too_long", _l("原因不能超过 %(n)s 个字符。", n=MAX_REASON),
                           status=422, field="reason")
    if cert.state is not CertificateState.VALID:
        raise BookingError("not_valid", _l("只有有效的证书可以撤销。"))
    before = _state_snapshot(cert)
    cert.state = CertificateState.REVOKED
    cert.revoked_reason = reason
    record_change(session, user, "certificate.revoke", cert, before, _state_snapshot(cert))
    session.flush()


def reissue_certificate(session: Session, cert: Certificate, user: StaffUser | None,
                        new_name: str | None = None,
                        now: datetime | None = None) -> Certificate:
    """Replace a certificate (valid or revoked) with a new one under a new serial and code,
    e.g. to correct a misspelt name. The old one becomes REPLACED and points at the new."""
    now = now or utcnow()
    _require_staff(user)
    name = _clean(new_name) or cert.name
    if len(name) > MAX_NAME:
        raise BookingError("name_too_long", _l("姓名不能超过 %(n)s 个字符。", n=MAX_NAME),
                           status=422, field="name")
    venue = cert.venue
    year = local(now, venue.tz).year
    _lock_counter(session, venue.id, year)
    session.refresh(cert)  # a colleague may have replaced it while we waited for the lock
    if cert.state is CertificateState.REPLACED:
        raise BookingError("already_replaced", _l("该证书已被补发的新证书替代，请在新证书上操作。"))
    before = _state_snapshot(cert)
    cert.state, cert.latest = CertificateState.REPLACED, None
    session.flush()  # the old one gives up ``latest`` before the new one takes it
    number = _allocate_numbers(session, venue.id, year, 1)
    (code,) = _new_verification_codes(session, 1)
    new = Certificate(
        **_serial(venue, year, number), verification_code=code, attendee_id=cert.attendee_id,
        session_id=cert.session_id, state=CertificateState.VALID, latest=True, name=name,
        organisation=cert.organisation, programme=cert.programme,
        programme_en=cert.programme_en, programme_kind=cert.programme_kind, title=cert.title,
        session_starts_at=cert.session_starts_at, session_ends_at=cert.session_ends_at,
        venue_name=cert.venue_name, venue_name_en=cert.venue_name_en,
        training_hours=cert.training_hours, lecturer=cert.lecturer,
        issuing_unit=cert.issuing_unit, issuing_unit_en=cert.issuing_unit_en, issued_at=now)
    session.add(new)
    session.flush()
    cert.replaced_by = new
    record_change(session, user, "certificate.reissue", cert, before,
                  {**_state_snapshot(cert), "replaced_by": new.serial, "new_name": new.name})
    session.flush()
    return new


# --- what is printed --------------------------------------------------------------------------

def display_code(code: str) -> str:
    """7KQ2M9XDP4TR → 7KQ2-M9XD-P4TR, as printed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def hours_text(value: Decimal | None) -> str:
    if not value:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def date_text(starts_at: datetime, ends_at: datetime | None, language: str = "zh") -> str:
    """2026年12月3日 09:00–10:30 / 3 December 2026, 09:00–10:30, local time."""
    return dates.session_when(starts_at, ends_at, language, MUSEUM_TZ)


def title_label(title: str) -> str:
    """A certificate's printed title (学习证明…) in the reader's language."""
    labels = {"学习证明": pgettext("certificate", "学习证明"),
              "研学证明": pgettext("certificate", "研学证明"),
              "参观证明": pgettext("certificate", "参观证明")}
    return labels.get(title, title)


def certificate_language(cert: Certificate) -> str:
    """The language of the booking the certificate was issued for ("zh" or "en")."""
    attendee = cert.attendee
    booking = attendee.booking if attendee is not None else None
    return "en" if booking is not None and booking.language == "en" else "zh"


@lru_cache(maxsize=32)
def _read_seal(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        log.warning("seal image %s unreadable (%s); drawing the default seal", path, error)
        return None


def seal_for(venue_code: str, seal_images: dict | None) -> bytes | None:
    """The configured seal PNG of a venue (``SEAL_IMAGES = {"LBC": "/path/seal.png"}``)."""
    path = (seal_images or {}).get(venue_code)
    return _read_seal(str(path)) if path else None


def certificate_data(cert: Certificate, base_url: str,
                     seal_images: dict | None = None) -> CertificateData:
    """The plain data the renderer prints for ``cert``; the QR code opens
    ``base_url``/verify/<code>. A certificate of a booking made in English also carries the
    English programme, venue, date and issuer for its English lines."""
    english = certificate_language(cert) == "en"
    return CertificateData(
        title=cert.title, serial=cert.serial, name=cert.name, organisation=cert.organisation,
        programme=cert.programme, programme_kind=cert.programme_kind,
        date_text=date_text(cert.session_starts_at, cert.session_ends_at),
        venue=cert.venue_name, training_hours=hours_text(cert.training_hours),
        lecturer=cert.lecturer, issuing_unit=cert.issuing_unit,
        issue_date=local(cert.issued_at, MUSEUM_TZ).date(),
        verification_code=display_code(cert.verification_code),
        verify_url=f"{base_url.rstrip('/')}/verify/{cert.verification_code}",
        seal=seal_for(cert.venue.code, seal_images), status=STATUS_MARKS.get(cert.state),
        english=CertificateEnglish(
            programme=cert.programme_en or cert.programme,
            date_text=date_text(cert.session_starts_at, cert.session_ends_at, "en"),
            venue=cert.venue_name_en or cert.venue_name,
            issuing_unit=cert.issuing_unit_en,
            issue_date=dates.plain_date(local(cert.issued_at, MUSEUM_TZ).date(), "en"))
        if english else None)


def specimen_data(name: str, base_url: str, venue: Venue | None = None,
                  seal_images: dict | None = None,
                  now: datetime | None = None) -> CertificateData:
    """A sample certificate (watermarked 样张 SPECIMEN) for previewing the design."""
    now = now or utcnow()
    unit = (venue.issuing_unit or venue.name) if venue is not None else "刘伯承同志纪念馆"
    code = venue.code if venue is not None else "LBC"
    return CertificateData(
        title="学习证明", serial=f"{code}-{local(now).year}-000000", name=_clean(name) or "张三",
        organisation="中共重庆市开州区汉丰街道工作委员会", programme="学习百年党史 感悟刘帅精神",
        programme_kind="专题党课", venue=unit,
        date_text=date_text(now, None).split(" ")[0] + " 09:00–10:30",
        training_hours="1.5", lecturer="陈静", issuing_unit=unit,
        issue_date=local(now).date(), verification_code="SAMP-LE00-0000",
        verify_url=f"{base_url.rstrip('/')}/verify/SAMPLE000000",
        seal=seal_for(code, seal_images), status="样张 SPECIMEN")
