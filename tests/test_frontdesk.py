"""The front desk: staff book for a group, edit, move and cancel bookings, and find them."""
from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from booking.clock import local_today, utcnow
from booking.errors import BookingError
from booking.models import (
    AuditEntry,
    Booking,
    BookingState,
    OutboxMessage,
    Role,
    Slot,
    WaitlistEntry,
    WaitlistState,
)
from booking.models.db import db
from booking.rules import capacity
from booking.rules.frontdesk import BookingEdit, StaffOverrides
from booking.rules.opening import add_working_days
from booking.rules.waitlist import WaitlistRequest, join_waitlist
from booking.rules.workflow import OrganisationDetails
from booking.usecases import frontdesk
from tests.fixtures.factories import booking_request, next_open_day, open_every_day


@pytest.fixture
def desk(create_user):
    return create_user("desk", Role.STAFF)


def mail_kinds(recipient: str) -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.kind)
                                   .where(OutboxMessage.recipient == recipient)
                                   .order_by(OutboxMessage.id)))


def audit(booking: Booking) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "Booking", AuditEntry.object_id == str(booking.id))
        .order_by(AuditEntry.id)))


def queue(slot, party_size: int, email: str = "wait@example.org") -> WaitlistEntry:
    entry, _ = join_waitlist(db.session, slot, WaitlistRequest(
        organisation=OrganisationDetails(name="开州中学", kind=booking_request(slot).organisation.kind),
        contact_name="李老师", contact_phone="13912345678", party_size=party_size,
        contact_email=email))
    db.session.commit()
    return entry


def tomorrow_slot(create_slot, **kw):
    """A session tomorrow, at a venue open every day: too soon for the public (two working
    days' notice), whatever day of the week today is."""
    day = local_today() + timedelta(days=1)
    assert day < add_working_days(local_today(), 2)
    slot = create_slot(day=day, **kw)
    open_every_day(slot.venue)
    return slot


# --- book on behalf ---------------------------------------------------------------------------

def test_staff_book_for_a_group_with_the_public_rules_and_the_group_gets_its_mail(
        create_slot, desk):
    slot = create_slot(capacity=30)
    booking, token = frontdesk.book_on_behalf(db.session, booking_request(slot, 12), desk)
    db.session.commit()
    assert (booking.state, booking.seats, slot.taken) == (BookingState.CONFIRMED, 12, 12)
    assert token and mail_kinds("wang@example.org") == ["confirmed"]
    assert [e.action for e in audit(booking)] == ["booking.create_by_staff"]


def test_staff_may_book_inside_the_lead_time_only_with_a_reason_which_is_audited(
        create_slot, desk):
    slot = tomorrow_slot(create_slot)
    with pytest.raises(BookingError) as refused:
        frontdesk.book_on_behalf(db.session, booking_request(slot, 10), desk)
    assert refused.value.code == "too_soon"
    with pytest.raises(BookingError) as no_reason:
        frontdesk.book_on_behalf(db.session, booking_request(slot, 10), desk,
                                 StaffOverrides(lead_time=True))
    assert no_reason.value.code == "override_reason"
    booking, _ = frontdesk.book_on_behalf(db.session, booking_request(slot, 10), desk,
                                          StaffOverrides(lead_time=True, reason="县委来电"))
    db.session.commit()
    (entry,) = audit(booking)
    assert '"lead_time": true' in entry.after and "县委来电" in entry.after


def test_staff_may_exceed_the_party_size_range_with_a_reason_but_never_the_capacity(
        create_slot, desk):
    slot = create_slot(capacity=60, party_size_max=50)
    with pytest.raises(BookingError) as refused:
        frontdesk.book_on_behalf(db.session, booking_request(slot, 55), desk)
    assert refused.value.code == "party_size"
    frontdesk.book_on_behalf(db.session, booking_request(slot, 55), desk,
                             StaffOverrides(party_size=True, reason="两个支部合并"))
    db.session.commit()
    with pytest.raises(BookingError) as full:
        frontdesk.book_on_behalf(db.session, booking_request(slot, 10), desk,
                                 StaffOverrides(party_size=True, reason="再来一批"))
    assert full.value.code == "slot_full"
    assert db.session.get(Slot, slot.id).taken == 55


# --- edit ------------------------------------------------------------------------------------

