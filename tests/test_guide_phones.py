"""Guides see contact phones in full only for today's sessions (PIPL: no more than needed)."""
from __future__ import annotations

import io
from datetime import time

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from booking.clock import at_local, local_today
from booking.models import Role
from booking.models.db import db
from booking.rules.roster import build_roster
from tests.fixtures.factories import next_open_day, past_open_day


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


# --- every other place a guide might see a contact phone ------------------------------------

@pytest.fixture
def guided(create_venue, create_slot, create_user, book_ahead):
    """A guide with a group in the guide's session on a later day."""
    venue = create_venue()
    guide = create_user("chenjing", Role.GUIDE)
    later_day = next_open_day()
    later = book_ahead(create_slot(venue, day=later_day, start=time(9),
                                   guide_user_id=guide.id), 12)
    db.session.commit()
    return venue, guide, later, later_day


def test_the_staff_api_roster_masks_phones_for_guides_except_today(client, login, guided,
                                                                   create_user):
    venue, guide, later, later_day = guided
    login(guide)
    body = client.get(f"/api/v1/staff/roster/{venue.code}/{later_day.isoformat()}").get_json()
    (group,) = body["roster"]["sessions"][0]["groups"]
    assert group["contact"]["phone"] == "138****1234" and group["contact"]["email"] == ""
    assert "13812341234" not in str(body)


def test_staff_see_full_phones_in_the_api_roster(client, login, guided, create_user):
    venue, _, later, later_day = guided
    login(create_user("desk", Role.STAFF))
    body = client.get(f"/api/v1/staff/roster/{venue.code}/{later_day.isoformat()}").get_json()
    assert body["roster"]["sessions"][0]["groups"][0]["contact"]["phone"] == "13812341234"


def test_the_api_roster_gives_guides_full_phones_on_the_day(client, login, create_venue,
                                                            create_slot, create_user,
                                                            create_booking):
    from datetime import timedelta

    from tests.fixtures.factories import open_every_day

    venue = open_every_day(create_venue())
    guide = create_user("chenjing", Role.GUIDE)
    today = local_today(tz=venue.tz)
    slot = create_slot(venue, day=today, start=time(23, 30), guide_user_id=guide.id)
    create_booking(slot, 12, now=at_local(today - timedelta(days=10), time(9), venue.tz))
    login(guide)
    body = client.get(f"/api/v1/staff/roster/{venue.code}/{today.isoformat()}").get_json()
    assert body["roster"]["sessions"][0]["groups"][0]["contact"]["phone"] == "13812341234"


@pytest.mark.parametrize("extension", ["pdf", "xlsx"])
def test_roster_exports_mask_phones_for_guides(client, login, guided, create_user, extension):
    venue, guide, later, later_day = guided
    url = f"/staff/roster/{venue.code}/{later_day.isoformat()}.{extension}"

    def text(response) -> str:
        assert response.status_code == 200
        if extension == "pdf":
            return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
        sheet = load_workbook(io.BytesIO(response.data)).active
        return " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)

    login(guide)
    as_guide = text(client.get(url))
    assert "138****1234" in as_guide and "13812341234" not in as_guide
    client.post("/staff/logout")
    login(create_user("desk", Role.STAFF))
    assert "13812341234" in text(client.get(url))


def test_the_door_page_masks_phones_for_guides_away_from_the_day(client, login, guided):
    venue, guide, later, _ = guided
    login(guide)
    page = client.get("/staff/door", query_string={"code": later.pass_code}).get_data(
        as_text=True)
    assert later.organisation.name in page
    assert "138****1234" in page and "13812341234" not in page


def test_the_door_page_shows_staff_the_full_phone(client, login, guided, create_user):
    venue, _, later, _ = guided
    login(create_user("desk", Role.STAFF))
    page = client.get("/staff/door", query_string={"code": later.pass_code}).get_data(
        as_text=True)
    assert 'href="tel:13812341234"' in page


def test_guides_are_refused_the_other_pages_that_show_phones(client, login, guided):
    venue, guide, later, _ = guided
    login(guide)
    for path in (f"/staff/bookings/{later.reference}", f"/staff/search?q={later.reference}",
                 "/staff/approvals", "/staff/waitlist",
                 "/api/v1/staff/approvals", "/staff/courses/sessions"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "13812341234" not in response.get_data(as_text=True), path


def test_past_days_are_masked_for_guides_too(client, login, create_venue, create_slot,
                                             create_user, book_ahead):
    venue = create_venue()
    guide = create_user("chenjing", Role.GUIDE)
    day = past_open_day(3)
    book_ahead(create_slot(venue, day=day, start=time(9), guide_user_id=guide.id), 12)
    login(guide)
    body = client.get(f"/api/v1/staff/roster/{venue.code}/{day.isoformat()}").get_json()
    assert body["roster"]["sessions"][0]["groups"][0]["contact"]["phone"] == "138****1234"
