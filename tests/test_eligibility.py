"""Who may book: a suspension follows the organisation under another name spelling, without
its credit code, or through the same contact phone; a venue may limit open bookings."""
from __future__ import annotations

from datetime import timedelta

import pytest

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import Organisation
from booking.models.db import db
from booking.rules.eligibility import normalise_name
from booking.rules.workflow import create_booking
from tests.fixtures.factories import booking_request, next_open_day

CODE = "91500234MA5U4E1Y2K"


def suspend(booking) -> Organisation:
    organisation = booking.organisation
    organisation.suspended_until = local_today() + timedelta(days=60)
    db.session.commit()
    return organisation


def test_names_normalise_spaces_brackets_and_width():
    assert normalise_name("中共开州区委 党校") == normalise_name("中共开州区委（党校）")
    assert normalise_name("Kaizhou  School") == normalise_name("kaizhou school")


@pytest.mark.parametrize("other", [
    {"organisation_name": "开州区汉丰街道 党工委"},                       # no code, spaced
    {"organisation_name": "开州区汉丰街道（党工委）", "credit_code": None},  # brackets
    {"organisation_name": "另一个名字", "contact_phone": "138-1234-1234"},  # same phone
], ids=["spaced name", "bracketed name", "same phone"])
def test_a_suspended_organisation_cannot_book_again_under_another_identity(
        create_slot, create_booking, other):
    slot = create_slot(capacity=50)
    first, _ = create_booking(slot, 10, organisation_name="开州区汉丰街道党工委",
                              credit_code=CODE)
    suspend(first)
    values = {"contact_phone": "13900009999", **other}
    with pytest.raises(BookingError) as refused:
        create_booking(slot, 10, **values)
    assert refused.value.code == "organisation_suspended"


def test_an_unrelated_organisation_still_books(create_slot, create_booking):
    slot = create_slot(capacity=50)
    first, _ = create_booking(slot, 10, organisation_name="开州区汉丰街道党工委")
    suspend(first)
    booking, _ = create_booking(slot, 10, organisation_name="开州中学",
                                contact_phone="13900009999")
    assert booking.id


def test_a_venue_limits_the_open_bookings_one_organisation_holds(create_venue, create_slot):
    venue = create_venue(max_open_bookings_per_organisation=2)
    slots = [create_slot(venue, day=next_open_day(7 + i)) for i in range(3)]
    for slot in slots[:2]:
        create_booking(db.session, booking_request(slot, 10))
    with pytest.raises(BookingError) as refused:
        create_booking(db.session, booking_request(slots[2], 10))
    assert refused.value.code == "organisation_limit"
    other, _ = create_booking(db.session, booking_request(slots[2], 10,
                                                          organisation_name="开州中学"))
    assert other.id
