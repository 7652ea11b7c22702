"""Study tours: groups of minors bring one adult per ``STUDY_TOUR_MINORS_PER_ADULT`` minors
(default 10), on every path that makes or changes a party: the booking form, the API, the
front desk (book, edit, move), the manage page and the waiting list (join and accept). Other
programmes are unchanged. And limits per contact configured per programme override the
venue's."""
from __future__ import annotations

import io
import json
import re
from datetime import time

import pytest
from sqlalchemy import func, select

from booking.errors import BookingError
from booking.models import AuditEntry, Booking, Role, WaitlistEntry
from booking.models.db import db
from booking.rules.party_makeup import PartyMakeup, adults_needed, check_party_makeup
from booking.rules.waitlist import offer_to_queue
from booking.rules.workflow import cancel_booking
from booking.usecases import waitlist as waitlist_cases
from tests.fixtures.manage_links import open_manage_link

API = "/api/v1"
STUDY_TOUR = dict(title="传承红色基因 接续百年奋斗", title_en="Passing on the red gene",
                  programme="youth-study-tour", kind="study_tour", party_size_min=10,
                  party_size_max=50)


@pytest.fixture
def tour(create_slot):
    """A study-tour session with room for two groups."""
    return create_slot(capacity=50, **STUDY_TOUR)


@pytest.fixture
def staff(create_user, client, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    return user


def count_bookings() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking))


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def form(**values) -> dict:
    data = {"organisation_name": "开州区实验小学", "organisation_kind": "school",
            "contact_name": "李老师", "contact_phone": "13912345678", "consent": "y"}
    data.update({k: str(v) for k, v in values.items()})
    return data


