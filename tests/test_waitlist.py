"""The waiting list: queue for a full slot; freed seats go to the first entry that fits, held
atomically so that no seat is ever promised twice."""
from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import (
    AuditEntry,
    Booking,
    BookingState,
    OrganisationKind,
    Role,
    Slot,
    WaitlistEntry,
    WaitlistState,
)
from booking.models.db import db
from booking.rules import capacity, tokens
from booking.rules.waitlist import (
    WaitlistRequest,
    accept_offer,
    expire_offers,
    find_entry_by_token,
    join_waitlist,
    offer_freed_seats,
    offer_to_queue,
    queue_position,
    withdraw,
)
from booking.rules.workflow import OrganisationDetails, cancel_booking, change_party_size
from tests.fixtures.manage_links import open_manage_link

HOLD = 24


def waitlist_request(party_size: int, name: str, **kw) -> WaitlistRequest:
    values = dict(organisation=OrganisationDetails(name=name, kind=OrganisationKind.SCHOOL),
                  contact_name="李老师", contact_phone="139 1234 5678", party_size=party_size,
                  contact_email="li@example.org")
    values.update(kw)
    return WaitlistRequest(**values)


@pytest.fixture
def full_slot(create_slot, create_booking):
    """A 30-seat slot booked out by two groups of 15."""
    slot = create_slot(capacity=30)
    create_booking(slot, party_size=15, organisation_name="开州区汉丰街道党工委")
    create_booking(slot, party_size=15, organisation_name="开州区文峰街道党工委")
    return slot


@pytest.fixture
def join(app):
    """Queue a group; returns (entry, token). ``minutes`` orders the entries."""
    def joiner(slot, party_size, name, minutes=0, **kw):
        entry, token = join_waitlist(db.session, slot, waitlist_request(party_size, name, **kw),
                                     now=utcnow() - timedelta(hours=1) + timedelta(minutes=minutes))
        db.session.commit()
        return entry, token
    return joiner


def bookings_of(slot):
    return db.session.scalars(select(Booking).where(Booking.slot_id == slot.id)
                              .order_by(Booking.id)).all()


def states(*entries):
    for entry in entries:
        db.session.refresh(entry)
    return [entry.state for entry in entries]


# --- joining -------------------------------------------------------------------------------

def test_a_slot_with_seats_for_the_party_refuses_the_waiting_list(create_slot, create_booking,
                                                                   join):
    slot = create_slot(capacity=30)
    create_booking(slot, party_size=15)
    with pytest.raises(BookingError) as refused:
        join(slot, 15, "开州中学")
    db.session.rollback()
    assert refused.value.code == "seats_available"
    entry, token = join(slot, 16, "开州中学")  # 16 do not fit in the 15 left
    assert entry.state is WaitlistState.WAITING and entry.seats_held == 0
    assert entry.token_hash == tokens.hash_secret(token) and len(token) >= 22  # >= 128 bits


def test_a_full_day_lets_a_group_queue_even_when_the_slot_has_room(create_venue, create_slot,
                                                                     create_booking, join):
    venue = create_venue(daily_cap=40)
    morning = create_slot(venue, capacity=50)
    afternoon = create_slot(venue, day=morning.day, start=time(14), capacity=50)
    create_booking(morning, party_size=35)
    entry, _ = join(afternoon, 10, "开州中学")
    assert entry.state is WaitlistState.WAITING


def test_the_waiting_list_keeps_the_booking_rules(full_slot, join, create_slot):
    with pytest.raises(BookingError) as too_big:
        join(full_slot, 51, "开州中学")
    db.session.rollback()
    assert too_big.value.code == "party_size"
    past = create_slot(day=utcnow().date() - timedelta(days=3), capacity=10)
    with pytest.raises(BookingError) as closed:
        join(past, 10, "开州中学")
    db.session.rollback()
    assert closed.value.code == "slot_past"


def test_one_organisation_queues_once_per_slot(full_slot, join):
    join(full_slot, 10, "开州中学")
    with pytest.raises(BookingError) as twice:
        join(full_slot, 12, "开州中学")
    db.session.rollback()
    assert twice.value.code == "already_waiting"


