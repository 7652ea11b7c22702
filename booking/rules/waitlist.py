"""The waiting list: organisations queue for a full slot; freed seats are offered in order.

An offer *holds* its seats in the slot's and the day's counters (claimed with the same atomic
conditional UPDATEs as a booking, see :mod:`booking.rules.capacity`), so seats can never be promised
twice: two cancellations racing to offer the same seats each need a successful claim, and the
counters let only as many offers through as there are seats. Accepting an offer turns the held
seats into a booking without claiming again; an offer that is declined, withdrawn or left to
expire gives its seats back and they move on down the queue.

Order: entries are walked oldest first (joined time, then id). The first entry whose party
fits the seats now free gets them; an entry that does not fit keeps its place, and a later,
smaller entry may take seats it cannot use ("offered to the first entry that fits, in order").

Every rule here that changes an entry first locks the slot row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so the order of locks is
always slot → day counter → entries, and concurrent cancellations, offers and acceptances on one
slot queue behind each other instead of deadlocking. Each state change is also a conditional
UPDATE on the entry's current state, so a stale read can never act twice.

The hold time comes from the caller (``WAITLIST_OFFER_HOURS`` in the config): rules never read
the app config themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from booking.clock import local_today, utcnow
from booking.errors import BookingError, NotFound
from booking.models import Booking, Slot, SlotState, VenueDay, WaitlistEntry, WaitlistState
from booking.rules import capacity, tokens
from booking.rules.booking_limits import LimitsPolicy, check_booking_limits
from booking.rules.channels import notify_choice
from booking.rules.identifiers import normalise_phone
from booking.rules.organisation_lookup import OrganisationDetails, find_or_create_organisation
from booking.rules.party_makeup import NOT_GIVEN, PartyMakeup, check_party_makeup
from booking.rules.workflow import (
    BookingRequest,
    check_may_book,
    check_slot_bookable,
    record_booking,
)

#: States in which an entry is still in the queue (and may hold seats, when offered).
LIVE_STATES = (WaitlistState.WAITING, WaitlistState.OFFERED)


@dataclass
class WaitlistRequest:
    """What an organisation asks for when it queues; shape already validated by a form."""

    organisation: OrganisationDetails
    contact_name: str
    contact_phone: str
    party_size: int
    contact_email: str = ""
    language: str = "zh"
    notify_by: str = ""  # as BookingRequest.notify_by
    adults: int | None = None  # as BookingRequest.adults / minors
    minors: int | None = None


@dataclass
class ExpiryResult:
    expired: list[WaitlistEntry] = field(default_factory=list)
    offered: list[WaitlistEntry] = field(default_factory=list)


class _Lost(Exception):
    """The entry changed state under us: roll its savepoint back and move on."""


def _lock_slot(session: Session, slot: Slot) -> None:
    """Serialise waiting-list changes on one slot; refresh what we know of it."""
    session.scalars(select(Slot).where(Slot.id == slot.id).with_for_update()
                    .execution_options(populate_existing=True)).one()


def _free_seats(session: Session, slot: Slot) -> int:
    """Seats a new claim could take right now: the smaller of slot and day headroom."""
    slot_free = session.scalar(select(Slot.capacity - Slot.taken).where(Slot.id == slot.id))
    day_free = session.scalar(select(VenueDay.capacity - VenueDay.taken).where(
        VenueDay.venue_id == slot.venue_id, VenueDay.day == slot.day))
    return min(slot_free or 0, day_free or 0)


def _change_state(session: Session, entry: WaitlistEntry, expected: WaitlistState,
                  **values) -> bool:
    """Move ``entry`` out of ``expected`` in one conditional UPDATE; False if it had left it."""
    changed = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == expected)
        .values(**values).execution_options(synchronize_session=False))
    session.expire(entry)
    return changed.rowcount == 1


def join_waitlist(session: Session, slot: Slot, request: WaitlistRequest, now: datetime | None = None,
                  limits: LimitsPolicy | None = None, minors_per_adult: int = 10) -> tuple[WaitlistEntry, str]:
    """Queue a group for a slot it cannot book now. Returns the entry and its secret token.

    Only for a slot that is otherwise bookable (open, in the booking window, party size within its
    bounds, a study tour's adults and minors in ratio) and cannot take the party now (full).
    """
    now = now or utcnow()
    check_slot_bookable(session, slot, request.party_size, now)
    makeup = check_party_makeup(slot, request.party_size,
                                PartyMakeup(request.adults, request.minors), minors_per_adult)
    if _free_seats(session, slot) >= request.party_size:
        raise BookingError("seats_available",
                           _l("该场次还有足够的余位，请直接预约。"), field="party_size")
    organisation = find_or_create_organisation(session, request.organisation)
    check_may_book(session, organisation, request.contact_phone, slot,
                   local_today(now, slot.venue.tz))
    check_booking_limits(session, slot, organisation.id, request.contact_phone,
                         request.party_size, limits, now)
    already = session.scalar(select(WaitlistEntry.id).where(
        WaitlistEntry.slot_id == slot.id, WaitlistEntry.organisation_id == organisation.id,
        WaitlistEntry.state.in_(LIVE_STATES)))
    if already is not None:
        raise BookingError("already_waiting", _l("贵单位已在该场次的候补名单中。"))
    token = tokens.new_secret()
    entry = WaitlistEntry(
        slot=slot, organisation=organisation, party_size=request.party_size,
        adults=makeup.adults, minors=makeup.minors, seats_held=0,
        state=WaitlistState.WAITING, contact_name=" ".join(request.contact_name.split()),
        contact_phone=normalise_phone(request.contact_phone),
        contact_email=(request.contact_email or "").strip(), language=request.language,
        notify_by=notify_choice(request.notify_by, request.contact_email).value,
        token_hash=tokens.hash_secret(token), created_at=now)
    session.add(entry)
    session.flush()
    return entry, token


def find_entry_by_token(session: Session, token: str) -> WaitlistEntry:
    """The entry behind a waiting-list link: the joining link or the offer's accept link."""
    digest = tokens.hash_secret(token or "")
    entry = session.scalar(select(WaitlistEntry).where(
        or_(WaitlistEntry.token_hash == digest, WaitlistEntry.offer_token_hash == digest)))
    if entry is None:
        raise NotFound(_l("候补记录不存在或链接无效。"))
    return entry


def queue_position(session: Session, entry: WaitlistEntry) -> int | None:
    """1 for the head of the queue; None once the entry no longer waits."""
    if entry.state is not WaitlistState.WAITING:
        return None
    ahead = session.scalar(select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.slot_id == entry.slot_id, WaitlistEntry.state == WaitlistState.WAITING,
        or_(WaitlistEntry.created_at < entry.created_at,
            and_(WaitlistEntry.created_at == entry.created_at, WaitlistEntry.id < entry.id))))
    return int(ahead) + 1


