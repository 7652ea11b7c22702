"""Running a session on the day: group check-in, attendance ticks, walk-ins and no-shows.

The life of a booking on its day::

    CONFIRMED --check_in_group--> CHECKED_IN --complete_session--> COMPLETED
        \\--mark_no_show (after the end)--> NO_SHOW

* A group is checked in with the headcount that actually arrived, from 30 minutes before
  the start until the end of the session's (local) day. The headcount may be corrected in
  the same window. It is at least 1 (nobody came: that is a no-show) and at most the party
  size: people beyond the booking are added one by one as walk-ins, because each of them
  must claim a seat in the slot and the day (rule 1: no oversell).
* Attendance ticks (what certificates are issued from) are set after check-in, also after
  the session was completed, so staff can correct them for certificates.
* ``complete_session`` is optional bookkeeping: statistics count CHECKED_IN and COMPLETED
  alike. It closes the day's work for a session so the roster shows it as done.
* A no-show keeps its seats: the slot is past, nobody else can use them, and the counters
  stay equal to what the bookings say. ``policy.limit`` no-shows whose session day lies in
  the last ``policy.window_days`` days suspend the organisation from booking for
  ``policy.suspension_days`` days. Future bookings it already holds are left alone; staff
  see the suspension on the roster and on the organisation's page and may lift it.

Guides may act only on the groups of sessions they run (``Slot.guide_user_id``); staff and
admins on every group. Every change is written to the audit log. Rule functions flush and
raise :class:`BookingError`; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.clock import at_local, local, local_today, utcnow
from booking.errors import BookingError
from booking.models import (
    Attendee,
    Booking,
    BookingState,
    Organisation,
    Role,
    Slot,
    SlotState,
    StaffUser,
)
from booking.rules import capacity
from booking.rules.audit import record_change
from booking.rules.workflow import MAX_ATTENDEE_NAME

CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)


@dataclass(frozen=True)
class NoShowPolicy:
    """How many no-shows (``limit``) within ``window_days`` suspend for ``suspension_days``."""

    limit: int = 3
    window_days: int = 90
    suspension_days: int = 90

    @classmethod
    def from_config(cls, config) -> NoShowPolicy:
        return cls(limit=int(config["NO_SHOW_LIMIT"]),
                   window_days=int(config["NO_SHOW_WINDOW_DAYS"]),
                   suspension_days=int(config["NO_SHOW_SUSPENSION_DAYS"]))


def sees_full_phone(user: StaffUser | None, day: date, today: date) -> bool:
    """Staff and admins see contact phones in full; a guide only for today's sessions, when
    a call may be needed (PIPL: no more than the job needs)."""
    return user is None or user.role is not Role.GUIDE or day == today


def can_run_session(user: StaffUser | None, slot: Slot) -> bool:
    """Staff and admins run every session; a guide only the sessions assigned to them.

    ``None`` is the system itself (CLI, scripted jobs) and may do everything.
    """
    if user is None or user.role in (Role.ADMIN, Role.STAFF):
        return True
    return user.role is Role.GUIDE and slot.guide_user_id == user.id


def _require_runs(user: StaffUser | None, slot: Slot) -> None:
    if not can_run_session(user, slot):
        raise BookingError("not_your_session",
                           _l("这不是您负责的场次，您只能为自己场次的团体签到。"), status=403)


def _snapshot(booking: Booking) -> dict:
    return {"state": booking.state.value, "party_size": booking.party_size,
            "seats": booking.seats, "arrived_count": booking.arrived_count}


def check_in_window(slot: Slot) -> tuple[datetime, datetime]:
    """From 30 minutes before the start until midnight ending the session's local day."""
    tz = slot.venue.tz
    return (slot.starts_at - CHECK_IN_OPENS_BEFORE,
            at_local(slot.day + timedelta(days=1), time(0), tz))


def _require_check_in_state(booking: Booking) -> None:
    state = booking.state
    if booking.slot.state is SlotState.CANCELLED:
        raise BookingError("slot_cancelled", _l("该场次已取消，不能签到。"))
    if state in (BookingState.CONFIRMED, BookingState.CHECKED_IN):
        return
    messages = {
        BookingState.PENDING: _l("该预约尚未审核通过，请先审核再签到。"),
        BookingState.NO_SHOW: _l("该团体已被标记为未到，不能再签到。"),
        BookingState.COMPLETED: _l("该团体的场次已完成，不能再修改到场人数。"),
    }
    raise BookingError("not_checkable",
                       messages.get(state, _l("该预约已取消或已被拒绝，不能签到。")))