def test_a_suspended_organisation_cannot_queue(full_slot, join):
    entry, _ = join(full_slot, 10, "开州中学")
    entry.organisation.suspended_until = full_slot.day + timedelta(days=10)
    db.session.commit()
    with pytest.raises(BookingError) as refused:
        join(full_slot, 12, "开州中学")
    db.session.rollback()
    assert refused.value.code == "organisation_suspended"


def test_queue_position_counts_the_entries_ahead(full_slot, join):
    first, _ = join(full_slot, 10, "开州中学", minutes=1)
    second, _ = join(full_slot, 10, "开州实验小学", minutes=2)
    assert (queue_position(db.session, first), queue_position(db.session, second)) == (1, 2)


# --- offering ------------------------------------------------------------------------------

def test_freed_seats_go_to_the_first_entry_that_fits_in_order(full_slot, join):
    big, _ = join(full_slot, 20, "开州中学", minutes=1)
    small, _ = join(full_slot, 12, "开州实验小学", minutes=2)
    later, _ = join(full_slot, 10, "开州区图书馆", minutes=3)
    booking = bookings_of(full_slot)[0]
    cancel_booking(db.session, booking, on_seats_freed=offer_to_queue(HOLD))  # frees 15
    db.session.commit()
    # 20 does not fit in 15 and keeps its place; 12 fits; the 3 left fit nobody.
    assert states(big, small, later) == [WaitlistState.WAITING, WaitlistState.OFFERED,
                                         WaitlistState.WAITING]
    assert small.seats_held == 12
    assert queue_position(db.session, big) == 1
    db.session.refresh(full_slot)
    assert full_slot.taken == 15 + 12
    assert capacity.find_drift(db.session) == []


def test_the_offer_holds_seats_for_the_configured_time_but_not_past_the_start(full_slot, join):
    entry, _ = join(full_slot, 10, "开州中学")
    now = utcnow()
    booking = bookings_of(full_slot)[0]
    cancel_booking(db.session, booking, now=now, on_seats_freed=offer_to_queue(6))
    db.session.commit()
    db.session.refresh(entry)
    assert entry.offer_expires_at == (now + timedelta(hours=6)).replace(microsecond=now.microsecond)
    other = bookings_of(full_slot)[1]
    late, _ = join(full_slot, 10, "开州实验小学")
    cancel_booking(db.session, other, now=now, on_seats_freed=offer_to_queue(24 * 365))
    db.session.commit()
    db.session.refresh(late)
    assert late.offer_expires_at == full_slot.starts_at


def test_held_seats_count_as_taken_and_block_new_bookings(full_slot, join, create_booking):
    entry, _ = join(full_slot, 15, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    with pytest.raises(BookingError) as refused:
        create_booking(full_slot, party_size=10, organisation_name="开州区图书馆")
    db.session.rollback()
    assert refused.value.code == "slot_full"
    assert capacity.find_drift(db.session) == []
    # The integrity check counts the held seats: dropping them shows as drift.
    db.session.execute(db.text("UPDATE waitlist_entry SET seats_held = 0 WHERE id = :id"),
                       {"id": entry.id})
    assert capacity.find_drift(db.session) != []
    db.session.rollback()


def test_lowering_the_party_size_offers_the_seats_given_back(full_slot, join):
    entry, _ = join(full_slot, 5, "开州中学")
    change_party_size(db.session, bookings_of(full_slot)[0], 10,
                      on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    assert states(entry) == [WaitlistState.OFFERED]
    assert capacity.find_drift(db.session) == []


def test_without_the_hook_freed_seats_stay_free(full_slot, join):
    entry, _ = join(full_slot, 5, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0])
    db.session.commit()
    assert states(entry) == [WaitlistState.WAITING]
    offered = offer_freed_seats(db.session, full_slot, utcnow(), HOLD)  # staff: "offer now"
    db.session.commit()
    assert offered == [entry] and states(entry) == [WaitlistState.OFFERED]


def test_no_offers_for_a_slot_that_has_started_or_closed(full_slot, join):
    entry, _ = join(full_slot, 5, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0])
    db.session.commit()
    assert offer_freed_seats(db.session, full_slot, full_slot.starts_at, HOLD) == []
    full_slot.state = full_slot.state.CLOSED
    db.session.commit()
    assert offer_freed_seats(db.session, full_slot, utcnow(), HOLD) == []
    assert states(entry) == [WaitlistState.WAITING]
    assert capacity.find_drift(db.session) == []


