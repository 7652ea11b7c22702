"""Approving and declining pending bookings, the approval queue, and staff sign-in."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from booking.clock import at_local, local_today, utcnow
from booking.errors import BookingError
from booking.models import AuditEntry, BookingState, Role, StaffUser, VenueDay
from booking.models.db import db
from booking.rules import approval
from tests.fixtures.factories import next_open_day

PASSWORD = "correct horse battery"


@pytest.fixture
def pending(create_slot, create_booking):
    """A pending booking of 10 in a 50-seat slot that needs approval."""
    booking, _ = create_booking(create_slot(requires_approval=True), party_size=10)
    assert booking.state is BookingState.PENDING
    return booking


@pytest.fixture
def staff(create_user):
    return create_user("desk", Role.STAFF)


def day_taken(session, slot) -> int:
    return session.scalar(select(VenueDay.taken).filter_by(venue_id=slot.venue_id, day=slot.day))


def audit_entries(session, action):
    return session.scalars(select(AuditEntry).filter_by(action=action)).all()


# --- the rules -----------------------------------------------------------------------------

def test_approving_confirms_the_booking_and_keeps_its_seats(session, pending, staff):
    sequence = pending.sequence
    approval.approve_booking(session, pending, staff)
    session.commit()
    assert pending.state is BookingState.CONFIRMED
    assert pending.seats == 10 and pending.slot.taken == 10
    assert pending.sequence == sequence + 1
    [entry] = audit_entries(session, "booking.approve")
    assert entry.user_id == staff.id and entry.object_id == str(pending.id)
    assert '"state": "pending"' in entry.before and '"state": "confirmed"' in entry.after


def test_declining_gives_the_seats_back_to_slot_and_day(session, pending, staff):
    slot, sequence, updated = pending.slot, pending.sequence, pending.updated_at
    assert slot.taken == 10 and day_taken(session, slot) == 10
    approval.decline_booking(session, pending, staff, "  当天报告厅检修  ",
                             now=updated + timedelta(minutes=5))
    session.commit()
    session.expire_all()
    assert pending.state is BookingState.DECLINED
    assert pending.seats == 0 and pending.state_reason == "当天报告厅检修"
    assert slot.taken == 0 and day_taken(session, slot) == 0
    assert pending.sequence == sequence + 1 and pending.updated_at > updated
    [entry] = audit_entries(session, "booking.decline")
    assert '"seats": 10' in entry.before and '"state": "pending"' in entry.before
    assert '"seats": 0' in entry.after and '"state": "declined"' in entry.after
    assert "当天报告厅检修" in entry.after


@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_needs_a_reason(session, pending, staff, reason):
    with pytest.raises(BookingError) as caught:
        approval.decline_booking(session, pending, staff, reason)
    assert caught.value.field == "reason"
    session.rollback()
    assert pending.state is BookingState.PENDING and pending.slot.taken == 10


def test_only_pending_bookings_can_be_decided(session, create_booking, staff):
    confirmed, _ = create_booking()  # slot without approval: confirmed at once
    for decide in (lambda: approval.approve_booking(session, confirmed, staff),
                   lambda: approval.decline_booking(session, confirmed, staff, "理由")):
        with pytest.raises(BookingError) as caught:
            decide()
        assert caught.value.code == "not_pending"
        session.rollback()
    assert confirmed.state is BookingState.CONFIRMED and confirmed.slot.taken == 10
    assert session.scalar(select(AuditEntry.id)) is None


def test_a_stale_copy_cannot_release_the_same_seats_twice(app, session, pending, staff):
    booking_id, staff_id = pending.id, staff.id
    session.commit()  # SQLite: hold no write lock while a second connection works
    other = Session(db.engine, expire_on_commit=False)
    stale = other.get(type(pending), booking_id)
    stale_staff = other.get(StaffUser, staff_id)
    stale.slot  # noqa: B018  (loaded while still pending)
    other.commit()
    approval.decline_booking(session, pending, staff, "重复提交")
    session.commit()
    with pytest.raises(BookingError) as caught:
        approval.decline_booking(other, stale, stale_staff, "又一次")
    assert caught.value.code == "booking_changed"
    other.rollback()
    other.close()
    assert pending.slot.taken == 0 and day_taken(session, pending.slot) == 0


# --- the queue -----------------------------------------------------------------------------

def test_queue_lists_pending_bookings_oldest_first(client, login, staff, create_slot,
                                                   create_booking):
    slot = create_slot(requires_approval=True)
    start = utcnow() - timedelta(hours=3)
    made = {}
    for minutes, name in ((30, "乙单位"), (0, "甲单位"), (90, "丙单位")):
        booking, _ = create_booking(slot, now=start + timedelta(minutes=minutes),
                                    organisation_name=name)
        made[minutes] = booking.reference
    create_booking(create_slot(start=time(14, 0)))  # confirmed: not in the queue
    expected = [made[0], made[30], made[90]]
    assert [item.booking.reference for item in approval.pending_queue(db.session)] == expected
    login(staff)
    page = client.get("/staff/approvals").get_data(as_text=True)
    positions = [page.index(f'id="booking-{ref}"') for ref in expected]
    assert positions == sorted(positions)
    api = client.get("/api/v1/staff/approvals").get_json()["approvals"]
    assert [row["reference"] for row in api] == expected


def open_day_before(day):
    """``day``, or the day before when it falls on the venue's closed Monday."""
    return day - timedelta(days=1) if day.weekday() == 0 else day


