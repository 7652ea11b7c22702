"""Pending bookings staff have not approved in time lapse: seats back, the group told."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.clock import utcnow
from booking.models import BookingState, OutboxMessage
from booking.models.db import db


@pytest.fixture
def old_and_new(create_slot, create_booking):
    slot = create_slot(requires_approval=True)
    old, _ = create_booking(slot, party_size=10, now=utcnow() - timedelta(hours=80))
    new, _ = create_booking(slot, party_size=12, now=utcnow() - timedelta(hours=2),
                            organisation_name="另一单位", contact_phone="13900001111")
    return slot, old, new


def test_expire_pending_lapses_only_bookings_older_than_the_period(runner, old_and_new):
    slot, old, new = old_and_new
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    result = runner.invoke(args=["expire-pending"])
    assert result.exit_code == 0 and "1 lapsed" in result.output
    db.session.expire_all()
    assert old.state is BookingState.DECLINED and old.seats == 0
    assert "Not approved in time" in old.state_reason
    assert new.state is BookingState.PENDING
    assert slot.taken == 12
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert len(mails) == 1 and mails[0].recipient == old.contact_email
    assert runner.invoke(args=["check-integrity"]).exit_code == 0


@pytest.mark.parametrize("app_config", [{"PENDING_APPROVAL_HOURS": 0}])
def test_a_period_of_zero_never_lapses_anything(runner, old_and_new):
    assert "0 lapsed" in runner.invoke(args=["expire-pending"]).output