# --- accepting, declining, expiring ------------------------------------------------------

def test_accepting_turns_the_held_seats_into_a_booking_without_claiming_again(full_slot, join):
    entry, token = join(full_slot, 12, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    db.session.refresh(full_slot)
    taken_before = full_slot.taken
    booking, manage_token = accept_offer(db.session, token)
    db.session.commit()
    db.session.refresh(full_slot)
    db.session.refresh(entry)
    assert full_slot.taken == taken_before == 27
    assert (booking.party_size, booking.seats, booking.state) == (12, 12, BookingState.CONFIRMED)
    assert booking.organisation.name == "开州中学" and booking.contact_phone == "13912345678"
    assert booking.manage_token_hash == tokens.hash_secret(manage_token)
    assert (entry.state, entry.seats_held, entry.booking_id) == (WaitlistState.ACCEPTED, 0,
                                                                 booking.id)
    assert capacity.find_drift(db.session) == []
    with pytest.raises(BookingError) as again:
        accept_offer(db.session, token)
    db.session.rollback()
    assert again.value.code == "offer_accepted"


def test_accepting_a_slot_that_needs_approval_gives_a_pending_booking(create_slot,
                                                                        create_booking, join):
    slot = create_slot(capacity=10, requires_approval=True)
    first, _ = create_booking(slot, party_size=10)
    _, token = join(slot, 10, "开州中学")
    cancel_booking(db.session, first, on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    booking, _ = accept_offer(db.session, token)
    assert booking.state is BookingState.PENDING


def test_the_offer_link_accepts_too(full_slot, join):
    entry, _ = join(full_slot, 12, "开州中学")
    offer_token = tokens.new_secret()
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    # The offer e-mail carries a second secret; simulate knowing it.
    entry.offer_token_hash = tokens.hash_secret(offer_token)
    db.session.commit()
    assert find_entry_by_token(db.session, offer_token).id == entry.id
    booking, _ = accept_offer(db.session, offer_token)
    assert booking.party_size == 12


def test_a_waiting_entry_cannot_accept(full_slot, join):
    _, token = join(full_slot, 12, "开州中学")
    with pytest.raises(BookingError) as refused:
        accept_offer(db.session, token)
    db.session.rollback()
    assert refused.value.code == "no_offer"


def test_an_expired_offer_releases_its_seats_to_the_next_entry(full_slot, join):
    first, first_token = join(full_slot, 15, "开州中学", minutes=1)
    second, _ = join(full_slot, 15, "开州实验小学", minutes=2)
    now = utcnow()
    cancel_booking(db.session, bookings_of(full_slot)[0], now=now,
                   on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    assert states(first, second) == [WaitlistState.OFFERED, WaitlistState.WAITING]
    late = now + timedelta(hours=HOLD, minutes=1)
    with pytest.raises(BookingError) as refused:
        accept_offer(db.session, first_token, now=late)
    db.session.rollback()
    assert refused.value.code == "offer_expired"
    # Not yet due: nothing happens.
    assert expire_offers(db.session, now + timedelta(hours=1), HOLD).expired == []
    result = expire_offers(db.session, late, HOLD)
    db.session.commit()
    assert result.expired == [first] and result.offered == [second]
    assert states(first, second) == [WaitlistState.EXPIRED, WaitlistState.OFFERED]
    assert first.seats_held == 0 and second.seats_held == 15
    assert capacity.find_drift(db.session) == []


def test_waiting_entries_expire_when_the_slot_starts(full_slot, join):
    entry, _ = join(full_slot, 15, "开州中学")
    assert expire_offers(db.session, full_slot.starts_at - timedelta(minutes=1), HOLD).expired == []
    result = expire_offers(db.session, full_slot.starts_at, HOLD)
    db.session.commit()
    assert result.expired == [entry] and states(entry) == [WaitlistState.EXPIRED]


def test_declining_an_offer_moves_the_seats_on(full_slot, join):
    first, first_token = join(full_slot, 15, "开州中学", minutes=1)
    second, _ = join(full_slot, 15, "开州实验小学", minutes=2)
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    offered = withdraw(db.session, first_token, utcnow(), HOLD)
    db.session.commit()
    assert offered == [second]
    assert states(first, second) == [WaitlistState.WITHDRAWN, WaitlistState.OFFERED]
    assert capacity.find_drift(db.session) == []
    with pytest.raises(BookingError) as again:
        withdraw(db.session, first_token, utcnow(), HOLD)
    db.session.rollback()
    assert again.value.code == "not_waiting"


def test_withdrawing_while_waiting_frees_nothing_and_leaves_the_queue(full_slot, join):
    first, first_token = join(full_slot, 15, "开州中学", minutes=1)
    second, _ = join(full_slot, 15, "开州实验小学", minutes=2)
    assert withdraw(db.session, first_token, utcnow(), HOLD) == []
    db.session.commit()
    assert queue_position(db.session, second) == 1
    db.session.refresh(full_slot)
    assert full_slot.taken == 30


def test_an_unknown_link_is_not_found(app):
    with pytest.raises(BookingError) as missing:
        find_entry_by_token(db.session, "not-a-token")
    assert missing.value.status == 404


# --- concurrency ---------------------------------------------------------------------------

def test_concurrent_cancellations_never_promise_a_seat_twice(app, create_slot, create_booking,
                                                             join):
    """Eight groups of 10 fill an 80-seat slot; a queue wants 155 seats. All eight cancel at
    once, each in its own session and thread, each offering what it freed."""
    slot = create_slot(capacity=80)
    booking_ids = [create_booking(slot, party_size=10, organisation_name=f"第{n}党支部")[0].id
                   for n in range(8)]
    sizes = [20, 10, 5, 10, 30, 10, 5, 15, 10, 20, 5, 15]
    entries = [join(slot, size, f"候补单位{n}", minutes=n)[0] for n, size in enumerate(sizes)]
    entry_ids = [e.id for e in entries]
    db.session.commit()  # SQLite: this thread must not hold the write lock while they run
    barrier = threading.Barrier(len(booking_ids))
    errors = []

    def cancel(booking_id):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                booking = db.session.get(Booking, booking_id)
                cancel_booking(db.session, booking, on_seats_freed=offer_to_queue(HOLD))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel, args=(bid,)) for bid in booking_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    slot = db.session.get(Slot, slot.id)
    queue = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.id.in_(entry_ids))
                               .order_by(WaitlistEntry.id)).all()
    offered = [e for e in queue if e.state is WaitlistState.OFFERED]
    booked = sum(b.seats for b in bookings_of(slot))
    assert booked == 0
    assert all(e.seats_held == e.party_size for e in offered)  # held once, never twice
    assert all(e.seats_held == 0 for e in queue if e.state is not WaitlistState.OFFERED)
    assert sum(e.seats_held for e in offered) + booked == slot.taken <= slot.capacity
    # Whatever order they ran in, each cancellation freed 10 seats and served the queue
    # first-fit: smaller groups overtake the 20 and the 30, and 10 seats fit nobody.
    assert [queue.index(e) for e in offered] == [1, 2, 3, 5, 6, 7, 8, 10]
    assert slot.taken == 70
    assert capacity.find_drift(db.session) == []