def test_queue_shows_the_organisations_history(session, client, login, staff, create_slot,
                                               create_booking):
    today = local_today()

    def visit(days_ago, state):
        day = open_day_before(today - timedelta(days=days_ago))
        booking, _ = create_booking(create_slot(day=day), organisation_name="开州区实验中学",
                                    now=at_local(day - timedelta(days=14), time(9, 0)))
        booking.state = state
        session.commit()

    visit(200, BookingState.COMPLETED)
    visit(40, BookingState.CHECKED_IN)
    visit(30, BookingState.NO_SHOW)
    visit(120, BookingState.NO_SHOW)     # outside the 90-day window
    visit(20, BookingState.CANCELLED)    # neither a visit nor a no-show
    waiting, _ = create_booking(create_slot(requires_approval=True),
                                organisation_name="开州区实验中学")
    waiting.organisation.suspended_until = today + timedelta(days=5)
    # Its own phone: a suspension also catches another name booked through the same phone.
    create_booking(create_slot(requires_approval=True, start=time(14, 0)),
                   organisation_name="新来的单位", contact_phone="13900001111")
    session.commit()

    history = {item.booking.organisation.name: item.history
               for item in approval.pending_queue(session, window_days=90)}
    assert history == {
        "开州区实验中学": approval.OrganisationHistory(
            past_visits=2, recent_no_shows=1, suspended_until=today + timedelta(days=5)),
        "新来的单位": approval.OrganisationHistory(0, 0, None)}
    login(staff)
    rows = client.get("/api/v1/staff/approvals").get_json()["approvals"]
    assert rows[0]["history"] == {"past_visits": 2, "recent_no_shows": 1,
                                  "suspended_until": (today + timedelta(days=5)).isoformat()}
    assert rows[0]["contact"]["phone"] == "13812341234"  # staff see the full number
    page = client.get("/staff/approvals").get_data(as_text=True)
    assert "13812341234" in page and (today + timedelta(days=5)).isoformat() in page


STATEMENTS = []


def count_queries(client, url) -> int:
    statements = STATEMENTS
    statements.clear()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    db.session.commit()  # start each count from the same, empty, identity map
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_approval_queue_queries_do_not_grow_with_the_queue(client, login, staff, create_slot,
                                                           create_booking):
    login(staff)

    def add_pending(n):
        slot = create_slot(requires_approval=True, start=time(9 + n, 0), capacity=50)
        create_booking(slot, party_size=5, organisation_name=f"单位{n}",
                       attendee_names=["张三", "李四"])

    add_pending(0)
    count_queries(client, "/staff/approvals")  # warm up
    one = count_queries(client, "/staff/approvals")
    for n in range(1, 6):
        add_pending(n)
    six = count_queries(client, "/staff/approvals")
    assert one == six <= 6, "\n".join(s[:120] for s in STATEMENTS)
    assert count_queries(client, "/api/v1/staff/approvals") == count_queries(
        client, "/api/v1/staff/approvals")


def test_dashboard_queries_do_not_grow_with_todays_sessions(client, login, staff, create_slot,
                                                          create_booking):
    login(staff)
    today = local_today()
    create_booking(create_slot(day=next_open_day(10)))  # not today
    create_slot(day=today, start=time(9, 0))
    one = count_queries(client, "/staff/")
    for hour in (10, 11, 14, 15):
        create_slot(day=today, start=time(hour, 0))
    assert count_queries(client, "/staff/") == one <= 6


def test_guides_see_only_their_own_sessions_on_the_dashboard(client, login, create_user,
                                                             create_slot):
    guide = create_user("chenjing", Role.GUIDE)
    today = local_today()
    create_slot(day=today, start=time(9, 0), title="陈静讲的课", guide_user_id=guide.id)
    create_slot(day=today, start=time(14, 0), title="别人讲的课")
    login(guide)
    page = client.get("/staff/").get_data(as_text=True)
    assert "陈静讲的课" in page and "别人讲的课" not in page
    assert "待审批" not in page


# --- the pages and the API -------------------------------------------------------------------