def api_body(slot, **values) -> dict:
    body = {"slot_id": slot.id, "organisation": {"name": "开州区实验小学", "kind": "school"},
            "contact": {"name": "李老师", "phone": "13912345678"}, "attendees": []}
    body.update(values)
    return body


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize(("minors", "per", "needed"), [
    (0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (20, 10, 2), (21, 10, 3),
    (11, 5, 3), (40, 0, 0)])
def test_one_adult_per_so_many_minors_rounded_up(minors, per, needed):
    assert adults_needed(minors, per) == needed


def test_the_rule_asks_a_study_tour_only(tour, create_slot):
    other = create_slot(start=time(14))
    assert check_party_makeup(other, 12, PartyMakeup()) == PartyMakeup()
    assert check_party_makeup(other, 12, PartyMakeup(0, 12)) == PartyMakeup()  # ignored
    for makeup, code in [(PartyMakeup(), "makeup_required"), (PartyMakeup(2, 9), "makeup_sum"),
                         (PartyMakeup(-1, 13), "makeup_negative"),
                         (PartyMakeup(1, 11), "adult_ratio")]:
        with pytest.raises(BookingError) as refused:
            check_party_makeup(tour, 12, makeup)
        assert refused.value.code == code and refused.value.field == "adults"
    assert check_party_makeup(tour, 11, PartyMakeup(1, 10)) == PartyMakeup(1, 10)


# --- the booking form -----------------------------------------------------------------------

def test_the_form_asks_a_study_tour_for_adults_and_minors_instead_of_the_party_size(client, tour,
                                                                                      create_slot):
    html = client.get(f"/slots/{tour.id}/book").get_data(as_text=True)
    assert 'name="adults"' in html and 'name="minors"' in html
    assert 'name="party_size"' not in html and "每 10 名学生须有 1 名带队成人" in html
    other = client.get(f"/slots/{create_slot(start=time(14)).id}/book").get_data(as_text=True)
    assert 'name="party_size"' in other and 'name="adults"' not in other


def test_the_form_refuses_one_minor_too_many_then_books_at_the_boundary(client, tour):
    refused = client.post(f"/slots/{tour.id}/book", data=form(adults=1, minors=11))
    assert refused.status_code == 422
    assert "11 名学生至少需要 2 名成人，现有 1 名" in text_of(refused)
    missing = client.post(f"/slots/{tour.id}/book", data=form(adults=1))
    assert missing.status_code == 422 and "请填写学生（未成年人）人数" in text_of(missing)
    too_small = client.post(f"/slots/{tour.id}/book", data=form(adults=1, minors=8))
    assert too_small.status_code == 422 and "10 至 50 人之间" in text_of(too_small)
    assert count_bookings() == 0
    booked = client.post(f"/slots/{tour.id}/book", data=form(adults=1, minors=10))
    assert booked.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert (booking.party_size, booking.adults, booking.minors, booking.seats) == (11, 1, 10, 11)


def test_the_refusal_is_in_english_for_an_english_reader(client, tour):
    client.set_cookie("lang", "en")
    refused = client.post(f"/slots/{tour.id}/book", data=form(adults=2, minors=21))
    assert refused.status_code == 422
    assert "21 pupils need at least 3 adults, and the group has 2" in text_of(refused)


@pytest.mark.parametrize("app_config", [{"STUDY_TOUR_MINORS_PER_ADULT": 5}])
def test_the_ratio_is_configurable(client, tour):
    refused = client.post(f"/slots/{tour.id}/book", data=form(adults=1, minors=10))
    assert refused.status_code == 422 and "10 名学生至少需要 2 名成人" in text_of(refused)
    assert client.post(f"/slots/{tour.id}/book", data=form(adults=2, minors=10)).status_code == 302


def test_other_programmes_book_as_before_without_adults_or_minors(client, create_slot):
    slot = create_slot(kind="party_day", programme="party-day")
    response = client.post(f"/slots/{slot.id}/book", data=form(party_size=30, adults=0, minors=30))
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert (booking.party_size, booking.adults, booking.minors) == (30, None, None)


# --- the API --------------------------------------------------------------------------------

def test_the_api_refuses_a_study_tour_short_of_adults_and_books_at_the_boundary(client, tour):
    response = client.post(f"{API}/bookings", json=api_body(tour, party_size=21, adults=2,
                                                             minors=19))
    assert response.status_code == 201
    refused = client.post(f"{API}/bookings", json=api_body(
        tour, party_size=22, adults=1, minors=21, organisation={"name": "开州中学",
                                                                  "kind": "school"}))
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "adult_ratio"
    assert "21 名学生至少需要 3 名成人，现有 1 名" in refused.get_json()["error"]["message"]
    assert count_bookings() == 1


def test_the_api_names_the_adults_needed_and_wants_both_numbers(client, create_slot):
    tour = create_slot(capacity=50, **{**STUDY_TOUR, "party_size_min": 1})
    refused = client.post(f"{API}/bookings?lang=en", json=api_body(tour, party_size=12,
                                                                    adults=1, minors=11))
    error = refused.get_json()["error"]
    assert refused.status_code == 422 and error["code"] == "adult_ratio"
    assert "at least 2 adults" in error["message"] and "adults" in error["fields"]
    missing = client.post(f"{API}/bookings", json=api_body(tour, party_size=12))
    assert missing.get_json()["error"]["code"] == "makeup_required"
    mismatch = client.post(f"{API}/bookings", json=api_body(tour, party_size=12, adults=2,
                                                            minors=11))
    assert mismatch.get_json()["error"]["code"] == "makeup_sum"
    shape = client.post(f"{API}/bookings", json=api_body(tour, party_size=12, adults="2",
                                                         minors=-1))
    assert shape.status_code == 422 and set(shape.get_json()["error"]["fields"]) == {
        "adults", "minors"}
    assert count_bookings() == 0
    created = client.post(f"{API}/bookings", json=api_body(tour, party_size=12, adults=2,
                                                           minors=10)).get_json()
    shown = client.get(f"{API}/bookings/{created['reference']}",
                       headers={"Authorization": f"Bearer {created['manage_token']}"})
    assert (shown.get_json()["adults"], shown.get_json()["minors"]) == (2, 10)


def test_the_api_lists_a_slots_kind_and_other_bookings_carry_no_adults(client, create_slot):
    slot = create_slot()
    assert client.get(f"{API}/slots").get_json()["slots"][0]["kind"] == "themed_course"
    created = client.post(f"{API}/bookings", json=api_body(slot, party_size=12, adults=0,
                                                           minors=12)).get_json()
    shown = client.get(f"{API}/bookings/{created['reference']}",
                       headers={"Authorization": f"Bearer {created['manage_token']}"}).get_json()
    assert (shown["party_size"], shown["adults"], shown["minors"]) == (12, None, None)


def test_the_openapi_document_describes_adults_and_minors(client):
    schemas = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    assert {"adults", "minors"} <= set(schemas["BookingCreate"]["properties"])
    assert {"adults", "minors"} <= set(schemas["Booking"]["required"])
    assert "adult_ratio" in schemas["BookingCreate"]["properties"]["adults"]["description"]


# --- the manage page ------------------------------------------------------------------------

def manage_path(client, booking, token) -> str:
    """The token-free manage page, once the mailed link has set the client's cookie."""
    return open_manage_link(client, booking.reference, token)


def test_the_manage_page_lowers_a_study_tour_only_within_the_ratio(client, tour, create_booking):
    booking, token = create_booking(tour, 13, adults=2, minors=11)
    manage = manage_path(client, booking, token)
    page = client.get(manage).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="adults"[^>]*value="2"', page)
    assert re.search(r'<input[^>]*name="minors"[^>]*value="11"', page)
    refused = client.post(f"{manage}/party-size",
                          data={"adults": "1", "minors": "11"})
    assert refused.status_code == 422 and "11 名学生至少需要 2 名成人" in text_of(refused)
    db.session.refresh(booking)
    assert (booking.party_size, booking.adults, tour.taken) == (13, 2, 13)
    lowered = client.post(f"{manage}/party-size",
                          data={"adults": "1", "minors": "10"})
    assert lowered.status_code == 303
    db.session.refresh(booking)
    db.session.refresh(tour)
    assert (booking.party_size, booking.adults, booking.minors, booking.seats, tour.taken) == (
        11, 1, 10, 11, 11)
    assert "成人 1 · 学生 10" in text_of(client.get(manage))


def test_the_manage_page_of_another_programme_is_unchanged(client, create_slot, create_booking):
    booking, token = create_booking(create_slot(), 12)
    manage = manage_path(client, booking, token)
    assert 'name="adults"' not in client.get(manage).get_data(as_text=True)
    assert client.post(f"{manage}/party-size",
                       data={"party_size": "10"}).status_code == 303
    db.session.refresh(booking)
    assert (booking.party_size, booking.adults) == (10, None)


# --- the waiting list -----------------------------------------------------------------------

@pytest.fixture
def full_tour(create_slot, create_booking):
    slot = create_slot(capacity=20, **STUDY_TOUR)
    create_booking(slot, 20, adults=2, minors=18, organisation_name="开州中学")
    return slot


def test_joining_a_study_tours_waiting_list_keeps_the_ratio(client, full_tour):
    refused = client.post(f"/slots/{full_tour.id}/waitlist", data=form(adults=1, minors=11))
    assert refused.status_code == 422 and "11 名学生至少需要 2 名成人" in text_of(refused)
    assert db.session.scalar(select(WaitlistEntry.id)) is None
    joined = client.post(f"/slots/{full_tour.id}/waitlist", data=form(adults=2, minors=11))
    assert joined.status_code == 302
    entry = db.session.scalar(select(WaitlistEntry))
    assert (entry.party_size, entry.adults, entry.minors) == (13, 2, 11)


def test_accepting_an_offer_books_the_adults_and_minors_within_the_ratio(app, client,
                                                                         full_tour):
    joined = client.post(f"/slots/{full_tour.id}/waitlist", data=form(adults=2, minors=11))
    token = joined.headers["Location"].rsplit("/", 1)[1]
    cancel_booking(db.session, db.session.scalar(select(Booking)),
                   on_seats_freed=offer_to_queue(24))
    db.session.commit()
    app.config["STUDY_TOUR_MINORS_PER_ADULT"] = 5  # the museum tightened the rule meanwhile
    with pytest.raises(BookingError) as refused:
        waitlist_cases.accept_offer(db.session, token)
    assert refused.value.code == "adult_ratio"
    app.config["STUDY_TOUR_MINORS_PER_ADULT"] = 10
    accepted = waitlist_cases.accept_offer(db.session, token)
    assert (accepted.booking.party_size, accepted.booking.adults,
            accepted.booking.minors) == (13, 2, 11)


# --- the front desk -------------------------------------------------------------------------

def staff_form(slot, **values) -> dict:
    data = {"slot": str(slot.id), "organisation_name": "开州区实验小学",
            "organisation_kind": "school", "contact_name": "李老师",
            "contact_phone": "13912345678", "language": "zh"}
    data.update({k: str(v) for k, v in values.items()})
    return data


def test_staff_book_a_study_tour_with_adults_and_minors_and_cannot_override_the_ratio(
        client, tour, staff):
    refused = client.post("/staff/bookings/new", data=staff_form(
        tour, adults=1, minors=11, override_party_size="y", override_reason="电话预约"))
    assert refused.status_code == 422 and "11 名学生至少需要 2 名成人" in text_of(refused)
    assert count_bookings() == 0
    booked = client.post("/staff/bookings/new", data=staff_form(tour, adults=1, minors=10))
    assert booked.status_code == 302  # the size left to the sum
    booking = db.session.scalar(select(Booking))
    assert (booking.party_size, booking.adults, booking.minors) == (11, 1, 10)
    page = text_of(client.get(f"/staff/bookings/{booking.reference}"))
    assert "11 人（成人 1 · 学生 10；占用 11 座）" in page


def test_staff_edit_keeps_the_ratio(client, tour, create_booking, staff):
    booking, _ = create_booking(tour, 12, adults=2, minors=10)
    path = f"/staff/bookings/{booking.reference}/edit"
    assert re.search(r'<input[^>]*name="minors"[^>]*value="10"',
                     client.get(path).get_data(as_text=True))
    edit = {"contact_name": "李老师", "contact_phone": "13912345678"}
    refused = client.post(path, data={**edit, "party_size": "13", "adults": "1",
                                      "minors": "12"})
    assert refused.status_code == 422 and "12 名学生至少需要 2 名成人，现有 1 名" in text_of(refused)
    mismatch = client.post(path, data={**edit, "party_size": "14", "adults": "2", "minors": "11"})
    assert mismatch.status_code == 422 and "与团体人数 14 人不符" in text_of(mismatch)
    db.session.refresh(booking)
    assert (booking.party_size, booking.adults, booking.minors, tour.taken) == (12, 2, 10, 12)
    saved = client.post(path, data={**edit, "party_size": "22", "adults": "2", "minors": "20"})
    assert saved.status_code == 302
    db.session.refresh(booking)
    db.session.refresh(tour)
    assert (booking.party_size, booking.adults, booking.minors, tour.taken) == (22, 2, 20, 22)


def test_staff_move_into_a_study_tour_needs_the_groups_adults_and_minors(
        app, client, tour, create_slot, create_booking, staff):
    course = create_slot(start=time(14))
    untold, _ = create_booking(course, 12)
    refused = client.post(f"/staff/bookings/{untold.reference}/move", data={"slot": tour.id})
    assert refused.status_code == 422 and "研学团体请分别填写带队成人人数" in text_of(refused)
    db.session.refresh(untold)
    assert untold.slot_id == course.id
    short = client.post(f"/staff/bookings/{untold.reference}/move",
                        data={"slot": tour.id, "adults": "1", "minors": "11"})
    assert short.status_code == 422 and "11 名学生至少需要 2 名成人" in text_of(short)
    told = client.post(f"/staff/bookings/{untold.reference}/move",
                       data={"slot": tour.id, "adults": "2", "minors": "10"})
    assert told.status_code == 302
    db.session.refresh(untold)
    assert (untold.slot_id, untold.adults, untold.minors) == (tour.id, 2, 10)
    other_tour = create_slot(start=time(15, 30), **STUDY_TOUR)
    group, _ = create_booking(tour, 11, adults=1, minors=10)
    app.config["STUDY_TOUR_MINORS_PER_ADULT"] = 9
    moved = client.post(f"/staff/bookings/{group.reference}/move", data={"slot": other_tour.id})
    assert moved.status_code == 422 and "10 名学生至少需要 2 名成人" in text_of(moved)
    app.config["STUDY_TOUR_MINORS_PER_ADULT"] = 10
    moved = client.post(f"/staff/bookings/{group.reference}/move", data={"slot": other_tour.id})
    assert moved.status_code == 302
    db.session.refresh(group)
    assert (group.slot_id, group.adults, group.minors) == (other_tour.id, 1, 10)


# --- where adults and minors are shown ------------------------------------------------------

def test_the_roster_and_its_exports_show_adults_and_minors(client, tour, create_booking, staff):
    from openpyxl import load_workbook
    create_booking(tour, 13, adults=2, minors=11)
    day = tour.day.isoformat()
    assert "成人 2 · 学生 11" in text_of(client.get(f"/staff/roster/LBC/{day}"))
    sheet = load_workbook(io.BytesIO(client.get(f"/staff/roster/LBC/{day}.xlsx").data)).active
    header = [c.value for c in sheet[5]]
    row = [c.value for c in sheet[6]]
    assert row[header.index("人数 Size")] == 13
    assert row[header.index("成人+学生 Adults+minors")] == "2+11"
    assert client.get(f"/staff/roster/LBC/{day}.pdf").status_code == 200


# --- limits per programme -------------------------------------------------------------------

PER_PROGRAMME = {"BOOKING_LIMITS": {"upcoming": 5},
                 "BOOKING_LIMITS_BY_VENUE": {"LBC": {"upcoming": 1}},
                 "BOOKING_LIMITS_BY_PROGRAMME": {"youth-study-tour": {"upcoming": 2}}}


@pytest.mark.parametrize("app_config", [PER_PROGRAMME])
def test_a_programmes_limit_overrides_its_venues(client, create_slot):
    tours = [create_slot(start=start, **STUDY_TOUR) for start in (time(9), time(10, 30),
                                                                   time(14))]
    course = create_slot(start=time(15, 30))
    assert client.post(f"/slots/{tours[0].id}/book",
                       data=form(adults=2, minors=10)).status_code == 302
    # The venue allows one; the study tour two, counted over the contact's bookings there.
    assert client.post(f"/slots/{tours[1].id}/book",
                       data=form(adults=2, minors=10)).status_code == 302
    third = client.post(f"/slots/{tours[2].id}/book", data=form(adults=2, minors=10))
    assert third.status_code == 422 and "最多可同时有 2 个未完成的预约" in text_of(third)
    other = client.post(f"/slots/{course.id}/book", data=form(party_size=12))
    assert other.status_code == 422 and "最多可同时有 1 个未完成的预约" in text_of(other)
    api = client.post(f"{API}/bookings", json=api_body(tours[2], party_size=12, adults=2,
                                                       minors=10))
    assert api.status_code == 422 and api.get_json()["error"]["code"] == "too_many_bookings"
    assert count_bookings() == 2


@pytest.mark.parametrize("app_config", [{
    "BOOKING_LIMITS": {"seats_per_day": 150},
    "BOOKING_LIMITS_BY_PROGRAMME": {"youth-study-tour": {"seats_per_day": 20}}}])
def test_a_programme_may_be_stricter_than_its_venue_on_the_waiting_list_too(client, full_tour):
    refused = client.post(f"/slots/{full_tour.id}/waitlist", data=form(adults=3, minors=18))
    assert refused.status_code == 422 and "每天最多预约 20 个座位" in text_of(refused)
    assert client.post(f"/slots/{full_tour.id}/waitlist",
                       data=form(adults=2, minors=18)).status_code == 302


@pytest.mark.parametrize("app_config", [{
    "BOOKING_LIMITS_BY_PROGRAMME": {"liushuai-spirit": {"upcoming": 1}}}])
def test_staff_booking_keeps_the_limits_unless_overridden_with_a_reason(client, create_slot,
                                                                        create_booking, staff):
    first = create_slot()
    create_booking(first, 12, contact_phone="13912345678")
    second = create_slot(start=time(14))
    data = staff_form(second, party_size=12)
    refused = client.post("/staff/bookings/new", data=data)
    assert refused.status_code == 422 and "最多可同时有 1 个未完成的预约" in text_of(refused)
    no_reason = client.post("/staff/bookings/new", data={**data, "override_limits": "y"})
    assert no_reason.status_code == 422 and "请填写理由" in text_of(no_reason)
    assert count_bookings() == 1
    booked = client.post("/staff/bookings/new", data={
        **data, "override_limits": "y", "override_reason": "学校两个年级分两次来"})
    assert booked.status_code == 302
    booking = db.session.scalar(select(Booking).where(Booking.slot_id == second.id))
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "booking.create_by_staff", AuditEntry.object_id == str(booking.id)))
    overrides = json.loads(entry.after)["overrides"]
    assert overrides["limits"] is True and overrides["reason"] == "学校两个年级分两次来"