def check_in_group(session: Session, booking: Booking, headcount: int,
                   user: StaffUser | None, now: datetime | None = None) -> None:
    """Check a confirmed group in with the headcount that arrived (or correct that headcount)."""
    now = now or utcnow()
    slot = booking.slot
    _require_runs(user, slot)
    _require_check_in_state(booking)
    if headcount < 1:
        raise BookingError("headcount", _l("到场人数至少为 1 人；整团未到请在场次结束后标记为未到。"),
                           status=422, field="headcount")
    if headcount > booking.party_size:
        raise BookingError("headcount", _l(
            "到场人数（%(n)s 人）超过预约人数（%(size)s 人）；多出的人员请作为现场人员逐一添加。",
            n=headcount, size=booking.party_size), status=422, field="headcount")
    ticked = sum(1 for a in booking.attendees if a.attended)
    if headcount < ticked:
        raise BookingError("headcount", _l("已勾选到场 %(n)s 人，到场人数不能少于此数。", n=ticked),
                           status=422, field="headcount")
    opens, closes = check_in_window(slot)
    if now < opens:
        raise BookingError("too_early", _l("签到从 %(time)s 开始（开场前 30 分钟）。",
                                           time=local(opens, slot.venue.tz).strftime("%H:%M")))
    if now >= closes:
        raise BookingError("too_late", _l("签到已截止：只能在场次当天签到。"))
    before = _snapshot(booking)
    first_time = booking.state is BookingState.CONFIRMED
    booking.state = BookingState.CHECKED_IN
    booking.arrived_count = headcount
    if first_time:
        booking.checked_in_at = now
    booking.updated_at = now
    record_change(session, user, "booking.check_in" if first_time else "booking.headcount",
                  booking, before, _snapshot(booking))
    session.flush()


def _require_checked_in(booking: Booking, *states: BookingState) -> None:
    if booking.state not in states:
        raise BookingError("not_checked_in", _l("请先为该团体签到，再登记到场人员。"))


def set_attendance(session: Session, booking: Booking, attended_ids: set[int],
                   user: StaffUser | None, now: datetime | None = None) -> None:
    """Tick exactly ``attended_ids`` as present (the rest as absent). Certificates follow these."""
    now = now or utcnow()
    _require_runs(user, booking.slot)
    _require_checked_in(booking, BookingState.CHECKED_IN, BookingState.COMPLETED)
    known = {a.id for a in booking.attendees}
    if not set(attended_ids) <= known:
        raise BookingError("unknown_attendee", _l("所选人员不属于该团体，请刷新页面后重试。"),
                           status=422, field="attended")
    before = sorted(a.id for a in booking.attendees if a.attended)
    for attendee in booking.attendees:
        attendee.attended = attendee.id in attended_ids
    booking.arrived_count = max(booking.arrived_count or 0, len(attended_ids))
    booking.updated_at = now
    record_change(session, user, "booking.attendance", booking,
                  {"attended": before}, {"attended": sorted(attended_ids)})
    session.flush()


def add_walk_in(session: Session, booking: Booking, name: str, user: StaffUser | None,
                now: datetime | None = None) -> Attendee:
    """Add a person who came with a checked-in group, ticked as present.

    A name beyond the party size is an extra person: one seat is claimed in the slot and
    the day (atomically, or refused when full) and the party size and headcount grow by one.
    """
    now = now or utcnow()
    slot = booking.slot
    _require_runs(user, slot)
    _require_checked_in(booking, BookingState.CHECKED_IN)
    name = " ".join((name or "").split())
    if not name:
        raise BookingError("walk_in_name", _l("请填写现场人员的姓名。"), status=422, field="name")
    if len(name) > MAX_ATTENDEE_NAME:
        raise BookingError("walk_in_name", _l("姓名不能超过 %(n)s 个字符。", n=MAX_ATTENDEE_NAME),
                           status=422, field="name")
    before = _snapshot(booking)
    extra_seat = len(booking.attendees) + 1 > booking.party_size
    if extra_seat:
        try:
            capacity.claim_seats(session, slot, 1)
        except BookingError as full:
            raise BookingError(full.code, _l("该场次或当天已无空余名额，不能再增加现场人员。"),
                               field="name") from full
        booking.party_size += 1
        booking.seats += 1
        booking.arrived_count = (booking.arrived_count or 0) + 1
    attendee = Attendee(name=name, position=len(booking.attendees), attended=True,
                        walk_in=True)
    booking.attendees.append(attendee)
    ticked = sum(1 for a in booking.attendees if a.attended)
    booking.arrived_count = max(booking.arrived_count or 0, ticked)
    booking.updated_at = now
    session.flush()
    record_change(session, user, "booking.walk_in", booking, before,
                  {**_snapshot(booking), "attendee": name, "attendee_id": attendee.id})
    session.flush()
    return attendee


def no_show_count(session: Session, organisation: Organisation, today: date,
                  window_days: int) -> int:
    """No-shows of the organisation whose session day lies in the last ``window_days`` days
    (counted like the approval queue does: from ``today - window_days`` to ``today``)."""
    return session.scalar(
        select(func.count(Booking.id)).join(Slot, Booking.slot_id == Slot.id)
        .where(Booking.organisation_id == organisation.id,
               Booking.state == BookingState.NO_SHOW,
               Slot.day >= today - timedelta(days=window_days), Slot.day <= today)) or 0


