"""What museum staff do to bookings, sessions, days and accounts.

Each function is the whole change as every staff face (pages, the staff API, the CLI) makes
it: the rule (which audits), the seats offered to the waiting list, and the mail owed to
the organisations. See :mod:`booking.usecases`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.models import Booking, Organisation, Role, Slot, StaffUser, Venue, VenueDay
from booking.rules import accounts, approval, checkin, closures, organisations, two_factor, waitlist
from booking.usecases import notifications
from booking.usecases.transaction import use_case
from booking.usecases.waitlist import seats_freed_hook


def no_show_policy() -> checkin.NoShowPolicy:
    return checkin.NoShowPolicy.from_config(current_app.config)


# --- approval ---------------------------------------------------------------------------------

@use_case
def approve(session: Session, booking: Booking, user: StaffUser) -> None:
    """Confirm a pending booking and tell the organisation."""
    approval.approve_booking(session, booking, user)
    notifications.queue_booking_mail(session, booking, "confirmed")


@use_case
def decline(session: Session, booking: Booking, user: StaffUser, reason: str) -> None:
    """Decline a pending booking with a reason: its seats go to the waiting list, and the
    organisation reads the reason in its mail."""
    approval.decline_booking(session, booking, user, reason, on_seats_freed=seats_freed_hook())
    notifications.queue_booking_mail(session, booking, "declined")


#: What a group reads when its booking lapsed unapproved (stored once, so in both languages).
LAPSED_REASON = ("未在规定时间内获批，预约已自动失效，座位已释放，欢迎重新预约。"
                 " / Not approved in time: the booking has lapsed and its seats were released;"
                 " you are welcome to book again.")


@use_case
def expire_unapproved(session: Session, now: datetime | None = None) -> list[Booking]:
    """The job: pending bookings staff have not approved within PENDING_APPROVAL_HOURS lapse,
    their seats go back (and on to the waiting list), and the group is told by mail. A flood
    of fake bookings so frees itself even when nobody declines them."""
    hours = float(current_app.config.get("PENDING_APPROVAL_HOURS") or 0)
    if hours <= 0:
        return []
    now = now or utcnow()
    lapsed = approval.overdue_pending(session, now - timedelta(hours=hours))
    for booking in lapsed:
        approval.decline_booking(session, booking, None, LAPSED_REASON, now=now,
                                 on_seats_freed=seats_freed_hook())
        notifications.queue_booking_mail(session, booking, "declined")
    return lapsed


# --- running the day --------------------------------------------------------------------------

@use_case
def check_in_group(session: Session, booking: Booking, headcount: int, user: StaffUser) -> None:
    checkin.check_in_group(session, booking, headcount, user)


@use_case
def set_attendance(session: Session, booking: Booking, attended_ids: set[int],
                   user: StaffUser) -> None:
    checkin.set_attendance(session, booking, attended_ids, user)


@use_case
def add_walk_in(session: Session, booking: Booking, name: str, user: StaffUser):
    return checkin.add_walk_in(session, booking, name, user)


@use_case
def mark_no_show(session: Session, booking: Booking, user: StaffUser) -> bool:
    """After the session: the group never came. Returns True when that suspends the
    organisation. (The session is over, so no seats are left to offer anyone.)"""
    return checkin.mark_no_show(session, booking, user, policy=no_show_policy())


@use_case
def mark_session_no_shows(session: Session, slot: Slot, user: StaffUser) -> list[Booking]:
    return checkin.mark_session_no_shows(session, slot, user, policy=no_show_policy())


@use_case
def complete_session(session: Session, slot: Slot, user: StaffUser) -> list[Booking]:
    return checkin.complete_session(session, slot, user)


@use_case
def lift_suspension(session: Session, organisation: Organisation, user: StaffUser) -> None:
    checkin.lift_suspension(session, organisation, user)


@use_case
def extend_suspension(session: Session, organisation: Organisation, until: date, reason: str,
                      user: StaffUser) -> None:
    organisations.extend_suspension(session, organisation, until, reason, user)


@use_case
def set_organisation_limits(session: Session, organisation: Organisation, upcoming: int | None,
                            seats_per_day: int | None, user: StaffUser) -> None:
    organisations.set_limits(session, organisation, upcoming, seats_per_day, user)


@use_case
def set_organisation_notes(session: Session, organisation: Organisation, notes: str,
                           user: StaffUser) -> None:
    organisations.set_notes(session, organisation, notes, user)


# --- the museum calls things off --------------------------------------------------------------

@use_case
def cancel_by_museum(session: Session, slot: Slot, reason: str, user: StaffUser,
                     reason_en: str = "") -> list[Booking]:
    """Cancel a session: every group in it is cancelled by the museum with the reason and
    told; its waiting list ends with it, and the waiting groups are told too."""
    waiting = waitlist.live_entries(session, slot)
    cancelled = closures.cancel_slot(session, slot, reason, user, reason_en=reason_en)
    notifications.queue_booking_mails(session, cancelled, "cancelled_by_museum")
    _tell_waiting_groups(session, waiting, slot.cancel_reason, slot.cancel_reason_en)
    return cancelled


def _tell_waiting_groups(session: Session, entries, reason: str, reason_en: str = "") -> None:
    for entry in entries:
        notifications.queue_waitlist_closed(session, entry, reason, reason_en=reason_en)


@use_case
def close_day(session: Session, venue: Venue, day: date, reason: str,
              user: StaffUser, reason_en: str = "") -> closures.DayClosure:
    """Close a day at short notice: its sessions are cancelled and every group told, booked
    or waiting."""
    waiting = [entry for slot in closures.live_slots_on(session, venue, day)
               for entry in waitlist.live_entries(session, slot)]
    closed = closures.close_day(session, venue, day, reason, user, reason_en=reason_en)
    notifications.queue_booking_mails(session, closed.bookings, "cancelled_by_museum")
    _tell_waiting_groups(session, waiting, closed.venue_day.reason or reason,
                         closed.venue_day.reason_en)
    return closed


@use_case
def force_open_day(session: Session, venue: Venue, day: date, reason: str,
                   user: StaffUser, reason_en: str = "") -> VenueDay:
    return closures.force_open_day(session, venue, day, reason, user, reason_en=reason_en)


@use_case
def reopen_day(session: Session, venue: Venue, day: date, user: StaffUser) -> VenueDay:
    return closures.reopen_day(session, venue, day, user)


# --- accounts ---------------------------------------------------------------------------------

@use_case
def sign_in(session: Session, username: str, password: str) -> StaffUser:
    return accounts.authenticate(session, username, password)


@use_case
def create_user(session: Session, actor: StaffUser | None, username: str, role: Role,
                password: str, display_name: str = "") -> StaffUser:
    return accounts.create_user(session, actor, username, role, password, display_name)


@use_case
def change_role(session: Session, actor: StaffUser, user: StaffUser, role: Role) -> None:
    accounts.change_role(session, actor, user, role)


@use_case
def set_active(session: Session, actor: StaffUser, user: StaffUser, active: bool) -> None:
    accounts.set_active(session, actor, user, active)


@use_case
def sign_out(session: Session, user: StaffUser) -> None:
    """Sign ``user`` out: this session and every copy of its cookie stop working."""
    accounts.end_sessions(session, None, user)


@use_case
def sign_out_everywhere(session: Session, actor: StaffUser, user: StaffUser) -> None:
    accounts.end_sessions(session, actor, user)


@use_case
def reset_password(session: Session, actor: StaffUser, user: StaffUser, password: str) -> None:
    accounts.reset_password(session, actor, user, password)


# --- the TOTP second factor -------------------------------------------------------------------

@use_case
def verify_second_factor(session: Session, user: StaffUser, code: str) -> None:
    """The second step of signing in: the code is spent even when the caller goes no further."""
    two_factor.verify_code(session, user, code)


@use_case
def enable_totp(session: Session, user: StaffUser, secret: str, code: str) -> None:
    two_factor.enable(session, user, secret, code)


@use_case
def disable_totp(session: Session, user: StaffUser, password: str, code: str) -> None:
    two_factor.disable(session, user, password, code)


@use_case
def reset_totp(session: Session, actor: StaffUser | None, user: StaffUser) -> None:
    two_factor.reset(session, actor, user)