# --- the CLI -------------------------------------------------------------------------------

def test_cron_command_expires_offers_and_offers_onward(runner, full_slot, join):
    first, _ = join(full_slot, 15, "开州中学", minutes=1)
    second, _ = join(full_slot, 15, "开州实验小学", minutes=2)
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    first.offer_expires_at = utcnow() - timedelta(minutes=1)  # the hold ran out
    db.session.commit()
    result = runner.invoke(args=["expire-waitlist-offers"])
    assert result.exit_code == 0, result.output
    assert "1 expired, 1 new offers" in result.output
    assert states(first, second) == [WaitlistState.EXPIRED, WaitlistState.OFFERED]


# --- pages ---------------------------------------------------------------------------------

JOIN_FORM = {"organisation_name": "开州区实验小学", "organisation_kind": "school",
             "contact_name": "李老师", "contact_phone": "139 1234 5678", "party_size": "20",
             "consent": "y"}


def test_a_full_slot_offers_its_waiting_list_and_joining_gives_a_private_link(client,
                                                                              full_slot):
    page = client.get(f"/slots/{full_slot.id}/waitlist")
    assert page.status_code == 200 and "加入候补名单" in page.get_data(as_text=True)
    response = client.post(f"/slots/{full_slot.id}/waitlist", data=JOIN_FORM)
    assert response.status_code == 302
    token = response.headers["Location"].rsplit("/", 1)[1]
    entry = find_entry_by_token(db.session, token)
    assert (entry.party_size, entry.contact_phone) == (20, "13912345678")
    page = client.get(f"/waitlist/{token}")
    html = page.get_data(as_text=True)
    assert "候补中：第 1 位" in html and "139****5678" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_join_form_explains_what_is_wrong(client, full_slot, create_slot):
    response = client.post(f"/slots/{full_slot.id}/waitlist",
                           data={**JOIN_FORM, "contact_phone": "12345", "party_size": "80"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写 11 位中国大陆手机号码" in html and "团体人数须在 1 至 50 人之间" in html
    roomy = create_slot(start=time(14), capacity=50)
    refused = client.post(f"/slots/{roomy.id}/waitlist", data=JOIN_FORM)
    assert refused.status_code == 422
    assert "该场次还有足够的余位，请直接预约" in refused.get_data(as_text=True)
    assert db.session.scalar(select(WaitlistEntry.id)) is None


def test_accepting_on_the_offer_page_shows_the_booking_confirmation(client, full_slot, join):
    entry, token = join(full_slot, 12, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    html = client.get(f"/waitlist/{token}").get_data(as_text=True)
    assert "已为您保留 12 个座位" in html and "保留至" in html
    response = client.post(f"/waitlist/{token}/accept")
    assert response.status_code == 302 and "/confirmation" in response.headers["Location"]
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(entry)
    booking = db.session.get(Booking, entry.booking_id)
    assert booking.display_reference in confirmation and "/manage/" in confirmation
    assert "已确认预约" in client.get(f"/waitlist/{token}").get_data(as_text=True)


def test_an_expired_offer_says_so_and_the_seats_have_moved_on(client, full_slot, join):
    first, token = join(full_slot, 15, "开州中学", minutes=1)
    second, _ = join(full_slot, 15, "开州实验小学", minutes=2)
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    first.offer_expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    response = client.post(f"/waitlist/{token}/accept")
    assert response.status_code == 302
    html = client.get(f"/waitlist/{token}").get_data(as_text=True)
    assert "名额保留已于" in html          # the refusal, flashed
    assert "已顺延给下一个候补单位" in html  # the page itself, after expiry on view
    assert states(first, second) == [WaitlistState.EXPIRED, WaitlistState.OFFERED]
    assert db.session.scalar(select(Booking.id).where(Booking.party_size == 15,
                                                      Booking.state == BookingState.CONFIRMED,
                                                      Booking.organisation_id ==
                                                      first.organisation_id)) is None


def test_declining_on_the_offer_page_releases_the_seats(client, full_slot, join):
    entry, token = join(full_slot, 15, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    response = client.post(f"/waitlist/{token}/withdraw")
    assert response.status_code == 302
    assert "已退出候补" in client.get(f"/waitlist/{token}").get_data(as_text=True)
    db.session.refresh(full_slot)
    assert full_slot.taken == 15 and states(entry) == [WaitlistState.WITHDRAWN]


def test_a_wrong_link_is_a_clear_404(client):
    response = client.get("/waitlist/" + tokens.new_secret())
    assert response.status_code == 404
    assert "候补记录不存在或链接无效" in response.get_data(as_text=True)


@pytest.fixture
def staff_client(client, create_user, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    return client


def test_staff_see_the_queue_in_order_with_full_phone_numbers(staff_client, full_slot, join):
    join(full_slot, 20, "开州中学", minutes=1)
    join(full_slot, 12, "开州实验小学", minutes=2, contact_phone="13711112222")
    html = staff_client.get("/staff/waitlist").get_data(as_text=True)
    assert html.index("开州中学") < html.index("开州实验小学")
    assert "13711112222" in html and "候补中" in html


def test_staff_offer_now_and_withdraw_are_audited(staff_client, full_slot, join):
    entry, _ = join(full_slot, 10, "开州中学")
    cancel_booking(db.session, bookings_of(full_slot)[0])  # a path that did not offer
    db.session.commit()
    assert staff_client.post(f"/staff/waitlist/slots/{full_slot.id}/offer").status_code == 302
    assert states(entry) == [WaitlistState.OFFERED]
    assert staff_client.post(f"/staff/waitlist/entries/{entry.id}/withdraw").status_code == 302
    assert states(entry) == [WaitlistState.WITHDRAWN]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["waitlist.offer", "waitlist.withdraw"]
    assert capacity.find_drift(db.session) == []


def test_the_staff_waiting_list_is_for_staff_only(client, create_user, login):
    paths = [("get", "/staff/waitlist"), ("post", "/staff/waitlist/slots/1/offer"),
             ("post", "/staff/waitlist/entries/1/withdraw")]
    for method, path in paths:
        assert getattr(client, method)(path).status_code == 302
    login(create_user("guide", Role.GUIDE))
    for method, path in paths:
        assert getattr(client, method)(path).status_code == 403


# --- every path that frees seats reaches the queue ---------------------------------------

def test_cancelling_or_shrinking_on_the_manage_page_offers_the_seats(client, create_slot,
                                                                     create_booking, join):
    slot = create_slot(capacity=30)
    booking, manage_token = create_booking(slot, party_size=30)
    small, _ = join(slot, 5, "开州中学", minutes=1)
    large, _ = join(slot, 25, "开州实验小学", minutes=2)
    manage = open_manage_link(client, booking.reference, manage_token)
    assert client.post(f"{manage}/party-size", data={"party_size": "25"}).status_code == 303
    assert states(small, large) == [WaitlistState.OFFERED, WaitlistState.WAITING]
    assert client.post(f"{manage}/cancel", data={"reason": "行程调整"}).status_code == 303
    assert states(small, large) == [WaitlistState.OFFERED, WaitlistState.OFFERED]
    assert capacity.find_drift(db.session) == []


def test_declining_a_pending_booking_offers_its_seats(create_slot, create_booking, join,
                                                      create_user):
    from booking.rules.approval import decline_booking
    slot = create_slot(capacity=20, requires_approval=True)
    pending, _ = create_booking(slot, party_size=20)
    entry, _ = join(slot, 18, "开州中学")
    decline_booking(db.session, pending, create_user(), "人数超出场地安排",
                    on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    assert states(entry) == [WaitlistState.OFFERED] and entry.seats_held == 18
    assert capacity.find_drift(db.session) == []


def test_raising_a_sessions_capacity_offers_the_new_seats(create_course, create_booking, join):
    from booking.clock import at_local
    from courses.rules.scheduling import change_session, schedule_session
    from tests.fixtures.factories import next_open_day
    course = create_course()
    course_session = schedule_session(db.session, course, at_local(next_open_day(), time(9)),
                                      capacity=20)
    db.session.commit()
    create_booking(course_session.slot, party_size=20)
    entry, _ = join(course_session.slot, 15, "开州中学")
    assert change_session(db.session, course_session, lecturer=None, room=None, capacity=35,
                          user=None, on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    assert states(entry) == [WaitlistState.OFFERED]
    assert capacity.find_drift(db.session) == []


def test_cancelling_the_session_ends_its_waiting_list_and_frees_held_seats(full_slot, join):
    from booking.rules.closures import cancel_slot
    offered, _ = join(full_slot, 15, "开州中学", minutes=1)
    waiting, _ = join(full_slot, 20, "开州实验小学", minutes=2)
    cancel_booking(db.session, bookings_of(full_slot)[0], on_seats_freed=offer_to_queue(HOLD))
    db.session.commit()
    cancel_slot(db.session, full_slot, "场馆设备检修", None)
    db.session.commit()
    assert states(offered, waiting) == [WaitlistState.WITHDRAWN, WaitlistState.WITHDRAWN]
    db.session.refresh(full_slot)
    assert full_slot.taken == 0 and offered.seats_held == 0
    assert capacity.find_drift(db.session) == []
