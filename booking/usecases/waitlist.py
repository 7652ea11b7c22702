"""Waiting-list use cases, and the one place the seats-freed hook is built.

Every change that gives seats back passes :func:`seats_freed_hook` to its rule, so the freed
seats are offered to the queue (and each offer mailed) in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.models import Booking, Slot, StaffUser, WaitlistEntry, WaitlistState
from booking.rules import waitlist
from booking.rules.audit import record_change
from booking.usecases import notifications
from booking.usecases.policy import limits_policy, minors_per_adult
from booking.usecases.transaction import use_case


def hold_hours() -> float:
    return current_app.config["WAITLIST_OFFER_HOURS"]


def seats_freed_hook():
    """The ``on_seats_freed`` hook every seat-freeing use case passes to its rule."""
    return waitlist.offer_to_queue(hold_hours(), on_offer=notifications.queue_waitlist_offer)


def _expire_due(session: Session, slot: Slot | None = None) -> waitlist.ExpiryResult | None:
    """Housekeeping before a waiting-list change: expire due offers and pass their seats on."""
    now = utcnow()
    if not waitlist.expiry_due(session, now, slot):
        return None
    return waitlist.expire_offers(session, now, hold_hours(), slot,
                                  on_offer=notifications.queue_waitlist_offer)


@use_case
def join(session: Session, slot: Slot, request: waitlist.WaitlistRequest
         ) -> tuple[WaitlistEntry, str]:
    _expire_due(session, slot)
    return waitlist.join_waitlist(session, slot, request, limits=limits_policy(),
                                  minors_per_adult=minors_per_adult())


@dataclass
class Acceptance:
    """What accepting an offer came to: a booking (and its manage token), or the news that
    the hold had run out (``expired_at``, the seats passed on down the queue)."""

    booking: Booking | None = None
    manage_token: str | None = None
    expired: WaitlistEntry | None = None


@use_case
def accept_offer(session: Session, token: str) -> Acceptance:
    """Turn the offer into a booking (mailed like any new booking). An offer past its hold
    time is expired on the spot, its seats offered onward, and that is the answer."""
    entry = waitlist.find_entry_by_token(session, token)
    if entry.state is WaitlistState.OFFERED and entry.offer_expires_at <= utcnow():
        _expire_due(session, entry.slot)
        return Acceptance(expired=entry)
    booking, manage_token = waitlist.accept_offer(session, token, utcnow(), minors_per_adult())
    notifications.queue_new_booking_mail(session, booking, manage_token)
    return Acceptance(booking=booking, manage_token=manage_token)


@use_case
def withdraw(session: Session, token: str) -> None:
    """The organisation leaves the queue or declines its offer; held seats move on."""
    waitlist.withdraw(session, token, utcnow(), hold_hours(),
                      on_offer=notifications.queue_waitlist_offer)


@use_case
def offer_now(session: Session, slot: Slot, user: StaffUser) -> list[WaitlistEntry]:
    """Staff offer a slot's free seats to its queue now (audited)."""
    _expire_due(session, slot)
    taken_before = slot.taken
    offered = waitlist.offer_freed_seats(session, slot, utcnow(), hold_hours(),
                                         on_offer=notifications.queue_waitlist_offer)
    if offered:
        record_change(session, user, "waitlist.offer", slot, before={"taken": taken_before},
                      after={"taken": slot.taken,
                             "offered": [{"entry": e.id, "seats": e.seats_held} for e in offered]})
    return offered


@use_case
def withdraw_entry(session: Session, entry: WaitlistEntry, user: StaffUser) -> None:
    """Staff take an entry off the list (audited); held seats move on down the queue."""
    before = {"state": entry.state.value, "seats_held": entry.seats_held}
    offered = waitlist.withdraw_entry(session, entry, utcnow(), hold_hours(),
                                      on_offer=notifications.queue_waitlist_offer)
    record_change(session, user, "waitlist.withdraw", entry, before=before,
                  after={"state": entry.state.value, "seats_held": entry.seats_held,
                         "offered_onward": [e.id for e in offered]})


def expire_offers(session: Session) -> waitlist.ExpiryResult:
    """The cron job: expire every due offer and offer the seats onward."""
    return waitlist.expire_offers(session, utcnow(), hold_hours(),
                                  on_offer=notifications.queue_waitlist_offer)
