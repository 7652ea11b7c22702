"""What an organisation does with its booking: book, change, cancel, recover the link.

Each function is the whole change, as every face makes it: the rule, the seats offered to
the waiting list when some are freed, and the mail. See :mod:`booking.usecases`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Booking
from booking.rules import idempotency, manage_links, workflow
from booking.rules.party_makeup import NOT_GIVEN, PartyMakeup
from booking.usecases import letters, notifications
from booking.usecases.policy import limits_policy, minors_per_adult
from booking.usecases.transaction import use_case
from booking.usecases.waitlist import seats_freed_hook

log = logging.getLogger(__name__)


@use_case
def book(session: Session, request: workflow.BookingRequest,
         letter: bytes | None = None) -> tuple[Booking, str]:
    """Book seats within the limits per contact (and a study tour's ratio), with the
    introduction letter when one is sent (a bad letter refuses the whole booking); the
    "received" or "confirmed" mail carries the manage link."""
    booking, token = workflow.create_booking(session, request, limits=limits_policy(),
                                             minors_per_adult=minors_per_adult())
    if letter is not None:
        letters.store_letter(session, booking, letter)
    notifications.queue_new_booking_mail(session, booking, token)
    return booking, token


@use_case
def upload_letter(session: Session, booking: Booking, letter: bytes) -> None:
    """The group sends (or replaces) its introduction letter from the manage page; the one
    replaced is deleted once this is committed."""
    letters.store_letter(session, booking, letter)


@use_case
def replace_attendees(session: Session, booking: Booking, names: list[str]) -> None:
    workflow.replace_attendees(session, booking, names)


@use_case
def change_party_size(session: Session, booking: Booking, party_size: int,
                      makeup: PartyMakeup = NOT_GIVEN) -> None:
    """Lower the party size (a study tour: with its adults and minors); the seats given back
    go to the waiting list."""
    workflow.change_party_size(session, booking, party_size, on_seats_freed=seats_freed_hook(),
                               makeup=makeup, minors_per_adult=minors_per_adult())


@use_case
def cancel_by_organisation(session: Session, booking: Booking, reason: str = "") -> None:
    """The organisation cancels (until the deadline): seats back, on to the waiting list,
    and the "cancelled" mail."""
    workflow.cancel_booking(session, booking, reason=reason, on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "cancelled")


def remind_tomorrows_groups(session: Session, base_url: str | None = None) -> int:
    """The daily job: the day-before reminder (with the booking's .ics) to every confirmed
    group coming tomorrow, once per booking. Returns how many were queued."""
    return notifications.queue_reminders(session, utcnow(), base_url)


@use_case
def recover_manage_link(session: Session, reference: str, phone: str) -> tuple[Booking, str]:
    """Reference + contact phone give a fresh manage link (the lost one stops working)."""
    return manage_links.recover_manage_link(session, reference, phone)


@dataclass
class StoredAnswer:
    """The answer to an API booking request sent with an Idempotency-Key: the first answer
    for that key, given again (``replayed``) to every retry of the same request."""

    status: int
    body: str
    replayed: bool = False


@use_case
def book_once(session: Session, request: workflow.BookingRequest, key: str, fingerprint: str,
              answer_created: Callable[[Booking, str], str],
              answer_refused: Callable[[BookingError], str],
              answer_replayed: Callable[[Booking], str] | None = None) -> StoredAnswer:
    """Book under an idempotency key: the booking (if any) and the answer stored for the key
    commit together, or not at all. A refusal is an answer too, stored like a booking.

    ``answer_created(booking, token)`` and ``answer_refused(error)`` write the response body
    (the face's representation). The record keeps ``answer_replayed(booking)`` for a booking
    instead, without the manage token: a secret is not stored in clear for a day. Raises
    BookingError when the key is in use for another request body or still in flight.
    """
    claim = idempotency.claim_key(session, key, fingerprint)
    if not claim.fresh:
        return StoredAnswer(claim.status_code, claim.body, replayed=True)
    try:
        with session.begin_nested():  # a refusal undoes the rule's writes, not the claim
            booking, token = workflow.create_booking(session, request, limits=limits_policy(),
                                                     minors_per_adult=minors_per_adult())
            notifications.queue_new_booking_mail(session, booking, token)
        answer = StoredAnswer(201, answer_created(booking, token))
        stored = answer_replayed(booking) if answer_replayed else answer.body
    except BookingError as refused:
        if refused.status >= 500:
            raise
        answer = StoredAnswer(refused.status, answer_refused(refused))
        stored = answer.body
    idempotency.record_answer(claim, answer.status, stored)
    _purge_old_records(session)
    return answer


def _purge_old_records(session: Session) -> None:
    """Opportunistic clean-up in the same transaction; a failure here must not fail the
    booking, so it runs in a savepoint of its own."""
    if not idempotency.purge_due():
        return
    try:
        with session.begin_nested():
            idempotency.purge_expired_records(session)
    except SQLAlchemyError:
        log.warning("purging old idempotency records failed", exc_info=True)
