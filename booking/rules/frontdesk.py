"""What the front desk does to a booking on a group's behalf: book it (a phone call, a walk-up
group), edit it, move it to another session, cancel it for the museum.

The same rules as an organisation's own booking (:mod:`booking.rules.workflow`) apply, with
three staff-only overrides, each needing a reason and audited: the lead time (a group that
phones today for tomorrow), the programme's party-size range, and the per-contact booking
limits (:mod:`booking.rules.booking_limits`, checked when staff book for a group). Capacity
and a study tour's adult-to-minor ratio (:mod:`booking.rules.party_makeup`) are never
overridable. Staff are not bound by the organisation's change deadline.

A move claims the new seats and releases the old ones in the caller's one transaction, with
the booking changed by one conditional UPDATE (state, seats and slot as we saw them): a move
racing a cancel of the same booking leaves exactly one of them done, and the counters exact.
Rule functions flush and raise :class:`BookingError`; the use case commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from booking.clock import local_today, utcnow
from booking.errors import BookingError, NotFound
from booking.models import CHANGEABLE_STATES, Booking, BookingState, Slot, StaffUser
from booking.rules import capacity, workflow
from booking.rules.audit import record_change
from booking.rules.booking_limits import LimitsPolicy, check_booking_limits
from booking.rules.identifiers import normalise_phone
from booking.rules.organisation_lookup import find_or_create_organisation
from booking.rules.party_makeup import (
    DEFAULT_MINORS_PER_ADULT,
    PartyMakeup,
    check_party_makeup,
    makeup_columns,
)

MAX_REASON = 300


@dataclass(frozen=True)
class StaffOverrides:
    """Rules staff may set aside for one booking, with the reason the audit log keeps."""

    lead_time: bool = False
    party_size: bool = False
    limits: bool = False  # the per-contact booking limits
    reason: str = ""

    @property
    def any(self) -> bool:
        return self.lead_time or self.party_size or self.limits

    def audit(self) -> dict:
        return {"lead_time": self.lead_time, "party_size": self.party_size,
                "limits": self.limits, "reason": self.reason.strip()}


@dataclass
class BookingEdit:
    """What staff may change on a booking: contact, notes, party size, attendee list."""

    contact_name: str
    contact_phone: str
    contact_email: str = ""
    notes: str = ""
    party_size: int = 0
    attendee_names: list[str] = field(default_factory=list)
    adults: int | None = None  # a study tour's (booking.rules.party_makeup)
    minors: int | None = None


def _clean_reason(reason: str | None, code: str, message) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise BookingError(code, message, status=422, field="reason")
    if len(reason) > MAX_REASON:
        raise BookingError("reason_too_long", _l("理由不能超过 %(n)s 个字符。", n=MAX_REASON),
                           status=422, field="reason")
    return reason


def _check_overrides(overrides: StaffOverrides) -> None:
    if overrides.any:
        _clean_reason(overrides.reason, "override_reason",
                      _l("放宽提前预约、人数或预约数量限制时，请填写理由（记入操作日志）。"))


def check_slot_for_staff(session: Session, slot: Slot, party_size: int,
                         overrides: StaffOverrides, now: datetime) -> None:
    """The public checks, less what ``overrides`` set aside."""
    try:
        workflow.check_slot_open_for_booking(session, slot, now)
    except BookingError as refused:
        if not (refused.code == "too_soon" and overrides.lead_time):
            raise
    if party_size < 1:
        raise BookingError("party_size", _l("团体人数至少为 1 人。"), status=422,
                           field="party_size")
    if not overrides.party_size and not (
            slot.party_size_min <= party_size <= slot.party_size_max):
        raise BookingError("party_size", _l("团体人数须在 %(min)s 至 %(max)s 人之间。",
                                            min=slot.party_size_min, max=slot.party_size_max),
                           status=422, field="party_size")


def book_on_behalf(session: Session, request: workflow.BookingRequest, user: StaffUser,
                   overrides: StaffOverrides = StaffOverrides(),
                   now: datetime | None = None, *, limits: LimitsPolicy | None = None,
                   minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> tuple[Booking, str]:
    """Book for a group that phoned or walked up, within the per-contact ``limits`` unless
    overridden. Returns the booking and its manage token."""
    now = now or utcnow()
    _check_overrides(overrides)
    slot = session.get(Slot, request.slot_id, options=[joinedload(Slot.venue)])
    if slot is None:
        raise NotFound(_l("该场次不存在。"))
    check_slot_for_staff(session, slot, request.party_size, overrides, now)
    makeup = check_party_makeup(slot, request.party_size, request.makeup, minors_per_adult)
    names = workflow.clean_names(request.attendee_names, request.party_size)
    organisation = find_or_create_organisation(session, request.organisation)
    workflow.check_may_book(session, organisation, request.contact_phone, slot,
                            local_today(now, slot.venue.tz))
    if not overrides.limits:
        check_booking_limits(session, slot, organisation.id, request.contact_phone,
                             request.party_size, limits, now)
    capacity.claim_seats(session, slot, request.party_size)
    booking, token = workflow.record_booking(session, slot, organisation, request, names, now,
                                             makeup)
    record_change(session, user, "booking.create_by_staff", booking, None,
                  {"reference": booking.reference, "slot": slot.id,
                   "party_size": booking.party_size, "state": booking.state.value,
                   **({"overrides": overrides.audit()} if overrides.any else {})})
    session.flush()
    return booking, token


def _require_active(booking: Booking) -> None:
    if booking.state not in CHANGEABLE_STATES:
        raise BookingError("not_changeable", _l("该预约当前状态不能修改。"))


def _snapshot(booking: Booking) -> dict:
    return {"state": booking.state.value, "slot": booking.slot_id,
            "party_size": booking.party_size, "adults": booking.adults,
            "minors": booking.minors, "seats": booking.seats,
            "contact_name": booking.contact_name, "contact_phone": booking.contact_phone,
            "contact_email": booking.contact_email, "notes": booking.notes,
            "attendees": len(booking.attendees)}


def edit_booking(session: Session, booking: Booking, edit: BookingEdit, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides(), now: datetime | None = None,
                 on_seats_freed: workflow.SeatsFreed | None = None, *,
                 minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> int:
    """Change contact, notes, party size (up: new seats claimed; down: seats freed) and the
    attendee list. Returns the seats freed (offered on through ``on_seats_freed``)."""
    now = now or utcnow()
    _require_active(booking)
    _check_overrides(overrides)
    slot = booking.slot
    size = edit.party_size or booking.party_size
    if size != booking.party_size:
        if size < 1 or (not overrides.party_size and not (
                slot.party_size_min <= size <= slot.party_size_max)):
            raise BookingError("party_size", _l("团体人数须在 %(min)s 至 %(max)s 人之间。",
                                                min=slot.party_size_min, max=slot.party_size_max),
                               status=422, field="party_size")
    makeup = check_party_makeup(slot, size, PartyMakeup(edit.adults, edit.minors),
                                minors_per_adult)
    names = workflow.clean_names(edit.attendee_names, size)
    before, old_size = _snapshot(booking), booking.party_size
    if size > old_size:
        capacity.claim_seats(session, slot, size - old_size)
    workflow.transition_booking(session, booking, CHANGEABLE_STATES, now, party_size=size,
                                seats=size, contact_name=edit.contact_name.strip(),
                                contact_phone=normalise_phone(edit.contact_phone),
                                contact_email=(edit.contact_email or "").strip(),
                                notes=(edit.notes or "").strip(),
                                **makeup_columns(booking, makeup, size))
    if size < old_size:
        capacity.release_seats(session, slot, old_size - size)
    workflow.set_attendee_names(booking, names)
    session.flush()
    record_change(session, user, "booking.edit_by_staff", booking, before,
                  {**_snapshot(booking),
                   **({"overrides": overrides.audit()} if overrides.any else {})})
    freed = max(old_size - size, 0)
    if freed and on_seats_freed is not None:
        on_seats_freed(session, slot, now)
    return freed


def move_booking(session: Session, booking: Booking, new_slot: Slot, user: StaffUser,
                 overrides: StaffOverrides = StaffOverrides(), now: datetime | None = None,
                 on_seats_freed: workflow.SeatsFreed | None = None, *,
                 makeup: PartyMakeup | None = None,
                 minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> Slot:
    """Move the booking to ``new_slot``: its seats there claimed and the old ones released in
    the one transaction, or neither. Returns the old slot (its freed seats go on to its
    waiting list through ``on_seats_freed``). Into a study tour the group keeps its adults and
    minors, or staff give them (``makeup``) for a group that had none."""
    now = now or utcnow()
    _require_active(booking)
    _check_overrides(overrides)
    old_slot = booking.slot
    if new_slot.id == old_slot.id:
        raise BookingError("same_slot", _l("请选择另一个场次。"), status=422, field="slot")
    check_slot_for_staff(session, new_slot, booking.party_size, overrides, now)
    if makeup is None or not makeup.given:
        makeup = PartyMakeup(booking.adults, booking.minors)
    makeup = check_party_makeup(new_slot, booking.party_size, makeup, minors_per_adult)
    before, seats = _snapshot(booking), booking.seats
    capacity.claim_seats(session, new_slot, seats)
    workflow.transition_booking(session, booking, CHANGEABLE_STATES, now, slot_id=new_slot.id,
                                reminder_queued_at=None,
                                **makeup_columns(booking, makeup, booking.party_size))
    capacity.release_seats(session, old_slot, seats)
    session.flush()
    record_change(session, user, "booking.move", booking, before,
                  {**_snapshot(booking),
                   **({"overrides": overrides.audit()} if overrides.any else {})})
    if on_seats_freed is not None:
        on_seats_freed(session, old_slot, now)
    return old_slot


def cancel_for_museum(session: Session, booking: Booking, reason: str, user: StaffUser,
                      now: datetime | None = None,
                      on_seats_freed: workflow.SeatsFreed | None = None) -> None:
    """Staff cancel one booking (the group phoned, or the museum must): a reason is required,
    the organisation reads it. Seats go back and on to the waiting list."""
    now = now or utcnow()
    _require_active(booking)
    reason = _clean_reason(reason, "reason_required",
                           _l("请填写取消理由，预约单位会看到它。"))
    before, seats, slot = _snapshot(booking), booking.seats, booking.slot
    workflow.transition_booking(session, booking, CHANGEABLE_STATES, now,
                                state=BookingState.CANCELLED, seats=0, state_reason=reason,
                                cancelled_by_museum=True)
    capacity.release_seats(session, slot, seats)
    session.flush()
    record_change(session, user, "booking.cancel_by_staff", booking, before,
                  {"state": booking.state.value, "seats": 0, "reason": reason})
    if on_seats_freed is not None:
        on_seats_freed(session, slot, now)