#: Called for each offer made, in the same transaction: (session, entry, clear offer token).
#: The use cases plug the offer e-mail in here; the clear token exists only at that moment.
OfferMade = Callable[[Session, WaitlistEntry, str], object]


def offer_freed_seats(session: Session, slot: Slot, now: datetime,
                      hold_hours: float, on_offer: OfferMade | None = None) -> list[WaitlistEntry]:
    """Offer the seats now free in ``slot`` to waiting entries, first that fits first.

    Each offer claims the entry's seats atomically and holds them until ``now + hold_hours``
    (never past the slot's start). Returns the entries offered; never raises because seats
    were gone: a claim that fails just means someone else got there first.
    """
    _lock_slot(session, slot)
    if slot.state is not SlotState.OPEN or slot.starts_at <= now:
        return []
    free = _free_seats(session, slot)
    if free <= 0:
        return []
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.state == WaitlistState.WAITING)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .execution_options(populate_existing=True)).all()
    expires_at = min(now + timedelta(hours=hold_hours), slot.starts_at)
    offered = []
    for entry in waiting:
        if free <= 0:
            break
        if entry.party_size > free:
            continue  # keeps its place for a later, larger release
        if _offer(session, slot, entry, expires_at, on_offer):
            offered.append(entry)
        free = _free_seats(session, slot)
    return offered


def _offer(session: Session, slot: Slot, entry: WaitlistEntry, expires_at: datetime,
           on_offer: OfferMade | None) -> bool:
    offer_token = tokens.new_secret()
    try:
        with session.begin_nested():
            if not _change_state(session, entry, WaitlistState.WAITING,
                                 state=WaitlistState.OFFERED, seats_held=entry.party_size,
                                 offer_expires_at=expires_at,
                                 offer_token_hash=tokens.hash_secret(offer_token)):
                raise _Lost
            capacity.claim_seats(session, slot, entry.party_size)
    except (BookingError, _Lost):
        return False
    if on_offer is not None:  # the offer e-mail, in this transaction
        on_offer(session, entry, offer_token)
    return True


