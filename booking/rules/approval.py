"""Staff approval of pending bookings, and the queue staff decide from.

``approve_booking`` and ``decline_booking`` change state with one conditional UPDATE
(``WHERE state = 'pending'``), so two staff members clicking at once, or the organisation
cancelling at the same moment, can never release the same seats twice. They flush; the
use cases in :mod:`booking.usecases.staff` queue the e-mail to the organisation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from booking.clock import local_today, utcnow
from booking.errors import BookingError, NotFound
from booking.models import (
    Attendee,
    AuditEntry,
    Booking,
    BookingState,
    Organisation,
    Slot,
    StaffUser,
)
from booking.rules import capacity
from booking.rules.audit import record_change
from booking.rules.tokens import normalise_reference
from booking.rules.vocabulary import state_label
from booking.rules.workflow import SeatsFreed, transition_booking

MAX_REASON = 300
#: Bookings that count as a past visit in an organisation's history.
VISITED_STATES = (BookingState.CHECKED_IN, BookingState.COMPLETED)


def get_booking(session: Session, reference: str) -> Booking:
    booking = session.scalar(select(Booking).filter_by(reference=normalise_reference(reference)))
    if booking is None:
        raise NotFound(_l("预约不存在。"))
    return booking


def _snapshot(booking: Booking) -> dict:
    return {"state": booking.state.value, "seats": booking.seats}


def _require_pending(booking: Booking) -> None:
    if booking.state is not BookingState.PENDING:
        raise BookingError("not_pending", _l("该预约当前不是待审批状态（%(state)s），不能再审批。",
                                             state=state_label(booking.state)))


def _transition(session: Session, booking: Booking, now: datetime, **values) -> None:
    """Move the booking out of PENDING, only if it is still PENDING with the seats we saw."""
    transition_booking(session, booking, {BookingState.PENDING}, now, **values)


def approve_booking(session: Session, booking: Booking, user: StaffUser | None,
                    now: datetime | None = None) -> None:
    """PENDING → CONFIRMED. The seats were held from the start; nothing else changes."""
    now = now or utcnow()
    _require_pending(booking)
    before = _snapshot(booking)
    _transition(session, booking, now, state=BookingState.CONFIRMED)
    record_change(session, user, "booking.approve", booking, before, _snapshot(booking))
    session.flush()


def decline_booking(session: Session, booking: Booking, user: StaffUser | None, reason: str,
                    now: datetime | None = None,
                    on_seats_freed: SeatsFreed | None = None) -> None:
    """PENDING → DECLINED with a reason the organisation will see; the seats go back (and on
    to the waiting list through ``on_seats_freed``, see :data:`booking.rules.workflow.SeatsFreed`)."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not reason:
        raise BookingError("reason_required", _l("请填写拒绝理由，预约单位会看到它。"),
                           status=422, field="reason")
    if len(reason) > MAX_REASON:
        raise BookingError("reason_too_long", _l("理由不能超过 %(n)s 个字符。", n=MAX_REASON),
                           status=422, field="reason")
    _require_pending(booking)
    before = _snapshot(booking)
    seats, slot = booking.seats, booking.slot
    _transition(session, booking, now, state=BookingState.DECLINED, seats=0,
                state_reason=reason)
    # Same transaction as the state change: both happen, or neither.
    capacity.release_seats(session, slot, seats)
    if on_seats_freed is not None:  # the waiting list: offer the freed seats, same transaction
        on_seats_freed(session, slot, now)
    record_change(session, user, "booking.decline", booking, before,
                  {**_snapshot(booking), "reason": reason})
    session.flush()


@dataclass(frozen=True)
class OrganisationHistory:
    """What staff weigh before approving: how the organisation has behaved before."""

    past_visits: int = 0
    recent_no_shows: int = 0
    suspended_until: date | None = None


@dataclass(frozen=True)
class QueueItem:
    booking: Booking
    attendee_count: int
    history: OrganisationHistory


def organisation_histories(session: Session, organisation_ids: set[int], today: date,
                           window_days: int) -> dict[int, OrganisationHistory]:
    """Visits (checked in, ever) and no-shows in the last ``window_days``: one aggregate query."""
    if not organisation_ids:
        return {}
    since = today - timedelta(days=window_days)
    rows = session.execute(
        select(Booking.organisation_id,
               func.sum(case((Booking.state.in_(VISITED_STATES), 1), else_=0)),
               func.sum(case((and_(Booking.state == BookingState.NO_SHOW, Slot.day >= since),
                              1), else_=0)),
               Organisation.suspended_until)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Organisation, Organisation.id == Booking.organisation_id)
        .where(Booking.organisation_id.in_(organisation_ids))
        .group_by(Booking.organisation_id, Organisation.suspended_until))
    return {org_id: OrganisationHistory(int(visits or 0), int(no_shows or 0), suspended)
            for org_id, visits, no_shows, suspended in rows}


def attendee_counts(session: Session, booking_ids: list[int]) -> dict[int, int]:
    if not booking_ids:
        return {}
    return dict(session.execute(
        select(Attendee.booking_id, func.count())
        .where(Attendee.booking_id.in_(booking_ids)).group_by(Attendee.booking_id)).all())


def pending_queue(session: Session, window_days: int = 90,
                  today: date | None = None) -> list[QueueItem]:
    """Pending bookings, oldest request first, each with its organisation's history.

    Three queries however long the queue is.
    """
    today = today or local_today()
    bookings = list(session.scalars(
        select(Booking).where(Booking.state == BookingState.PENDING)
        .options(joinedload(Booking.organisation),
                 joinedload(Booking.slot).joinedload(Slot.venue),
                 joinedload(Booking.slot).joinedload(Slot.room))
        .order_by(Booking.created_at, Booking.id)))
    counts = attendee_counts(session, [b.id for b in bookings])
    histories = organisation_histories(session, {b.organisation_id for b in bookings},
                                       today, window_days)
    return [QueueItem(b, counts.get(b.id, 0), histories.get(b.organisation_id,
                                                            OrganisationHistory()))
            for b in bookings]


def pending_since(session: Session, venue, since: datetime | None) -> list[Booking]:
    """The venue's bookings awaiting approval that were made after ``since`` (all if None)."""
    query = (select(Booking).join(Slot, Booking.slot_id == Slot.id)
             .options(joinedload(Booking.organisation), joinedload(Booking.slot))
             .where(Slot.venue_id == venue.id, Booking.state == BookingState.PENDING))
    if since is not None:
        query = query.where(Booking.created_at > since)
    return list(session.scalars(query.order_by(Booking.created_at, Booking.id)))


def count_pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Booking)
                          .where(Booking.state == BookingState.PENDING))


def booking_audit_trail(session: Session, booking: Booking) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.user))
        .where(AuditEntry.object_type == "Booking", AuditEntry.object_id == str(booking.id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())))


def overdue_pending(session: Session, created_before: datetime) -> list[Booking]:
    """Pending bookings made before ``created_before``, oldest first (their seats are held
    while nobody approves them)."""
    return list(session.scalars(select(Booking).where(
        Booking.state == BookingState.PENDING, Booking.created_at < created_before)
        .order_by(Booking.created_at, Booking.id)))
