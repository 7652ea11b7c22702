"""The life of a booking: create, change, cancel, and find it again.

Rule functions take a database session, flush, and raise :class:`BookingError`; the
caller (a use case in :mod:`booking.usecases.bookings`) runs inside the request's or the
command's one transaction, which commits once.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from booking.clock import local_today, utcnow
from booking.errors import BookingError, NotFound
from booking.models import (
    CHANGEABLE_STATES,
    Attendee,
    Booking,
    BookingState,
    Organisation,
    Slot,
    SlotState,
    VenueDay,
)
from booking.rules import capacity, eligibility, opening, tokens, working_days
from booking.rules.booking_limits import LimitsPolicy, check_booking_limits
from booking.rules.channels import notify_choice
from booking.rules.identifiers import normalise_phone
from booking.rules.organisation_lookup import OrganisationDetails, organisation_and_suspended
from booking.rules.party_makeup import (
    DEFAULT_MINORS_PER_ADULT,
    NOT_GIVEN,
    PartyMakeup,
    check_party_makeup,
    makeup_columns,
)

MAX_ATTENDEE_NAME = 60
#: INSERT constructs with ``ON CONFLICT DO NOTHING``; other databases check the reference first.
_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}

#: Called after a rule gave seats back in a slot, in the same transaction: (session, slot, now).
#: The waiting list plugs in here without this module depending on it: the use cases pass
#: :func:`booking.usecases.waitlist.seats_freed_hook`.
SeatsFreed = Callable[[Session, Slot, datetime], object]


@dataclass
class BookingRequest:
    """What an organisation asks for; shape already validated by a form or the API schema."""

    slot_id: int
    organisation: OrganisationDetails
    contact_name: str
    contact_phone: str
    party_size: int
    contact_email: str = ""
    attendee_names: list[str] = field(default_factory=list)
    notes: str = ""
    language: str = "zh"
    notify_by: str = ""  # "sms", "email", "both"; "" = the default (booking.rules.channels)
    adults: int | None = None  # a study tour's adults and minors (booking.rules.party_makeup)
    minors: int | None = None

    @property
    def makeup(self) -> PartyMakeup:
        return PartyMakeup(self.adults, self.minors)


def check_slot_open_for_booking(session: Session, slot: Slot, now: datetime | None = None,
                                override: VenueDay | None | bool = False,
                                corrections: opening.Corrections | None = None) -> None:
    """Raise BookingError unless the slot takes bookings now (open, future, in the window).

    ``override`` may pass the slot's VenueDay (or None), and ``corrections`` the staff's
    working-day corrections, when the caller prefetched them, to save queries per slot on
    calendar pages; by default they are looked up.
    """
    now = now or utcnow()
    venue = slot.venue
    if slot.state is not SlotState.OPEN:
        raise BookingError("slot_closed", _l("该场次已停止预约。"))
    if slot.starts_at <= now:
        raise BookingError("slot_past", _l("该场次已开始或已结束，不能预约。"))
    if override is False:
        override = session.scalar(select(VenueDay).filter_by(venue_id=venue.id, day=slot.day))
    if opening.day_status(venue, slot.day, override) is not opening.DayStatus.OPEN:
        raise BookingError("venue_closed", _l("场馆当天不接待团体预约。"))
    today = local_today(now, venue.tz)
    if corrections is None:
        corrections = working_days.corrections_from(session, today)
    window = opening.booking_window(venue, today, slot, corrections)
    if slot.day < window.first_day:
        raise BookingError("too_soon", _l("请至少提前 %(days)s 个工作日预约（最早可约 %(first)s）。",
                                          days=slot.min_working_days_ahead
                                          if slot.min_working_days_ahead is not None
                                          else venue.min_working_days_ahead,
                                          first=window.first_day.isoformat()))
    if slot.day > window.last_day:
        raise BookingError("too_far", _l("该日期尚未开放预约（最晚可约 %(last)s）。",
                                         last=window.last_day.isoformat()))


def check_slot_bookable(session: Session, slot: Slot, party_size: int,
                        now: datetime | None = None, override: VenueDay | None | bool = False,
                        corrections: opening.Corrections | None = None) -> None:
    """Raise BookingError unless a group of ``party_size`` may book ``slot`` now (``override``,
    ``corrections``: prefetched, as for check_slot_open_for_booking)."""
    check_slot_open_for_booking(session, slot, now, override, corrections)
    if not slot.party_size_min <= party_size <= slot.party_size_max:
        raise BookingError("party_size", _l("团体人数须在 %(min)s 至 %(max)s 人之间。",
                                            min=slot.party_size_min, max=slot.party_size_max),
                           status=422, field="party_size")


def check_may_book(session: Session, organisation: Organisation, phone: str, slot: Slot,
                   today: date, suspended: list[Organisation] | None = None) -> None:
    """No-shows suspend an organisation from booking (and queueing) until a date, under any
    of its names or phones; a venue may limit its open bookings (:mod:`.eligibility`).
    ``suspended``: the organisations suspended on ``today``, when the caller read them."""
    eligibility.check_not_suspended(session, organisation, phone, today, suspended)
    eligibility.check_within_limit(session, organisation, slot.venue, today)


def clean_names(names: list[str], party_size: int) -> list[str]:
    """Tidy an attendee list; refuse more names than people or over-long names."""
    cleaned = [" ".join(n.split()) for n in names if n and n.strip()]
    if len(cleaned) > party_size:
        raise BookingError("too_many_attendees",
                           _l("参加人员名单（%(count)s 人）超过了团体人数（%(size)s 人）。",
                              count=len(cleaned), size=party_size),
                           status=422, field="attendees")
    if any(len(n) > MAX_ATTENDEE_NAME for n in cleaned):
        raise BookingError("attendee_name", _l("姓名不能超过 %(n)s 个字符。", n=MAX_ATTENDEE_NAME),
                           status=422, field="attendees")
    return cleaned


_ATTENDEE_INSERT = insert(Attendee.__table__)


@functools.cache
def _booking_insert(dialect: str):
    """INSERT … RETURNING the booking, built once per database (``ON CONFLICT (reference) DO
    NOTHING`` where the database has it), loaded as a Booking by ``from_statement``: a plain
    INSERT costs about half of the ORM's bulk INSERT for the same row."""
    table = Booking.__table__
    dialect_insert = _DIALECT_INSERT.get(dialect)
    statement = (insert(table) if dialect_insert is None else
                 dialect_insert(table).on_conflict_do_nothing(index_elements=["reference"]))
    return select(Booking).from_statement(statement.returning(*table.c))


