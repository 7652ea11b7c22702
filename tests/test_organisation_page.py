"""The organisation page for staff: lift and extend a suspension, the organisation's own
booking limits (enforced on its next booking) and staff notes, each audited and listed in the
page's history; reachable from search results and the booking page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import AuditEntry, Organisation, Role
from booking.models.db import db
from booking.rules.booking_limits import LimitsPolicy
from booking.rules.workflow import create_booking
from tests.fixtures.factories import booking_request
from tests.test_booking_form import field_errors, text_of


@pytest.fixture
def organisation(create_booking, login, create_user):
    booking, _ = create_booking()
    login(create_user())
    return booking.organisation


def _page(client, organisation) -> str:
    return text_of(client.get(f"/staff/organisations/{organisation.id}"))


def _actions(organisation) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "Organisation", AuditEntry.object_id == str(organisation.id))
        .order_by(AuditEntry.id)))


def test_staff_suspend_extend_and_lift_each_audited_and_listed(client, organisation):
    base = f"/staff/organisations/{organisation.id}"
    first, later = local_today() + timedelta(days=30), local_today() + timedelta(days=90)
    response = client.post(f"{base}/suspension", data={"until": first.isoformat(),
                                                       "reason": "电话核实为虚假预约"})
    assert response.status_code == 302
    db.session.expire_all()
    assert organisation.suspended_until == first
    response = client.post(f"{base}/suspension", data={"until": later.isoformat(),
                                                       "reason": "再次未到"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (organisation.suspended_until, organisation.suspension_reason) == (later, "再次未到")
    page = _page(client, organisation)
    assert f"将该单位的预约暂停延长至 {later.isoformat()}（原因：再次未到）" in page
    assert page.count("操作记录") == 1
    assert client.post(f"{base}/lift-suspension").status_code == 302
    db.session.expire_all()
    assert organisation.suspended_until is None
    assert _actions(organisation) == ["organisation.suspend", "organisation.extend_suspension",
                                      "organisation.lift_suspension"]
    assert "解除了该单位的预约暂停" in _page(client, organisation)


def test_a_suspension_needs_a_future_date_and_a_reason(client, organisation):
    base = f"/staff/organisations/{organisation.id}"
    response = client.post(f"{base}/suspension", data={"until": local_today().isoformat(),
                                                       "reason": "x"})
    assert response.status_code == 422 and "晚于今天" in field_errors(response, "until")
    response = client.post(f"{base}/suspension", data={
        "until": (local_today() + timedelta(days=5)).isoformat(), "reason": " "})
    assert response.status_code == 422 and "原因" in field_errors(response, "reason")
    db.session.expire_all()
    assert organisation.suspended_until is None and _actions(organisation) == []


def test_extending_never_shortens_a_running_suspension(client, organisation):
    organisation.suspended_until = local_today() + timedelta(days=60)
    db.session.commit()
    response = client.post(f"/staff/organisations/{organisation.id}/suspension", data={
        "until": (local_today() + timedelta(days=10)).isoformat(), "reason": "误操作"})
    assert response.status_code == 422 and "解除暂停" in field_errors(response, "until")


def test_notes_are_saved_audited_and_shown(client, organisation):
    response = client.post(f"/staff/organisations/{organisation.id}/notes",
                           data={"notes": "联系人换为李老师"})
    assert response.status_code == 302
    db.session.expire_all()
    assert organisation.staff_notes == "联系人换为李老师"
    assert _actions(organisation) == ["organisation.notes"]
    assert "联系人换为李老师" in _page(client, organisation)


def test_limits_are_audited_and_enforced_on_the_next_booking(client, organisation,
                                                             create_slot):
    response = client.post(f"/staff/organisations/{organisation.id}/limits",
                           data={"limit_upcoming": "1", "limit_seats_per_day": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (organisation.limit_upcoming, organisation.limit_seats_per_day) == (1, None)
    assert _actions(organisation) == ["organisation.limits"]
    other_slot = create_slot(start=organisation.bookings[0].slot.starts_at.time()
                             .replace(hour=14))
    request = booking_request(other_slot, contact_phone="13900001111")
    with pytest.raises(BookingError) as refused:
        create_booking(db.session, request, limits=LimitsPolicy())
    assert refused.value.code == "too_many_bookings"
    db.session.rollback()
    # Another organisation with no limit of its own books the same session freely.
    create_booking(db.session, booking_request(other_slot, contact_phone="13900002222",
                                               organisation_name="另一个支部"),
                   limits=LimitsPolicy())


def test_seats_per_day_limit_refuses_the_public_form(client, organisation, create_slot):
    client.post(f"/staff/organisations/{organisation.id}/limits",
                data={"limit_upcoming": "", "limit_seats_per_day": "15"})
    slot = organisation.bookings[0].slot
    later = create_slot(day=slot.day, start=slot.starts_at.time().replace(hour=14))
    from tests.test_booking_form import book
    response = book(client, later, contact_phone="13900003333", party_size="10", attendees="")
    assert response.status_code == 422
    assert "15" in text_of(response)


def test_limits_refuse_bad_numbers(client, organisation):
    response = client.post(f"/staff/organisations/{organisation.id}/limits",
                           data={"limit_upcoming": "-1", "limit_seats_per_day": ""})
    assert response.status_code == 422
    assert field_errors(response, "limit_upcoming")
    db.session.expire_all()
    assert organisation.limit_upcoming is None


def test_guides_cannot_change_an_organisation(client, create_booking, create_user, login):
    booking, _ = create_booking()
    login(create_user("guide", Role.GUIDE))
    base = f"/staff/organisations/{booking.organisation_id}"
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/notes", data={"notes": "x"}).status_code == 403


def test_organisation_page_is_linked_from_search_and_booking_page(client, organisation):
    href = f"/staff/organisations/{organisation.id}"
    booking = db.session.scalars(select(Organisation)).first().bookings[0]
    assert href in client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    search = client.get("/staff/search", query_string={"q": organisation.name})
    assert href in search.get_data(as_text=True)