def _suspend_if_over_limit(session: Session, organisation: Organisation, today: date,
                           user: StaffUser | None, policy: NoShowPolicy) -> bool:
    count = no_show_count(session, organisation, today, policy.window_days)
    if count < policy.limit:
        return False
    until = today + timedelta(days=policy.suspension_days)
    if organisation.suspended_until is not None and organisation.suspended_until >= until:
        return True
    before = {"suspended_until": organisation.suspended_until,
              "suspension_reason": organisation.suspension_reason}
    organisation.suspended_until = until
    # Stored data, not interface text: kept in the source language for every reader.
    organisation.suspension_reason = (
        f"{policy.window_days} 天内 {count} 次预约未到（{today.isoformat()} 记录）")
    record_change(session, user, "organisation.suspend", organisation, before,
                  {"suspended_until": until, "suspension_reason": organisation.suspension_reason})
    return True


def mark_no_show(session: Session, booking: Booking, user: StaffUser | None,
                 now: datetime | None = None, policy: NoShowPolicy = NoShowPolicy()) -> bool:
    """After the session ended, mark a confirmed group that never checked in as a no-show.

    Returns True when the organisation is (now) suspended because of it.
    """
    now = now or utcnow()
    slot = booking.slot
    _require_runs(user, slot)
    if now < slot.ends_at:
        raise BookingError("session_not_ended", _l(
            "场次结束（%(end)s）后才能标记未到。",
            end=local(slot.ends_at, slot.venue.tz).strftime("%H:%M")))
    if booking.state is BookingState.CHECKED_IN:
        raise BookingError("already_checked_in", _l("该团体已签到，不能标记为未到。"))
    if booking.state is not BookingState.CONFIRMED:
        raise BookingError("not_no_show", _l("只有已确认且未签到的预约可以标记为未到。"))
    before = _snapshot(booking)
    booking.state = BookingState.NO_SHOW
    booking.updated_at = now
    record_change(session, user, "booking.no_show", booking, before, _snapshot(booking))
    session.flush()
    return _suspend_if_over_limit(session, booking.organisation,
                                  local_today(now, slot.venue.tz), user, policy)


def _groups_in(session: Session, slot: Slot, state: BookingState) -> list[Booking]:
    return list(session.scalars(select(Booking).where(Booking.slot_id == slot.id,
                                                      Booking.state == state)
                                .order_by(Booking.created_at, Booking.id)))


def mark_session_no_shows(session: Session, slot: Slot, user: StaffUser | None,
                          now: datetime | None = None,
                          policy: NoShowPolicy = NoShowPolicy()) -> list[Booking]:
    """Mark every confirmed group of an ended session that did not check in as a no-show."""
    now = now or utcnow()
    _require_runs(user, slot)
    if now < slot.ends_at:
        raise BookingError("session_not_ended", _l(
            "场次结束（%(end)s）后才能标记未到。",
            end=local(slot.ends_at, slot.venue.tz).strftime("%H:%M")))
    groups = _groups_in(session, slot, BookingState.CONFIRMED)
    for booking in groups:
        mark_no_show(session, booking, user, now, policy)
    return groups


def complete_session(session: Session, slot: Slot, user: StaffUser | None,
                     now: datetime | None = None) -> list[Booking]:
    """After the session ended, move its checked-in groups to COMPLETED."""
    now = now or utcnow()
    _require_runs(user, slot)
    if now < slot.ends_at:
        raise BookingError("session_not_ended", _l(
            "场次结束（%(end)s）后才能标记完成。",
            end=local(slot.ends_at, slot.venue.tz).strftime("%H:%M")))
    groups = _groups_in(session, slot, BookingState.CHECKED_IN)
    for booking in groups:
        before = _snapshot(booking)
        booking.state = BookingState.COMPLETED
        booking.updated_at = now
        record_change(session, user, "booking.complete", booking, before, _snapshot(booking))
    session.flush()
    return groups


def lift_suspension(session: Session, organisation: Organisation, user: StaffUser | None,
                    now: datetime | None = None) -> None:
    """Staff let a suspended organisation book again before its suspension runs out."""
    today = local_today(now or utcnow())
    if not organisation.is_suspended_on(today):
        raise BookingError("not_suspended", _l("该单位目前没有被暂停预约。"))
    before = {"suspended_until": organisation.suspended_until,
              "suspension_reason": organisation.suspension_reason}
    organisation.suspended_until = None
    organisation.suspension_reason = ""
    record_change(session, user, "organisation.lift_suspension", organisation, before,
                  {"suspended_until": None, "suspension_reason": ""})
    session.flush()