def _insert_booking(session: Session, values: dict) -> Booking:
    """INSERT the booking under a fresh random reference and load it from RETURNING, one
    statement: a reference already taken (about 1 in 10^11 per existing booking) makes the
    INSERT do nothing (``ON CONFLICT``) and the next reference is tried."""
    dialect = session.get_bind().dialect.name
    while True:
        reference = tokens.new_reference()
        if dialect not in _DIALECT_INSERT and session.scalar(
                select(Booking.id).filter_by(reference=reference)) is not None:
            continue
        booking = session.scalars(_booking_insert(dialect),
                                  {"reference": reference, **values}).first()
        if booking is not None:
            return booking


@functools.cache
def _slot_for_booking():
    """The slot with its venue, its day's counter row and the working-day corrections, in
    one statement built once: the hot path of every booking."""
    return (select(Slot, VenueDay, working_days.corrections_column())
            .options(joinedload(Slot.venue))
            .outerjoin(VenueDay, and_(VenueDay.venue_id == Slot.venue_id,
                                      VenueDay.day == Slot.day))
            .where(Slot.id == bindparam("slot_id")))


def create_booking(session: Session, request: BookingRequest,
                   now: datetime | None = None,
                   limits: LimitsPolicy | None = None,
                   minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> tuple[Booking, str]:
    """Book seats for a group, within the venue's ``limits`` per contact (and, on a study
    tour, with an adult per ``minors_per_adult`` minors). Returns the booking and its manage
    token (shown once)."""
    now = now or utcnow()
    found = session.execute(_slot_for_booking(), {
        "slot_id": request.slot_id, **working_days.corrections_window(now.date())}).first()
    if found is None:
        raise NotFound(_l("该场次不存在。"))
    slot, venue_day, corrections = found
    today = local_today(now, slot.venue.tz)
    check_slot_bookable(session, slot, request.party_size, now, venue_day,
                        working_days.corrections_in(corrections, today))
    makeup = check_party_makeup(slot, request.party_size, request.makeup, minors_per_adult)
    names = clean_names(request.attendee_names, request.party_size)
    organisation, suspended = organisation_and_suspended(session, request.organisation, today)
    check_may_book(session, organisation, request.contact_phone, slot, today, suspended)
    check_booking_limits(session, slot, organisation.id, request.contact_phone,
                         request.party_size, limits, now)
    capacity.claim_seats(session, slot, request.party_size)
    return record_booking(session, slot, organisation, request, names, now, makeup)


def record_booking(session: Session, slot: Slot, organisation: Organisation,
                   request: BookingRequest, names: list[str],
                   now: datetime, makeup: PartyMakeup = NOT_GIVEN) -> tuple[Booking, str]:
    """Insert the booking for ``request.party_size`` seats the caller already holds in
    ``slot`` (just claimed, or handed over by a waiting-list offer), with the ``makeup``
    :func:`check_party_makeup` returned. Checks nothing.

    Returns the booking and its manage token (shown once).
    """
    token = tokens.new_secret()
    state = BookingState.PENDING if slot.requires_approval else BookingState.CONFIRMED
    # Plain INSERTs, no unit-of-work flush: this is the hot path of every booking, and a flush
    # costs several times more for the same statements (the booking comes back by RETURNING).
    booking = _insert_booking(session, dict(
        manage_token_hash=tokens.hash_secret(token), pass_code=tokens.new_pass_code(),
        slot_id=slot.id, organisation_id=organisation.id, party_size=request.party_size,
        adults=makeup.adults, minors=makeup.minors, seats=request.party_size, state=state,
        contact_name=request.contact_name.strip(),
        contact_phone=normalise_phone(request.contact_phone),
        contact_email=(request.contact_email or "").strip(), notes=(request.notes or "").strip(),
        language=request.language, created_at=now, updated_at=now,
        notify_by=notify_choice(request.notify_by, request.contact_email).value))
    if names:
        session.connection().execute(_ATTENDEE_INSERT, [
            dict(booking_id=booking.id, name=n, position=i) for i, n in enumerate(names)])
    # The slot (with its venue) is at hand: hand it over, or the mail and text message
    # queued next would load both again once the caller's reference is gone.
    set_committed_value(booking, "slot", slot)
    return booking, token


def _require_changeable(booking: Booking, now: datetime) -> None:
    if booking.state not in CHANGEABLE_STATES:
        raise BookingError("not_changeable", _l("该预约当前状态不能修改。"))
    deadline = opening.cancellation_deadline(booking.slot.venue, booking.slot.day)
    if local_today(now, booking.slot.venue.tz) > deadline:
        raise BookingError("past_deadline",
                           _l("已过修改和取消的截止日期（%(deadline)s），如需帮助请致电场馆。",
                              deadline=deadline.isoformat()))


def check_changeable(booking: Booking, now: datetime | None = None) -> None:
    """Raise BookingError unless the organisation may still change or cancel ``booking``."""
    _require_changeable(booking, now or utcnow())


def transition_booking(session: Session, booking: Booking, from_states, now: datetime,
                       **values) -> None:
    """Change a booking only if it is still in ``from_states`` holding the seats we saw.

    One conditional UPDATE: of two racing changes (an organisation cancelling while staff
    decline or move it, two clicks), exactly one wins, so seats are never released twice
    (nor released from a slot the booking has just left).
    """
    changed = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.state.in_(from_states),
               Booking.seats == booking.seats, Booking.slot_id == booking.slot_id)
        .values(sequence=Booking.sequence + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    session.expire(booking)
    if changed.rowcount != 1:
        raise BookingError("booking_changed",
                           _l("该预约刚刚被其他人处理或修改，请刷新页面后再试。"))


def touch_slot_bookings(session: Session, slot: Slot, now: datetime) -> None:
    """The slot's details (room, lecturer) changed: bump the live bookings' iCalendar
    SEQUENCE so calendar clients replace the event they hold."""
    session.execute(update(Booking)
                    .where(Booking.slot_id == slot.id, Booking.state.in_(CHANGEABLE_STATES))
                    .values(sequence=Booking.sequence + 1, updated_at=now)
                    .execution_options(synchronize_session="fetch"))


def _touch(booking: Booking, now: datetime) -> None:
    booking.sequence += 1
    booking.updated_at = now


def cancel_booking(session: Session, booking: Booking, now: datetime | None = None,
                   reason: str = "", on_seats_freed: SeatsFreed | None = None) -> None:
    """The organisation cancels: seats go back at once (and on to the waiting list, when
    the caller passes ``on_seats_freed``: the use cases pass
    :func:`booking.usecases.waitlist.seats_freed_hook`)."""
    now = now or utcnow()
    _require_changeable(booking, now)
    seats = booking.seats
    transition_booking(session, booking, CHANGEABLE_STATES, now, state=BookingState.CANCELLED,
                       seats=0, state_reason=reason.strip())
    capacity.release_seats(session, booking.slot, seats)
    session.flush()
    if on_seats_freed is not None:
        on_seats_freed(session, booking.slot, now)


def change_party_size(session: Session, booking: Booking, party_size: int,
                      now: datetime | None = None,
                      on_seats_freed: SeatsFreed | None = None, *,
                      makeup: PartyMakeup = NOT_GIVEN,
                      minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> None:
    """Lower the party size (raising it would need new seats: book again instead); a study
    tour gives its new ``makeup``, which must keep the ratio.

    The seats given back reach the waiting list through ``on_seats_freed``, as in
    :func:`cancel_booking`.
    """
    now = now or utcnow()
    _require_changeable(booking, now)
    if party_size > booking.party_size:
        raise BookingError("party_size_increase", _l("只能减少人数；如需增加，请另行预约。"),
                           status=422, field="party_size")
    if party_size < booking.slot.party_size_min:
        raise BookingError("party_size", _l("团体人数不能少于 %(min)s 人。",
                                            min=booking.slot.party_size_min),
                           status=422, field="party_size")
    if len(booking.attendees) > party_size:
        raise BookingError("too_many_attendees", _l("请先从名单中删除多出的人员。"),
                           status=422, field="party_size")
    makeup = check_party_makeup(booking.slot, party_size, makeup, minors_per_adult)
    freed = booking.party_size - party_size
    transition_booking(session, booking, CHANGEABLE_STATES, now, party_size=party_size,
                       seats=party_size, **makeup_columns(booking, makeup, party_size))
    capacity.release_seats(session, booking.slot, freed)
    session.flush()
    if freed and on_seats_freed is not None:
        on_seats_freed(session, booking.slot, now)


def set_attendee_names(booking: Booking, cleaned: list[str]) -> None:
    """Set the list to ``cleaned`` names, keeping the records (and attendance) of names that
    stay."""
    existing = {a.name: a for a in booking.attendees}
    booking.attendees = [existing.pop(n, None) or Attendee(name=n) for n in cleaned]
    for position, attendee in enumerate(booking.attendees):
        attendee.position = position


def replace_attendees(session: Session, booking: Booking, names: list[str],
                      now: datetime | None = None) -> None:
    """Set the attendee list, keeping the records (and attendance) of names that stay."""
    now = now or utcnow()
    _require_changeable(booking, now)
    set_attendee_names(booking, clean_names(names, booking.party_size))
    _touch(booking, now)
    session.flush()
