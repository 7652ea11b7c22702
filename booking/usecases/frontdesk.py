"""What the front desk does for a group: book on its behalf, edit, move, cancel.

Each function is the whole change, as every staff face makes it: the rule (which audits),
the freed seats offered to the waiting list (:func:`seats_freed_hook`), the calendar
SEQUENCE bump (in the rule's conditional update) and the mail to the organisation.
See :mod:`booking.usecases`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from booking.models import Booking, Slot, StaffUser
from booking.rules import frontdesk, workflow
from booking.rules.frontdesk import BookingEdit, StaffOverrides
from booking.usecases import notifications
from booking.usecases.transaction import use_case
from booking.usecases.waitlist import seats_freed_hook


@use_case
def book_on_behalf(session: Session, request: workflow.BookingRequest, user: StaffUser,
                   overrides: StaffOverrides = StaffOverrides()) -> tuple[Booking, str]:
    """Book for a group by phone or at the desk; the organisation gets the usual mail with
    its manage link."""
    booking, token = frontdesk.book_on_behalf(session, request, user, overrides)
    notifications.queue_new_booking_mail(session, booking, token)
    return booking, token


@use_case
def edit_booking(session: Session, booking: Booking, edit: BookingEdit, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides()) -> None:
    """Staff correct a booking; seats given back go to the waiting list; the organisation
    is told what the booking now says."""
    frontdesk.edit_booking(session, booking, edit, user, overrides,
                           on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "changed")


@use_case
def move_booking(session: Session, booking: Booking, new_slot: Slot, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides()) -> Slot:
    """Move to another session at once (or not at all); the old session's freed seats are
    offered to its queue, and the organisation gets the new date."""
    old_slot = frontdesk.move_booking(session, booking, new_slot, user, overrides,
                                      on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "moved")
    return old_slot


@use_case
def cancel_by_museum_for_booking(session: Session, booking: Booking, reason: str,
                                 user: StaffUser) -> None:
    """Staff cancel one booking with a reason the organisation reads; seats to the queue."""
    frontdesk.cancel_for_museum(session, booking, reason, user, on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "cancelled_by_museum")
