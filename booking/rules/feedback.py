"""Feedback on a completed visit: who may give it, giving it once, hiding a comment, the
figures staff read, and the retention purge.

No login: the organisation reaches the form from its manage link (the manage token) or from
the certificates-ready mail, whose link carries a token derived from the booking reference and
the app's secret key (the manage token itself is never stored, so a mail sent later cannot
hold it). Either token authorises that one booking's feedback.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.errors import BookingError, NotFound
from booking.models import Booking, BookingState, Feedback, StaffUser
from booking.rules import tokens
from booking.rules.audit import record_change

MAX_COMMENT = 500
FEEDBACK_STATES = (BookingState.COMPLETED,)


def feedback_token(reference: str, secret: str) -> str:
    """The token of the feedback link in mails: stable per booking, unguessable."""
    digest = hmac.new(secret.encode("utf-8"), f"feedback:{reference}".encode(),
                      hashlib.sha256).hexdigest()
    return digest[:32]


def find_booking_for_feedback(session: Session, reference: str, token: str,
                              secret: str) -> Booking:
    """The booking a feedback link is for: its manage token or its feedback token."""
    booking = session.scalar(select(Booking).filter_by(
        reference=tokens.normalise_reference(reference)))
    if booking is not None:
        by_manage = hmac.compare_digest(booking.manage_token_hash,
                                        tokens.hash_secret(token or ""))
        by_mail = hmac.compare_digest(feedback_token(booking.reference, secret), token or "")
        if by_manage or by_mail:
            return booking
    raise NotFound(_l("预约不存在或链接无效。"))


def can_give_feedback(booking: Booking) -> bool:
    return booking.state in FEEDBACK_STATES


def feedback_of(session: Session, booking: Booking) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.booking_id == booking.id))


def give_feedback(session: Session, booking: Booking, overall: int, lecturer_rating: int | None,
                  comment: str) -> Feedback:
    """Record the booking's one feedback; a second is refused."""
    if not can_give_feedback(booking):
        raise BookingError("feedback_too_early", _l("活动完成后才能评价。"), status=409)
    if not 1 <= overall <= 5 or (lecturer_rating is not None and not 1 <= lecturer_rating <= 5):
        raise BookingError("feedback_rating", _l("评分须为 1 到 5 星。"), status=422,
                           field="overall")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise BookingError("feedback_comment", _l("意见最多 %(n)s 个字。", n=MAX_COMMENT),
                           status=422, field="comment")
    if feedback_of(session, booking) is not None:
        raise BookingError("feedback_given", _l("本次预约已经评价过了，谢谢！"), status=409)
    slot = booking.slot
    feedback = Feedback(booking_id=booking.id, venue_id=slot.venue_id,
                        programme=slot.programme or slot.title, title=slot.title,
                        title_en=slot.title_en or "", lecturer_name=slot.lecturer_name or "",
                        overall=overall, lecturer_rating=lecturer_rating, comment=comment)
    try:
        with session.begin_nested():  # two tabs at once: the unique booking_id says no
            session.add(feedback)
            session.flush()
    except IntegrityError:
        raise BookingError("feedback_given", _l("本次预约已经评价过了，谢谢！"),
                           status=409) from None
    return feedback


def set_hidden(session: Session, user: StaffUser, feedback: Feedback, hidden: bool) -> None:
    """Hide an abusive comment from staff pages (or show it again); its ratings still count."""
    if feedback.hidden == hidden:
        return
    record_change(session, user, "feedback.hide" if hidden else "feedback.show", feedback,
                  before={"hidden": feedback.hidden}, after={"hidden": hidden})
    feedback.hidden = hidden
    session.flush()


@dataclass
class Rating:
    """Averages under one programme or lecturer."""

    key: str
    title: str
    title_en: str
    count: int
    overall: float | None
    lecturer: float | None


def _ratings(session: Session, column, label, label_en, since: datetime | None) -> list[Rating]:
    query = (select(column, func.min(label), func.min(label_en), func.count(Feedback.id),
                    func.avg(Feedback.overall), func.avg(Feedback.lecturer_rating))
             .group_by(column).order_by(func.count(Feedback.id).desc(), column))
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    return [Rating(key or "", title or "", title_en or "", count,
                   None if overall is None else round(float(overall), 2),
                   None if lecturer is None else round(float(lecturer), 2))
            for key, title, title_en, count, overall, lecturer in session.execute(query)]


def ratings_by_programme(session: Session, since: datetime | None = None) -> list[Rating]:
    return _ratings(session, Feedback.programme, Feedback.title, Feedback.title_en, since)


def ratings_by_lecturer(session: Session, since: datetime | None = None) -> list[Rating]:
    return _ratings(session, Feedback.lecturer_name, Feedback.lecturer_name,
                    Feedback.lecturer_name, since)


def purge_feedback_personal_data(session: Session, created_before: datetime,
                                 now: datetime | None = None) -> int:
    """The retention purge's hook: blank the comments of feedback older than the cutoff and
    unlink their bookings (so bookings may then be deleted). Ratings, programme and lecturer
    stay for the figures. Returns how many were purged; safe to call repeatedly."""
    result = session.execute(
        update(Feedback).where(Feedback.created_at < created_before,
                               Feedback.purged_at.is_(None))
        .values(comment="", booking_id=None, purged_at=now or utcnow())
        .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0