def test_declining_from_the_queue_needs_a_reason_beside_the_field(client, login, staff,
                                                                  pending):
    login(staff)
    response = client.post(f"/staff/bookings/{pending.reference}/decline", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写拒绝理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert pending.state is BookingState.PENDING and pending.slot.taken == 10


def test_declining_from_the_queue_releases_seats_and_returns_to_it(client, login, staff,
                                                                   pending):
    login(staff)
    response = client.post(f"/staff/bookings/{pending.reference}/decline",
                           data={"reason": "场地检修", "next": "/staff/approvals"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/approvals"
    db.session.expire_all()
    assert pending.state is BookingState.DECLINED and pending.slot.taken == 0


def test_booking_page_shows_full_phone_and_audit_trail(client, login, staff, pending):
    login(staff)
    client.post(f"/staff/bookings/{pending.reference}/approve")
    page = client.get(f"/staff/bookings/{pending.reference}").get_data(as_text=True)
    assert "13812341234" in page and "批准了预约" in page and "booking.approve" not in page and "desk" in page
    assert client.get("/staff/bookings/NOSUCHREF").status_code == 404


def test_api_decline_without_a_reason_is_a_json_error(client, login, staff, pending):
    login(staff)
    response = client.post(f"/api/v1/staff/bookings/{pending.reference}/decline",
                           json={"reason": " "})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "reason_required"
    response = client.post(f"/api/v1/staff/bookings/{pending.reference}/decline",
                           json={"reason": "已满"})
    assert response.status_code == 200 and response.get_json()["booking"]["seats"] == 0
    again = client.post(f"/api/v1/staff/bookings/{pending.reference}/approve")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_pending"
    missing = client.post("/api/v1/staff/bookings/NOSUCHREF/approve")
    assert missing.status_code == 404


# --- signing in ----------------------------------------------------------------------------

def login_message(client, username, password):
    response = client.post("/staff/login", data={"username": username, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    start = page.index('class="error"')
    return page[start:page.index("</p>", start)]


def test_wrong_password_and_unknown_user_get_the_same_message(client, staff):
    wrong = login_message(client, "desk", "not the password")
    unknown = login_message(client, "nobody", "not the password")
    assert "用户名或密码错误" in wrong and wrong == unknown


def test_deactivated_users_cannot_log_in(client, session, staff):
    staff.active = False
    session.commit()
    assert "用户名或密码错误" in login_message(client, "desk", PASSWORD)


def test_login_records_the_time_and_follows_only_same_site_next(client, session, staff):
    response = client.post("/staff/login?next=/staff/approvals",
                           data={"username": "DESK", "password": PASSWORD,
                                 "next": "/staff/approvals"})
    assert response.headers["Location"] == "/staff/approvals"
    session.expire_all()
    assert staff.last_login_at is not None
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        client.post("/staff/logout")
        response = client.post("/staff/login", data={"username": "desk", "password": PASSWORD,
                                                      "next": evil})
        assert response.headers["Location"] == "/staff/", evil


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_login_attempts_from_one_address_are_rate_limited(client, staff):
    codes = [client.post("/staff/login", data={"username": f"u{i}", "password": "x"}).status_code
             for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_failures_from_other_addresses_do_not_lock_the_username(client, staff):
    # Throttling is per account and address together (booking/web/login_throttle.py): an
    # attacker elsewhere cannot lock the real user out.
    for i in range(10):
        response = client.post("/staff/login", data={"username": "desk", "password": "wrong"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert response.status_code == 200
    signed_in = client.post("/staff/login", data={"username": "desk", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert signed_in.status_code == 302


# --- the create-user command ---------------------------------------------------------------

def test_create_user_command_prompts_twice_and_hashes(runner, session, client):
    result = runner.invoke(args=["create-user", "zhanglan", "--role", "guide"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "a long password" not in result.output
    user = session.scalar(select(StaffUser).filter_by(username="zhanglan"))
    assert user.role is Role.GUIDE and user.password_hash != "a long password"
    assert client.post("/staff/login", data={"username": "zhanglan",
                                             "password": "a long password"}).status_code == 302
    assert audit_entries(session, "user.create")[0].user_id is None


@pytest.mark.parametrize("args, typed, message", [
    (["create-user", "desk", "--role", "staff"], "a long password\na long password\n", "已存在"),
    (["create-user", "anna", "--role", "boss"], "", "boss"),
    (["create-user", "anna", "--role", "staff"], "short\nshort\n", "至少 10 个字符"),
])
def test_create_user_command_refuses_clearly(runner, session, staff, args, typed, message):
    result = runner.invoke(args=args, input=typed)
    assert result.exit_code != 0 and message in result.output
    assert session.scalar(select(StaffUser).filter_by(username="anna")) is None