def test_staff_edit_raises_the_party_size_claiming_seats_and_changes_contact_and_names(
        create_slot, create_booking, desk):
    slot = create_slot(capacity=20)
    booking, _ = create_booking(slot, 10)
    frontdesk.edit_booking(db.session, booking, BookingEdit(
        contact_name="赵主任", contact_phone="139 0000 1111", contact_email="zhao@example.org",
        notes="需要轮椅通道", party_size=15, attendee_names=["张三", "李四"]), desk)
    db.session.commit()
    db.session.expire_all()
    assert (booking.party_size, booking.seats, booking.slot.taken) == (15, 15, 15)
    assert (booking.contact_name, booking.contact_phone) == ("赵主任", "13900001111")
    assert [a.name for a in booking.attendees] == ["张三", "李四"]
    assert mail_kinds("zhao@example.org") == ["changed"]
    with pytest.raises(BookingError) as full:
        frontdesk.edit_booking(db.session, booking, BookingEdit(
            contact_name="赵主任", contact_phone="13900001111", party_size=21), desk)
    assert full.value.code in ("slot_full", "party_size")
    assert db.session.get(Slot, slot.id).taken == 15


# --- move ------------------------------------------------------------------------------------

def test_move_claims_the_new_seats_releases_the_old_and_offers_them_to_the_queue(
        create_slot, create_booking, desk):
    old = create_slot(capacity=20)
    new = create_slot(old.venue, day=next_open_day(10), capacity=30)
    booking, _ = create_booking(old, 20)
    waiting = queue(old, 15)
    sequence = booking.sequence
    frontdesk.move_booking(db.session, booking, new, desk)
    db.session.commit()
    db.session.expire_all()
    assert booking.slot_id == new.id and booking.sequence == sequence + 1
    assert (db.session.get(Slot, old.id).taken, db.session.get(Slot, new.id).taken) == (15, 20)
    assert waiting.state is WaitlistState.OFFERED
    assert mail_kinds("wang@example.org") == ["moved"]
    assert "waitlist_offer" in mail_kinds("wait@example.org")
    assert [e.action for e in audit(booking)] == ["booking.move"]
    assert capacity.find_drift(db.session) == []


def test_a_move_to_a_full_session_changes_nothing(create_slot, create_booking, desk):
    old = create_slot(capacity=20)
    new = create_slot(old.venue, day=next_open_day(10), capacity=10)
    booking, _ = create_booking(old, 12)
    with pytest.raises(BookingError) as full:
        frontdesk.move_booking(db.session, booking, new, desk)
    assert full.value.code == "slot_full"
    db.session.expire_all()
    assert booking.slot_id == old.id
    assert (db.session.get(Slot, old.id).taken, db.session.get(Slot, new.id).taken) == (12, 0)
    assert mail_kinds("wang@example.org") == []


# --- cancel ----------------------------------------------------------------------------------

def test_staff_cancel_needs_a_reason_which_the_organisation_reads(
        create_slot, create_booking, desk):
    booking, _ = create_booking(create_slot(), 10)
    with pytest.raises(BookingError) as refused:
        frontdesk.cancel_by_museum_for_booking(db.session, booking, "  ", desk)
    assert refused.value.field == "reason"
    frontdesk.cancel_by_museum_for_booking(db.session, booking, "单位来电取消", desk)
    db.session.commit()
    assert (booking.state, booking.seats, booking.cancelled_by_museum) == (
        BookingState.CANCELLED, 0, True)
    body = db.session.scalars(select(OutboxMessage.body_text)
                              .where(OutboxMessage.kind == "cancelled_by_museum")).one()
    assert "单位来电取消" in body


# --- pages -----------------------------------------------------------------------------------

def test_staff_book_by_phone_on_the_page_and_find_it_again(client, login, create_slot, desk):
    slot = create_slot(capacity=30)
    login(desk)
    page = client.get(f"/staff/bookings/new?slot={slot.id}")
    assert page.status_code == 200 and "代为预约" in page.get_data(as_text=True)
    response = client.post("/staff/bookings/new", data={
        "slot": slot.id, "organisation_name": "开州区档案馆党支部",
        "organisation_kind": "party_organisation", "contact_name": "周老师",
        "contact_phone": "13712345678", "party_size": 18, "language": "zh"})
    assert response.status_code == 302, response.get_data(as_text=True)
    booking = db.session.scalars(select(Booking)).one()
    for text in (booking.display_reference, booking.reference.lower(), "档案馆", "5678",
                 "13712345678"):
        found = client.get("/staff/search", query_string={"q": text}).get_data(as_text=True)
        assert booking.display_reference in found, text
    nothing = client.get("/staff/search", query_string={"q": "1111"}).get_data(as_text=True)
    assert booking.display_reference not in nothing


def test_a_refused_staff_booking_shows_the_reason_beside_the_field(client, login,
                                                                     create_slot, desk):
    slot = create_slot(capacity=30, party_size_max=20)
    login(desk)
    response = client.post("/staff/bookings/new", data={
        "slot": slot.id, "organisation_name": "开州区档案馆党支部",
        "organisation_kind": "party_organisation", "contact_name": "周老师",
        "contact_phone": "13712345678", "party_size": 25, "language": "zh"})
    assert response.status_code == 422
    assert "团体人数须在 1 至 20 人之间" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_search_filters_by_date_range_and_state(client, login, create_slot, create_booking,
                                                desk):
    near = create_slot(capacity=30)
    far = create_slot(near.venue, day=next_open_day(14), capacity=30)
    a, _ = create_booking(near, 10)
    b, _ = create_booking(far, 10)
    login(desk)
    page = client.get("/staff/search", query_string={
        "q": "党工委", "date_from": far.day.isoformat()}).get_data(as_text=True)
    assert b.display_reference in page and a.display_reference not in page
    page = client.get("/staff/search", query_string={"state": "cancelled"}).get_data(
        as_text=True)
    assert a.display_reference not in page