def offer_to_queue(hold_hours: float,
                   on_offer: OfferMade | None = None) -> Callable[[Session, Slot, datetime], list]:
    """The ``on_seats_freed`` hook for :mod:`booking.rules.workflow` rules: offer what they freed.

    Faces do not build it: :func:`booking.usecases.waitlist.seats_freed_hook` does, once."""
    def offer(session: Session, slot: Slot, now: datetime) -> list[WaitlistEntry]:
        return offer_freed_seats(session, slot, now, hold_hours, on_offer)
    return offer


def accept_offer(session: Session, entry_token: str,
                 now: datetime | None = None,
                 minors_per_adult: int = 10) -> tuple[Booking, str]:
    """Turn an open offer into a booking for the held seats. Returns it and its manage token.

    The seats were claimed when they were offered; they are handed over, not claimed again.
    The booking is pending when the slot's programme needs staff approval. A study tour's
    adults and minors must still keep the ratio (an entry from before they were kept: as is).
    """
    now = now or utcnow()
    entry = find_entry_by_token(session, entry_token)
    slot = entry.slot
    _lock_slot(session, slot)
    session.refresh(entry)
    if entry.state is WaitlistState.ACCEPTED:
        raise BookingError("offer_accepted", _l("该候补名额已经确认过了。"))
    if entry.state is not WaitlistState.OFFERED:
        raise BookingError("no_offer", _l("目前没有为您保留的名额。"))
    if entry.offer_expires_at <= now:
        raise BookingError("offer_expired", offer_expired_message(entry))
    if slot.state is not SlotState.OPEN or slot.starts_at <= now:
        raise BookingError("slot_closed", _l("该场次已停止预约。"))
    organisation = entry.organisation
    check_may_book(session, organisation, entry.contact_phone, slot,
                   local_today(now, slot.venue.tz))
    makeup = PartyMakeup(entry.adults, entry.minors)
    makeup = check_party_makeup(slot, entry.seats_held, makeup, minors_per_adult) if makeup.given else NOT_GIVEN
    request = BookingRequest(
        slot_id=slot.id, organisation=OrganisationDetails(organisation.name, organisation.kind,
                                                          organisation.credit_code),
        contact_name=entry.contact_name, contact_phone=entry.contact_phone,
        party_size=entry.seats_held, contact_email=entry.contact_email,
        language=entry.language, notify_by=entry.notify_by)
    booking, manage_token = record_booking(session, slot, organisation, request, [], now, makeup)
    if not _change_state(session, entry, WaitlistState.OFFERED, state=WaitlistState.ACCEPTED,
                         seats_held=0, booking_id=booking.id):
        raise BookingError("no_offer", _l("目前没有为您保留的名额。"))
    return booking, manage_token


def offer_expired_message(entry: WaitlistEntry):
    return _l("名额保留已于 %(until)s 到期，已顺延给下一位候补单位。",
              until=_local_text(entry.offer_expires_at, entry.slot))


def _local_text(moment: datetime, slot: Slot) -> str:
    return moment.astimezone(slot.venue.tz).strftime("%Y-%m-%d %H:%M")


def withdraw_entry(session: Session, entry: WaitlistEntry, now: datetime,
                   hold_hours: float, on_offer: OfferMade | None = None) -> list[WaitlistEntry]:
    """Take a waiting or offered entry off the list; held seats move on down the queue.

    Declining an offer is withdrawing. Returns the entries the freed seats were offered to.
    """
    slot = entry.slot
    _lock_slot(session, slot)
    session.refresh(entry)
    state, held = entry.state, entry.seats_held
    if state not in LIVE_STATES or not _change_state(
            session, entry, state, state=WaitlistState.WITHDRAWN, seats_held=0):
        raise BookingError("not_waiting", _l("该候补记录已结束，无需再取消。"))
    if not held:
        return []
    capacity.release_seats(session, slot, held)
    return offer_freed_seats(session, slot, now, hold_hours, on_offer)


def withdraw(session: Session, entry_token: str, now: datetime,
             hold_hours: float, on_offer: OfferMade | None = None) -> list[WaitlistEntry]:
    """The organisation leaves the queue, or declines its offer, through its link."""
    return withdraw_entry(session, find_entry_by_token(session, entry_token), now, hold_hours,
                          on_offer)


