"""Finding certificates, read-only: a booking's (for its manage page), a session's and its
certified groups (for the staff pages), the recent sessions to issue for, a visitor's by
booking reference and name, and one by its verification code (the QR target).

Issuing, revoking and reissuing are in :mod:`courses.rules.issuing`.
"""
from __future__ import annotations

import hmac
import unicodedata
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.clock import local_today
from booking.errors import NotFound
from booking.models import Attendee, Booking, Role, Slot, SlotState, StaffUser
from booking.rules.tokens import normalise_reference
from courses.models import Certificate, CertificateState, CourseSession
from courses.rules.issuing import CERTIFIED_STATES, CODE_LENGTH


def _valid_of_booking(booking_id: int):
    return (select(Certificate).join(Attendee, Certificate.attendee_id == Attendee.id)
            .where(Attendee.booking_id == booking_id,
                   Certificate.state == CertificateState.VALID)
            .order_by(Attendee.position, Attendee.id, Certificate.id))


def booking_certificates(session: Session, booking: Booking) -> list[Certificate]:
    """The valid certificates of a booking's attendees, in list order."""
    return list(session.scalars(_valid_of_booking(booking.id)))


def session_certificates(session: Session, course_session: CourseSession) -> list[Certificate]:
    """Every certificate of a session (replaced and revoked ones too), by group and list."""
    return list(session.scalars(
        select(Certificate).join(Attendee, Certificate.attendee_id == Attendee.id)
        .join(Booking, Attendee.booking_id == Booking.id)
        .where(Certificate.session_id == course_session.id)
        .order_by(Booking.created_at, Booking.id, Attendee.position, Attendee.id,
                  Certificate.id)))


def certified_bookings(session: Session, course_session: CourseSession) -> list[Booking]:
    """The session's groups whose attendees can hold certificates (checked in or completed)."""
    return list(session.scalars(select(Booking).where(
        Booking.slot_id == course_session.slot_id, Booking.state.in_(CERTIFIED_STATES))
        .order_by(Booking.created_at, Booking.id)))


def recent_sessions(session: Session, now: datetime, days: int, user: StaffUser | None
                    ) -> list[tuple[CourseSession, int, int]]:
    """Sessions that started in the last ``days`` days (a guide: their own) and had someone
    attend, newest first, each with its attended-attendee count and how many certificates it
    has issued (revoked ones included: they were dealt with; replaced ones not)."""
    query = (select(CourseSession).join(Slot, CourseSession.slot_id == Slot.id)
             .where(Slot.day >= local_today(now) - timedelta(days=days), Slot.starts_at <= now,
                    Slot.state != SlotState.CANCELLED)
             .order_by(Slot.starts_at.desc(), Slot.id))
    if user is not None and user.role is Role.GUIDE:
        query = query.where(Slot.guide_user_id == user.id)
    found = list(session.scalars(query))
    attended = dict(session.execute(
        select(Booking.slot_id, func.count(Attendee.id))
        .join(Attendee, Attendee.booking_id == Booking.id)
        .where(Booking.slot_id.in_([cs.slot_id for cs in found]),
               Booking.state.in_(CERTIFIED_STATES), Attendee.attended.is_(True))
        .group_by(Booking.slot_id)).all())
    issued = dict(session.execute(
        select(Certificate.session_id, func.count(Certificate.id))
        .where(Certificate.session_id.in_([cs.id for cs in found]),
               Certificate.latest.is_(True))
        .group_by(Certificate.session_id)).all())
    return [(cs, attended.get(cs.slot_id, 0), issued.get(cs.id, 0)) for cs in found
            if attended.get(cs.slot_id) or issued.get(cs.id)]


def name_key(name: str) -> str:
    """A name as people may type it: NFKC, any middle dot as ·, no spaces, case-folded."""
    text = unicodedata.normalize("NFKC", name or "")
    for dot in "•‧・･.．∙⋅":
        text = text.replace(dot, "·")
    return "".join(text.split()).casefold()


def find_visitor_certificates(session: Session, reference: str, name: str) -> list[Certificate]:
    """A visitor's valid certificates from a booking reference and their own name (two
    people of one name in one booking get both). A wrong reference and a wrong name take
    the same path -- the same queries, the same comparisons -- and raise the same error."""
    booking_id = session.scalar(select(Booking.id).filter_by(
        reference=normalise_reference(reference or "")))
    candidates = session.scalars(_valid_of_booking(booking_id if booking_id else -1)).all()
    wanted = name_key(name).encode()
    found = [c for c in candidates if hmac.compare_digest(name_key(c.name).encode(), wanted)]
    if not found:
        raise NotFound(_l("没有找到与预约编号和姓名相符的证书。请核对后重试；证书在场次结束、"
                          "工作人员签发后才能下载。"))
    return found


def normalise_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:CODE_LENGTH * 2]


def find_by_code(session: Session, code: str) -> Certificate:
    cert = session.scalar(select(Certificate).filter_by(verification_code=normalise_code(code)))
    if cert is None:
        raise NotFound(_l("没有找到该验证码对应的证书。"))
    return cert


def certificates_per_booking(session: Session, start, end, venue_id: int | None = None
                             ) -> dict[int, int]:
    """Valid certificates per booking, sessions on days in [start, end]: the statistics'
    certificate source (registered when the app is assembled; booking cannot import us)."""
    query = (select(Attendee.booking_id, func.count(Certificate.id))
             .join(Certificate, Certificate.attendee_id == Attendee.id)
             .join(CourseSession, Certificate.session_id == CourseSession.id)
             .join(Slot, CourseSession.slot_id == Slot.id)
             .where(Certificate.state == CertificateState.VALID, Slot.day >= start,
                    Slot.day <= end)
             .group_by(Attendee.booking_id))
    if venue_id is not None:
        query = query.where(Slot.venue_id == venue_id)
    return {booking_id: count for booking_id, count in session.execute(query)}