# --- races -----------------------------------------------------------------------------------

def test_a_move_and_a_cancel_of_one_booking_at_once_leave_the_counters_exact(
        app, create_slot, create_booking, create_user):
    desk_id, other_id = create_user("desk", Role.STAFF).id, create_user("desk2", Role.STAFF).id
    old = create_slot(capacity=30)
    new = create_slot(old.venue, day=next_open_day(10), start=time(14, 0), capacity=30)
    booking_id, new_id = create_booking(old, 20)[0].id, new.id
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def act(which: str) -> None:
        with app.app_context():
            from booking.models import StaffUser
            try:
                barrier.wait(timeout=30)
                booking = db.session.get(Booking, booking_id)
                user = db.session.get(StaffUser, desk_id if which == "move" else other_id)
                if which == "move":
                    frontdesk.move_booking(db.session, booking, db.session.get(Slot, new_id),
                                           user)
                else:
                    frontdesk.cancel_by_museum_for_booking(db.session, booking, "来电取消", user)
                db.session.commit()
                outcomes.append(which)
            except BookingError:
                db.session.rollback()
            except Exception as error:  # noqa: BLE001 - a lock timeout is a refusal too
                db.session.rollback()
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(w,)) for w in ("move", "cancel")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes, "one of the two must win"
    db.session.expire_all()
    assert capacity.find_drift(db.session) == []
    booking = db.session.get(Booking, booking_id)
    taken = (db.session.get(Slot, old.id).taken, db.session.get(Slot, new_id).taken)
    if booking.state is BookingState.CANCELLED:
        assert taken == (0, 0)
    else:
        assert outcomes == ["move"] and taken == (0, 20)


# --- reachability -----------------------------------------------------------------------------

def test_a_full_session_offers_the_waiting_list_on_the_day_and_booking_pages(
        client, create_slot, create_booking):
    slot = create_slot(capacity=10)
    create_booking(slot, 10)
    for url in (f"/venues/{slot.venue.code}/days/{slot.day.isoformat()}",
                f"/slots/{slot.id}/book"):
        page = client.get(url).get_data(as_text=True)
        assert f'href="/slots/{slot.id}/waitlist"' in page, url


def test_staff_nav_counts_bookings_awaiting_approval_and_links_the_front_desk(
        client, login, create_slot, create_booking, desk):
    slot = create_slot(requires_approval=True)
    create_booking(slot, 10)
    create_booking(slot, 12, organisation_name="开州区文峰街道党工委")
    login(desk)
    page = client.get("/staff/").get_data(as_text=True)
    assert '<span class="nav-count"' in page and ">2</span>" in page
    for endpoint in ("/staff/search", "/staff/bookings/new", "/staff/door",
                     "/staff/working-days"):
        assert f'href="{endpoint}"' in page


def test_home_and_nav_lead_visitors_to_my_booking_and_certificates(client, create_venue):
    create_venue()
    page = client.get("/").get_data(as_text=True)
    assert 'href="/find"' in page and 'href="/certificates"' in page


# --- the staff digest of pending bookings -----------------------------------------------------

def test_staff_get_one_digest_per_interval_of_new_pending_bookings(app, runner, create_slot,
                                                                   create_booking):
    app.config.update(STAFF_DIGEST_EMAIL="desk@lbc.example.cn", STAFF_DIGEST_HOURS=4)
    slot = create_slot(requires_approval=True)
    first, _ = create_booking(slot, 10)

    def digests() -> list[OutboxMessage]:
        db.session.expire_all()
        return list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "pending_digest").order_by(OutboxMessage.id)))

    assert "1 venues" in runner.invoke(args=["queue-pending-digest"]).output
    (digest,) = digests()
    assert digest.recipient == "desk@lbc.example.cn" and first.display_reference in digest.body_text
    create_booking(slot, 12, organisation_name="开州区文峰街道党工委")
    runner.invoke(args=["queue-pending-digest"])
    assert len(digests()) == 1  # not again within the interval
    later_run = utcnow() + timedelta(hours=5)
    assert frontdesk.queue_pending_digests(db.session, later_run, ["desk@lbc.example.cn"],
                                           timedelta(hours=4)) == 1
    db.session.commit()
    later = digests()[-1]
    assert len(digests()) == 2 and "文峰" in later.body_text
    assert first.display_reference not in later.body_text  # only what is new
