"""What the front desk does for a group: book on its behalf, edit, move, cancel.

Each function is the whole change, as every staff face makes it: the rule (which audits),
the freed seats offered to the waiting list (:func:`seats_freed_hook`), the calendar
SEQUENCE bump (in the rule's conditional update) and the mail to the organisation.
See :mod:`booking.usecases`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking.models import Booking, Slot, StaffUser, Venue
from booking.rules import approval, frontdesk, workflow
from booking.rules.frontdesk import BookingEdit, StaffOverrides
from booking.rules.party_makeup import PartyMakeup
from booking.usecases import notifications
from booking.usecases.policy import limits_policy, minors_per_adult
from booking.usecases.transaction import use_case
from booking.usecases.waitlist import seats_freed_hook


@use_case
def book_on_behalf(session: Session, request: workflow.BookingRequest, user: StaffUser,
                   overrides: StaffOverrides = StaffOverrides()) -> tuple[Booking, str]:
    """Book for a group by phone or at the desk (within the per-contact limits unless
    overridden); the organisation gets the usual mail with its manage link."""
    booking, token = frontdesk.book_on_behalf(session, request, user, overrides,
                                              limits=limits_policy(),
                                              minors_per_adult=minors_per_adult())
    notifications.queue_new_booking_mail(session, booking, token)
    return booking, token


@use_case
def edit_booking(session: Session, booking: Booking, edit: BookingEdit, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides()) -> None:
    """Staff correct a booking; seats given back go to the waiting list; the organisation
    is told what the booking now says."""
    frontdesk.edit_booking(session, booking, edit, user, overrides,
                           on_seats_freed=seats_freed_hook(), minors_per_adult=minors_per_adult())
    notifications.queue_booking_mail(session, booking, "changed")


@use_case
def move_booking(session: Session, booking: Booking, new_slot: Slot, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides(),
                 makeup: PartyMakeup | None = None) -> Slot:
    """Move to another session at once (or not at all); the old session's freed seats are
    offered to its queue, and the organisation gets the new date."""
    old_slot = frontdesk.move_booking(session, booking, new_slot, user, overrides,
                                      on_seats_freed=seats_freed_hook(), makeup=makeup,
                                      minors_per_adult=minors_per_adult())
    notifications.queue_booking_mail(session, booking, "moved")
    return old_slot


@use_case
def cancel_by_museum_for_booking(session: Session, booking: Booking, reason: str,
                                 user: StaffUser) -> None:
    """Staff cancel one booking with a reason the organisation reads; seats to the queue."""
    frontdesk.cancel_for_museum(session, booking, reason, user, on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "cancelled_by_museum")


def queue_pending_digests(session: Session, now: datetime, recipients: list[str],
                          interval: timedelta, base_url: str | None = None) -> int:
    """The job behind ``flask queue-pending-digest``: per venue, at most once per
    ``interval``, one message listing the bookings that started waiting for approval since
    the last digest. Each venue's mark moves by a conditional UPDATE, so overlapping runs
    never queue one digest twice. Returns how many venues got one."""
    if not recipients:
        return 0
    sent = 0
    for venue in session.scalars(select(Venue).order_by(Venue.position, Venue.id)).all():
        since = venue.pending_digest_at
        if since is not None and now - since < interval:
            continue
        waiting = approval.pending_since(session, venue, since)
        if not waiting:
            continue
        claimed = session.execute(
            update(Venue).where(Venue.id == venue.id, Venue.pending_digest_at.is_(None)
                                if since is None else Venue.pending_digest_at == since)
            .values(pending_digest_at=now).execution_options(synchronize_session=False))
        session.expire(venue, ["pending_digest_at"])
        if claimed.rowcount == 1:
            notifications.queue_pending_digest(session, venue, waiting, recipients, base_url)
            sent += 1
    return sent