def _due_offers(now: datetime, slot: Slot | None):
    query = select(WaitlistEntry.slot_id).where(WaitlistEntry.state == WaitlistState.OFFERED,
                                                WaitlistEntry.offer_expires_at <= now)
    return query if slot is None else query.where(WaitlistEntry.slot_id == slot.id)


def _stale_waiting(now: datetime, slot: Slot | None):
    started = select(Slot.id).where(Slot.starts_at <= now)
    if slot is not None:
        started = started.where(Slot.id == slot.id)
    return select(WaitlistEntry).where(WaitlistEntry.state == WaitlistState.WAITING,
                                       WaitlistEntry.slot_id.in_(started))


def expiry_due(session: Session, now: datetime, slot: Slot | None = None) -> bool:
    """Whether :func:`expire_offers` has anything to do (a cheap read before taking locks)."""
    return session.scalar(select(_due_offers(now, slot).exists())) or \
        session.scalar(select(_stale_waiting(now, slot).exists()))


def expire_offers(session: Session, now: datetime, hold_hours: float,
                  slot: Slot | None = None, on_offer: OfferMade | None = None) -> ExpiryResult:
    """Expire offers past their hold time, give their seats back and offer them onward.

    Entries still waiting for a slot that has started expire too. Runs from cron
    (``flask --app run expire-waitlist-offers``) and before a waiting-list change is made
    (then only for that ``slot``).
    """
    result = ExpiryResult()
    for slot_id in sorted(set(session.scalars(_due_offers(now, slot)))):
        due_slot = session.get(Slot, slot_id)
        _lock_slot(session, due_slot)
        entries = session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.state == WaitlistState.OFFERED,
                   WaitlistEntry.offer_expires_at <= now)
            .order_by(WaitlistEntry.id).execution_options(populate_existing=True)).all()
        for entry in entries:
            held = entry.seats_held
            if _change_state(session, entry, WaitlistState.OFFERED,
                             state=WaitlistState.EXPIRED, seats_held=0):
                capacity.release_seats(session, due_slot, held)
                result.expired.append(entry)
        result.offered += offer_freed_seats(session, due_slot, now, hold_hours, on_offer)
    for entry in session.scalars(_stale_waiting(now, slot)).all():
        if _change_state(session, entry, WaitlistState.WAITING, state=WaitlistState.EXPIRED):
            result.expired.append(entry)
    session.flush()
    return result


def close_waitlist(session: Session, slot: Slot) -> list[WaitlistEntry]:
    """The museum cancelled the slot or closed its day: end every live entry, release holds.

    Returns the entries ended (the organisations to tell).
    """
    _lock_slot(session, slot)
    ended = []
    for entry in session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.state.in_(LIVE_STATES))
            .execution_options(populate_existing=True)).all():
        state, held = entry.state, entry.seats_held
        if _change_state(session, entry, state, state=WaitlistState.WITHDRAWN, seats_held=0):
            capacity.release_seats(session, slot, held)
            ended.append(entry)
    session.flush()
    return ended


def staff_queue(session: Session, now: datetime, show_all: bool = False
                ) -> tuple[list[tuple[Slot, list[WaitlistEntry]]], dict[int, int]]:
    """Waiting lists of sessions still to come, in session order: (slot, entries) pairs and
    each waiting entry's place in its queue. Ended entries too with ``show_all``."""
    states = list(WaitlistState) if show_all else list(LIVE_STATES)
    entries = session.scalars(
        select(WaitlistEntry).join(Slot, WaitlistEntry.slot_id == Slot.id)
        .where(Slot.starts_at > now, WaitlistEntry.state.in_(states))
        .options(joinedload(WaitlistEntry.slot).joinedload(Slot.venue),
                 joinedload(WaitlistEntry.organisation))
        .order_by(Slot.starts_at, Slot.id, WaitlistEntry.created_at, WaitlistEntry.id)).all()
    by_slot: dict[int, list[WaitlistEntry]] = {}
    for entry in entries:
        by_slot.setdefault(entry.slot_id, []).append(entry)
    positions = {}
    for slot_entries in by_slot.values():
        waiting = [e for e in slot_entries if e.state is WaitlistState.WAITING]
        positions.update({e.id: n for n, e in enumerate(waiting, start=1)})
    return [(group[0].slot, group) for group in by_slot.values()], positions


def live_entries(session: Session, slot: Slot) -> list[WaitlistEntry]:
    """The slot's entries still waiting or holding an offer, in queue order."""
    return list(session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.state.in_(LIVE_STATES))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)))
