"""Acceptance: every path that frees seats, walked through its real face (page, API), offers
the seats to the waiting list and queues its mail -- or, where no offer is possible (the slot
is gone, the session is over), ends the queue or leaves it alone, and says why.

Each path runs on the same scene: a 30-seat slot booked out by two groups (the one the path
acts on, 20 seats, and another, 10 seats lowered to 6 beforehand) and two waiting groups: the
first (8) waits, the second (4) already holds an offer of the 4 seats that lowering freed.
After every path ``flask check-integrity`` must find the counters in agreement.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.clock import utcnow
from booking.models import (
    AuditEntry,
    Booking,
    BookingState,
    OrganisationKind,
    OutboxMessage,
    Role,
    Room,
    Slot,
    SlotState,
    StaffUser,
    VenueDay,
    WaitlistEntry,
    WaitlistState,
)
from booking.models.db import db
from booking.rules.waitlist import WaitlistRequest, join_waitlist
from booking.rules.workflow import OrganisationDetails
from booking.usecases import bookings as booking_cases
from courses.models import CourseSession
from tests.fixtures.factories import next_open_day, past_open_day
from tests.fixtures.manage_links import open_manage_link

CAPACITY = 30
GROUP_SEATS, OTHER_SEATS, OTHER_LOWERED_TO = 20, 10, 6
QUEUED_SEATS, HELD_SEATS = 8, 4
GROUP_EMAIL, OTHER_EMAIL = "group@example.org", "other@example.org"
QUEUED_EMAIL, HELD_EMAIL = "queued@example.org", "held@example.org"


@dataclass
class Scene:
    slot: Slot
    room: Room
    course_session: CourseSession
    group: Booking          # the booking the path acts on
    token: str              # its manage token
    other: Booking
    queued: WaitlistEntry   # waiting, 8 seats: the one a freeing path must offer to
    held: WaitlistEntry | None  # already offered 4 seats before the path runs
    staff: StaffUser
    mail_before: int        # highest outbox id before the path runs


def _join(slot, party_size, name, email, now):
    request = WaitlistRequest(
        organisation=OrganisationDetails(name=name, kind=OrganisationKind.SCHOOL),
        contact_name="李老师", contact_phone="139 1234 5678", party_size=party_size,
        contact_email=email)
    entry, _ = join_waitlist(db.session, slot, request, now=now)
    db.session.commit()
    return entry


@pytest.fixture
def build_scene(create_venue, create_room, create_course, create_slot, create_booking,
                create_user):
    def build(*, requires_approval: bool = False, past: bool = False) -> Scene:
        venue = create_venue()
        room = create_room(venue)
        course = create_course(venue, default_room=room)
        slot = create_slot(venue, day=past_open_day() if past else next_open_day(),
                           capacity=CAPACITY, room=room, requires_approval=requires_approval,
                           programme=course.code)
        course_session = CourseSession(slot=slot, course=course)
        db.session.add(course_session)
        db.session.commit()
        # A past slot is booked (and queued for) as if two weeks before it.
        booked_at = slot.starts_at - timedelta(days=14) if past else None
        group, token = create_booking(slot, GROUP_SEATS, now=booked_at, contact_email=GROUP_EMAIL,
                                      organisation_name="开州区汉丰街道党工委")
        other, _ = create_booking(slot, OTHER_SEATS, now=booked_at, contact_email=OTHER_EMAIL,
                                  organisation_name="开州区文峰街道党工委")
        joined_at = (booked_at or utcnow() - timedelta(hours=2)) + timedelta(minutes=10)
        queued = _join(slot, QUEUED_SEATS, "开州中学", QUEUED_EMAIL, joined_at)
        held = None
        if not past:
            held = _join(slot, HELD_SEATS, "开州实验小学", HELD_EMAIL,
                         joined_at + timedelta(minutes=10))
            # The other group gives 4 seats back: too few for the queue's head (8), so the
            # second entry gets them on offer, holding them in the counters.
            booking_cases.change_party_size(db.session, other, OTHER_LOWERED_TO)
            db.session.commit()
            db.session.refresh(held)
            db.session.refresh(queued)
            assert (held.state, held.seats_held) == (WaitlistState.OFFERED, HELD_SEATS)
            assert queued.state is WaitlistState.WAITING
        assert db.session.get(Slot, slot.id).taken == CAPACITY, "the scene's slot must be full"
        staff = create_user("desk", Role.STAFF)
        mail_before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        return Scene(slot, room, course_session, group, token, other, queued, held, staff,
                     mail_before)
    return build


def new_mail(scene: Scene) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.id > scene.mail_before).order_by(OutboxMessage.id)))


def described(messages) -> list[tuple[str, str]]:
    return sorted((m.kind, m.recipient) for m in messages)


def assert_no_drift(runner) -> None:
    result = runner.invoke(args=["check-integrity"])
    assert result.exit_code == 0, f"counters drifted:\n{result.output}"
    assert "All capacity counters agree" in result.output, result.output


# --- the faces --------------------------------------------------------------------------------

def cancel_on_the_manage_page(client, login, scene):
    page = open_manage_link(client, scene.group.reference, scene.token)
    response = client.post(f"{page}/cancel",
                           data={"confirm": "yes", "reason": "行程调整"})
    assert response.status_code == 303, response.get_data(as_text=True)


def cancel_by_api(client, login, scene):
    response = client.delete(f"/api/v1/bookings/{scene.group.reference}",
                             headers={"Authorization": f"Bearer {scene.token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "cancelled"


def lower_party_size_on_the_manage_page(client, login, scene):
    page = open_manage_link(client, scene.group.reference, scene.token)
    response = client.post(f"{page}/party-size",
                           data={"party_size": GROUP_SEATS - QUEUED_SEATS})
    assert response.status_code == 303, response.get_data(as_text=True)


def decline_on_the_staff_page(client, login, scene):
    login(scene.staff)
    response = client.post(f"/staff/bookings/{scene.group.reference}/decline",
                           data={"reason": "当天报告厅检修"})
    assert response.status_code == 302, response.get_data(as_text=True)


def decline_by_staff_api(client, login, scene):
    login(scene.staff)
    response = client.post(f"/api/v1/staff/bookings/{scene.group.reference}/decline",
                           json={"reason": "当天报告厅检修"})
    assert response.status_code == 200, response.get_data(as_text=True)


def staff_cancel_at_the_front_desk(client, login, scene):
    login(scene.staff)
    response = client.post(f"/staff/bookings/{scene.group.reference}/cancel",
                           data={"reason": "单位来电取消"})
    assert response.status_code == 302, response.get_data(as_text=True)


def staff_lower_party_size_at_the_front_desk(client, login, scene):
    login(scene.staff)
    group = scene.group
    response = client.post(f"/staff/bookings/{group.reference}/edit", data={
        "contact_name": group.contact_name, "contact_phone": group.contact_phone,
        "contact_email": group.contact_email, "party_size": GROUP_SEATS - QUEUED_SEATS})
    assert response.status_code == 302, response.get_data(as_text=True)


def raise_session_capacity(client, login, scene):
    login(scene.staff)
    response = client.post(f"/staff/courses/sessions/{scene.course_session.id}/edit",
                           data={"room": scene.room.id, "lecturer": 0,
                                 "capacity": CAPACITY + 10})
    assert response.status_code == 302, response.get_data(as_text=True)


def cancel_the_session(client, login, scene):
    login(scene.staff)
    response = client.post(f"/staff/courses/sessions/{scene.course_session.id}/cancel",
                           data={"reason": "场馆临时活动"})
    assert response.status_code == 302, response.get_data(as_text=True)


def close_the_day(client, login, scene):
    login(scene.staff)
    response = client.post("/staff/courses/closures", data={
        "venue": scene.slot.venue_id, "day": scene.slot.day.isoformat(), "kind": "close",
        "reason": "设备维修", "action": "confirm"})
    assert response.status_code == 302, response.get_data(as_text=True)


def mark_no_show_on_the_roster(client, login, scene):
    login(scene.staff)
    response = client.post(f"/staff/roster/bookings/{scene.group.reference}/no-show")
    assert response.status_code == 302, response.get_data(as_text=True)


# --- paths where the slot stays open: the freed seats go to the queue -------------------------

@dataclass
class Offering:
    act: object
    requires_approval: bool
    group_state: BookingState
    group_seats: int        # what the acted-on booking holds afterwards
    organisation_mail: str | None  # the kind the organisation is sent, if any
    capacity: int = CAPACITY


OFFERING_PATHS = {
    "organisation cancels on the page": Offering(
        cancel_on_the_manage_page, False, BookingState.CANCELLED, 0, "cancelled"),
    "organisation cancels by API": Offering(
        cancel_by_api, False, BookingState.CANCELLED, 0, "cancelled"),
    # Lowering the party size sends the organisation no mail: the use case queues none (the
    # manage page shows the change at once). Asserted as the code has it.
    "party size lowered": Offering(
        lower_party_size_on_the_manage_page, False, BookingState.CONFIRMED,
        GROUP_SEATS - QUEUED_SEATS, None),
    "staff decline on the page": Offering(
        decline_on_the_staff_page, True, BookingState.DECLINED, 0, "declined"),
    "staff decline by API": Offering(
        decline_by_staff_api, True, BookingState.DECLINED, 0, "declined"),
    "staff cancel at the front desk": Offering(
        staff_cancel_at_the_front_desk, False, BookingState.CANCELLED, 0,
        "cancelled_by_museum"),
    "staff lower the party size at the front desk": Offering(
        staff_lower_party_size_at_the_front_desk, False, BookingState.CONFIRMED,
        GROUP_SEATS - QUEUED_SEATS, "changed"),
    # No organisation acted: nobody but the queue is told.
    "session capacity raised": Offering(
        raise_session_capacity, False, BookingState.CONFIRMED, GROUP_SEATS, None,
        capacity=CAPACITY + 10),
}


@pytest.mark.parametrize("path", list(OFFERING_PATHS))
def test_a_path_that_frees_seats_offers_them_to_the_queue_and_mails(path, build_scene, client,
                                                                    login, runner):
    expected = OFFERING_PATHS[path]
    scene = build_scene(requires_approval=expected.requires_approval)
    if expected.requires_approval:
        assert scene.group.state is BookingState.PENDING

    expected.act(client, login, scene)

    db.session.expire_all()
    group, queued, held = scene.group, scene.queued, scene.held
    slot = db.session.get(Slot, scene.slot.id)
    assert (group.state, group.seats) == (expected.group_state, expected.group_seats)
    # The queue's head now holds its seats on offer; the earlier offer is untouched.
    assert (queued.state, queued.seats_held) == (WaitlistState.OFFERED, QUEUED_SEATS), \
        f"{path}: queue head is {queued.state.value} holding {queued.seats_held}"
    assert queued.offer_expires_at is not None and queued.offer_token_hash
    assert (held.state, held.seats_held) == (WaitlistState.OFFERED, HELD_SEATS)
    booked = expected.group_seats + OTHER_LOWERED_TO
    assert (slot.capacity, slot.taken) == (expected.capacity, booked + QUEUED_SEATS + HELD_SEATS)

    mail = new_mail(scene)
    offers = [m for m in mail if m.kind == "waitlist_offer"]
    assert [m.recipient for m in offers] == [QUEUED_EMAIL], \
        f"{path}: {len(offers)} offer mails: {described(mail)}"
    assert f"保留 {QUEUED_SEATS} 个座位" in offers[0].body_text
    to_group = [m.kind for m in mail if m.recipient == GROUP_EMAIL]
    assert to_group == ([expected.organisation_mail] if expected.organisation_mail else []), \
        f"{path}: the organisation was sent {to_group}"
    # Nothing else went out (no second offer, no mail to the other groups).
    assert len(mail) == len(offers) + len(to_group), described(mail)

    assert_no_drift(runner)


# --- paths that remove the slot: nothing left to offer ----------------------------------------

SLOT_GONE_PATHS = {"session cancelled": cancel_the_session, "day closed": close_the_day}


@pytest.mark.parametrize("path", list(SLOT_GONE_PATHS))
def test_a_path_that_removes_the_slot_ends_its_queue_and_tells_the_groups(path, build_scene,
                                                                        client, login, runner):
    scene = build_scene()

    SLOT_GONE_PATHS[path](client, login, scene)

    db.session.expire_all()
    slot = db.session.get(Slot, scene.slot.id)
    assert slot.state is SlotState.CANCELLED
    for booking in (scene.group, scene.other):
        assert (booking.state, booking.seats, booking.cancelled_by_museum) == (
            BookingState.CANCELLED, 0, True), f"{path}: {booking.reference}"
    # The seats are released: the bookings' and the open offer's held seats alike.
    day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id, day=slot.day))
    assert (slot.taken, day.taken) == (0, 0), f"{path}: slot {slot.taken}, day {day.taken}"
    # The slot is gone, so its freed seats cannot be offered to anyone: the waiting list ends
    # with it (WITHDRAWN, holding nothing) instead -- the waiting group is not offered, and the
    # group that held an offer loses it.
    for entry in (scene.queued, scene.held):
        assert (entry.state, entry.seats_held) == (WaitlistState.WITHDRAWN, 0), \
            f"{path}: entry {entry.id} is {entry.state.value} holding {entry.seats_held}"

    mail = new_mail(scene)
    cancelled = sorted(m.recipient for m in mail if m.kind == "cancelled_by_museum")
    assert cancelled == [GROUP_EMAIL, OTHER_EMAIL], f"{path}: {described(mail)}"
    assert not [m for m in mail if m.kind == "waitlist_offer"], described(mail)
    # The waiting groups hear too: their queue ended with the session.
    told = sorted(m.recipient for m in mail if m.kind == "waitlist_closed")
    assert told == sorted([QUEUED_EMAIL, HELD_EMAIL]), f"{path}: {described(mail)}"

    assert_no_drift(runner)


# --- a no-show: the session is over --------------------------------------------------------------

def test_a_no_show_is_recorded_and_offers_nothing(build_scene, client, login, runner):
    scene = build_scene(past=True)
    taken = scene.slot.taken

    mark_no_show_on_the_roster(client, login, scene)

    db.session.expire_all()
    group, queued = scene.group, scene.queued
    assert group.state is BookingState.NO_SHOW
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "booking.no_show")) is not None
    # The session has ended, so there is nobody to offer seats to: a no-show keeps its seats
    # in the (past) counters and the waiting list is left as it was -- no offer, no mail.
    assert db.session.get(Slot, scene.slot.id).taken == taken == CAPACITY
    assert (queued.state, queued.seats_held) == (WaitlistState.WAITING, 0)
    mail = new_mail(scene)
    assert mail == [], f"a no-show queued {described(mail)}"

    assert_no_drift(runner)
