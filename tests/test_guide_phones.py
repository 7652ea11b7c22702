"""Guides see contact phones in full only for today's sessions (PIPL: no more than needed)."""
from __future__ import annotations

from datetime import time

from booking.clock import at_local
from booking.models import Role
from booking.models.db import db
from booking.rules.roster import build_roster
from tests.fixtures.factories import next_open_day


def test_guides_see_full_phones_only_on_the_day(create_venue, create_slot, create_user,
                                                book_ahead, login, client):
    venue = create_venue()
    guide = create_user("chenjing", Role.GUIDE)
    day = next_open_day()
    slot = create_slot(venue, day=day, start=time(9), guide_user_id=guide.id)
    book_ahead(slot, 12)

    def phone(**kw):
        return build_roster(db.session, venue, day, **kw).sessions[0].groups[0].contact_phone

    assert phone(guide_user=guide) == "138****1234"
    assert phone(guide_user=guide, now=at_local(day, time(8), venue.tz)) == "13812341234"
    assert phone() == "13812341234"                       # staff: always in full

    login(guide)
    page = client.get(f"/staff/roster/{venue.code}/{day.isoformat()}").get_data(as_text=True)
    assert "138****1234" in page and "13812341234" not in page
