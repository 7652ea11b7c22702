"""Rule 1 as a property: whatever organisations do, every counter equals what the bookings say.

Hypothesis drives random sequences of book / cancel / lower the party size / replace the
attendees over three slots that share one day with a small daily cap, and compares the
database after every step with a plain Python model of who holds which seats.
"""
from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from booking.clock import at_local
from booking.errors import BookingError
from booking.models import Booking, BookingState, OrganisationKind, Slot, Venue, VenueDay
from booking.models.db import db
from booking.rules import capacity
from booking.rules.slots import SlotFacts, create_slot
from booking.rules.workflow import (
    BookingRequest,
    OrganisationDetails,
    cancel_booking,
    change_party_size,
    create_booking,
    replace_attendees,
)

VISIT_DAY = date(2026, 10, 20)               # an ordinary Tuesday
NOW = at_local(date(2026, 10, 12), time(10))  # inside the booking window, before the deadline
DAILY_CAP = 60
SLOT_CAPACITIES = (30, 30, 25)               # together more than the day allows
ORGANISATIONS = ["开州区汉丰街道党工委", "开州区实验中学", "开州区税务局", "镇东社区"]


def _reset_world() -> list[int]:
    """Empty every table and build one venue with three slots on one day."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    venue = Venue(code="LBC", name="刘伯承同志纪念馆", daily_cap=DAILY_CAP,
                  weekly_closed_day=0, groups_on_holidays=True)
    db.session.add(venue)
    db.session.flush()
    slot_ids = []
    for i, seats in enumerate(SLOT_CAPACITIES):
        starts_at = at_local(VISIT_DAY, time(9 + 2 * i))
        slot = create_slot(db.session, venue, starts_at, starts_at + timedelta(minutes=90), seats,
                           SlotFacts(title="学习百年党史 感悟刘帅精神", party_size_min=1,
                                     party_size_max=30))
        slot_ids.append(slot.id)
    db.session.commit()
    return slot_ids


class BookingCounters(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.slot_ids = _reset_world()
        # The model: booking id -> (slot id, seats held); and the attendee count per booking.
        self.held: dict[int, tuple[int, int]] = {}
        self.names: dict[int, int] = {}

    # -- helpers --

    def _model_taken(self, slot_id: int | None = None) -> int:
        return sum(seats for sid, seats in self.held.values() if slot_id in (None, sid))

    def _pick(self, index: int) -> Booking:
        ids = sorted(self.held)
        return db.session.get(Booking, ids[index % len(ids)])

    # -- rules --

    @rule(slot=st.integers(0, len(SLOT_CAPACITIES) - 1), party=st.integers(1, 30),
          names=st.integers(0, 5), organisation=st.sampled_from(ORGANISATIONS))
    def book(self, slot, party, names, organisation):
        slot_id = self.slot_ids[slot]
        fits_slot = self._model_taken(slot_id) + party <= SLOT_CAPACITIES[slot]
        fits_day = self._model_taken() + party <= DAILY_CAP
        request = BookingRequest(
            slot_id=slot_id, organisation=OrganisationDetails(organisation,
                                                              OrganisationKind.OTHER),
            contact_name="王建国", contact_phone="13812341234", party_size=party,
            attendee_names=[f"学员{i}" for i in range(min(names, party))])
        try:
            booking, _ = create_booking(db.session, request, now=NOW)
            db.session.commit()
        except BookingError as error:
            db.session.rollback()
            # Refused only when the group truly does not fit, and for the right reason.
            assert not (fits_slot and fits_day), f"refused {party} seats that were free"
            assert error.code == ("slot_full" if not fits_slot else "day_full")
            return
        assert fits_slot and fits_day, f"accepted {party} seats that were not free"
        self.held[booking.id] = (slot_id, party)
        self.names[booking.id] = min(names, party)

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 1000))
    def cancel(self, index):
        booking = self._pick(index)
        if booking.state is BookingState.CANCELLED:
            try:
                cancel_booking(db.session, booking, now=NOW)
            except BookingError as error:
                db.session.rollback()
                assert error.code == "not_changeable"
                return
            raise AssertionError("a cancelled booking was cancelled again")
        cancel_booking(db.session, booking, now=NOW)
        db.session.commit()
        self.held[booking.id] = (booking.slot_id, 0)

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 1000), new_size=st.integers(1, 31))
    def change_size(self, index, new_size):
        booking = self._pick(index)
        slot_id, seats = self.held[booking.id]
        allowed = seats > 0 and new_size <= seats and new_size >= self.names[booking.id]
        try:
            change_party_size(db.session, booking, new_size, now=NOW)
            db.session.commit()
        except BookingError:
            db.session.rollback()
            assert not allowed, f"refused lowering {seats} to {new_size}"
            return
        assert allowed, f"accepted changing {seats} to {new_size}"
        self.held[booking.id] = (slot_id, new_size)

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 1000), count=st.integers(0, 8))
    def replace_names(self, index, count):
        booking = self._pick(index)
        _, seats = self.held[booking.id]
        allowed = seats > 0 and count <= seats
        try:
            replace_attendees(db.session, booking, [f"学员{i}" for i in range(count)], now=NOW)
            db.session.commit()
        except BookingError:
            db.session.rollback()
            assert not allowed
            return
        assert allowed
        self.names[booking.id] = count

    # -- what must always hold --

    @invariant()
    def counters_agree_with_bookings(self):
        db.session.expire_all()
        assert capacity.find_drift(db.session) == []
        for slot in db.session.scalars(select(Slot)):
            assert 0 <= slot.taken <= slot.capacity
            assert slot.taken == self._model_taken(slot.id)
        day = db.session.scalar(select(VenueDay).filter_by(day=VISIT_DAY))
        assert 0 <= day.taken <= day.capacity == DAILY_CAP
        assert day.taken == self._model_taken()
        db.session.rollback()  # end the read transaction (SQLite holds a write lock otherwise)


def test_random_book_cancel_resize_sequences_keep_counters_exact(app):
    run_state_machine_as_test(BookingCounters, settings=settings(
        max_examples=40, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
