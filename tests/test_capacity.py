"""Rule 1: seats and daily caps are claimed atomically and never oversold."""
import pytest
from sqlalchemy import select

from booking.errors import BookingError
from booking.models import VenueDay
from booking.models.db import db
from booking.rules import capacity
from booking.rules.workflow import cancel_booking, change_party_size


def test_booking_takes_seats_in_slot_and_day(create_slot, create_booking):
    slot = create_slot(capacity=40)
    create_booking(slot, party_size=15)
    db.session.refresh(slot)
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    assert (slot.taken, day.taken) == (15, 15)


def test_full_slot_refuses_with_clear_error(create_slot, create_booking):
    slot = create_slot(capacity=20)
    create_booking(slot, party_size=15)
    with pytest.raises(BookingError) as refused:
        create_booking(slot, party_size=10, organisation_name="开州中学")
    db.session.rollback()
    assert refused.value.code == "slot_full"
    db.session.refresh(slot)
    assert slot.taken == 15


def test_last_seats_go_to_a_group_that_fits(create_slot, create_booking):
    slot = create_slot(capacity=20)
    create_booking(slot, party_size=15)
    create_booking(slot, party_size=5, organisation_name="开州中学")
    db.session.refresh(slot)
    assert slot.taken == slot.capacity == 20


def test_daily_cap_refuses_even_when_slot_has_room(create_venue, create_slot, create_booking):
    venue = create_venue(daily_cap=30)
    first = create_slot(venue, capacity=50)
    from datetime import time
    second = create_slot(venue, day=first.day, start=time(14, 0), capacity=50)
    create_booking(first, party_size=25)
    with pytest.raises(BookingError) as refused:
        create_booking(second, party_size=10, organisation_name="开州中学")
    db.session.rollback()
    assert refused.value.code == "day_full"
    db.session.refresh(second)
    assert second.taken == 0  # the slot claim was rolled back with the day claim


def test_cancel_and_resize_give_seats_back(create_slot, create_booking):
    slot = create_slot(capacity=40)
    booking, _ = create_booking(slot, party_size=30)
    change_party_size(db.session, booking, 20)
    db.session.commit()
    db.session.refresh(slot)
    assert slot.taken == 20
    cancel_booking(db.session, booking)
    db.session.commit()
    db.session.refresh(slot)
    assert slot.taken == 0 and booking.seats == 0
    assert capacity.find_drift(db.session) == []


def test_capacity_cannot_drop_below_seats_taken(create_slot, create_booking):
    slot = create_slot(capacity=40)
    create_booking(slot, party_size=30)
    with pytest.raises(BookingError):
        capacity.set_slot_capacity(db.session, slot, 29)
    capacity.set_slot_capacity(db.session, slot, 30)
    db.session.commit()
    assert slot.capacity == 30


def test_integrity_check_reports_drift(runner, create_slot, create_booking):
    slot = create_slot(capacity=40)
    create_booking(slot, party_size=12)
    assert runner.invoke(args=["check-integrity"]).exit_code == 0
    db.session.execute(db.text("UPDATE slot SET taken = 13 WHERE id = :id"), {"id": slot.id})
    db.session.commit()
    result = runner.invoke(args=["check-integrity"])
    assert result.exit_code == 1
    assert "stored 13, bookings say 12" in result.output
