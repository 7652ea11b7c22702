"""Use cases of the course scheduler: one function per change staff make, owning the whole
of it (the rule, the calendar SEQUENCE bump of bookings whose event changed, the seats
offered to the waiting list, the "certificates ready" mail). See :mod:`booking.usecases`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.models import Room, Slot, SlotState, StaffUser
from booking.rules import feedback, retention
from booking.rules import letters as booking_letters
from booking.rules.workflow import touch_slot_bookings
from booking.usecases import letters as letter_files
from booking.usecases import notifications
from booking.usecases.transaction import use_case
from booking.usecases.waitlist import seats_freed_hook
from courses.models import Certificate, Course, CourseSession, Lecturer, LecturerAbsence
from courses.rules import catalogue, issuing, lecturers, scheduling
from courses.rules.retention import blank_old_certificate_audit, mask_old_certificate_names

#: Course facts a booking's calendar event shows; changing one bumps its SEQUENCE.
EVENT_FACTS = ("title", "title_en", "kind", "modules", "equipment")


def change_session_facts(session: Session, slots: Iterable[Slot], now: datetime) -> None:
    """What a session's bookings see in their calendars changed (title, modules, lecturer,
    room): bump their SEQUENCE so calendar clients replace the event they hold."""
    for slot in slots:
        touch_slot_bookings(session, slot, now)


# --- catalogue --------------------------------------------------------------------------------

@use_case
def create_course(session: Session, data: catalogue.CourseData, user: StaffUser) -> Course:
    return catalogue.create_course(session, data, user)


@use_case
def update_course(session: Session, course: Course, data: catalogue.CourseData,
                  user: StaffUser) -> int:
    """Save the edit; future sessions take the new facts. Returns how many were refreshed."""
    now = utcnow()
    before = catalogue.course_state(course)
    refreshed = catalogue.update_course(session, course, data, user, now)
    after = catalogue.course_state(course)
    if any(before[fact] != after[fact] for fact in EVENT_FACTS):
        change_session_facts(session, _future_slots(session, course, now), now)
    return refreshed


def _future_slots(session: Session, course: Course, now: datetime) -> list[Slot]:
    return list(session.scalars(
        select(Slot).join(CourseSession, CourseSession.slot_id == Slot.id)
        .where(CourseSession.course_id == course.id, Slot.starts_at > now,
               Slot.state != SlotState.CANCELLED)))


@use_case
def set_course_active(session: Session, course: Course, active: bool, user: StaffUser) -> None:
    catalogue.set_course_active(session, course, active, user)


# --- lecturers --------------------------------------------------------------------------------

@use_case
def create_lecturer(session: Session, data: lecturers.LecturerData, user: StaffUser) -> Lecturer:
    return lecturers.create_lecturer(session, data, user)


@use_case
def update_lecturer(session: Session, lecturer: Lecturer, data: lecturers.LecturerData,
                    user: StaffUser) -> int:
    """Save the edit; a new name reaches the future sessions and their bookings' calendars.
    Returns how many future sessions were refreshed."""
    now = utcnow()
    name_before = lecturer.name
    refreshed = lecturers.update_lecturer(session, lecturer, data, user, now)
    if lecturer.name != name_before:
        change_session_facts(session, [cs.slot for cs in
                                       lecturers.future_sessions(session, lecturer, now)], now)
    return refreshed


@use_case
def add_absence(session: Session, lecturer: Lecturer, day: date, note: str,
                user: StaffUser) -> LecturerAbsence:
    return lecturers.add_absence(session, lecturer, day, note, user)


@use_case
def remove_absence(session: Session, absence: LecturerAbsence, user: StaffUser) -> None:
    lecturers.remove_absence(session, absence, user)


@use_case
def reset_feed_token(session: Session, lecturer: Lecturer, user: StaffUser) -> str:
    return lecturers.reset_feed_token(session, lecturer, user)


# --- sessions ---------------------------------------------------------------------------------

@use_case
def schedule_single(session: Session, course: Course, day, start, **options) -> CourseSession:
    return scheduling.schedule_single(session, course, day, start, **options)


@use_case
def generate_pattern(session: Session, course: Course, **pattern) -> scheduling.GenerationResult:
    return scheduling.generate_pattern(session, course, **pattern)


@use_case
def change_session(session: Session, course_session: CourseSession, *,
                   lecturer: Lecturer | None, room: Room | None, capacity: int | None,
                   user: StaffUser) -> bool:
    """Change a session's lecturer, room or capacity: its bookings' calendars are updated
    (SEQUENCE), and seats a capacity increase adds go to the waiting list. Returns whether
    seats were added."""
    return scheduling.change_session(session, course_session, lecturer=lecturer, room=room,
                                     capacity=capacity, user=user,
                                     on_seats_freed=seats_freed_hook())


# --- certificates -----------------------------------------------------------------------------

@use_case
def complete_and_issue(session: Session, course_session: CourseSession, user: StaffUser):
    """Complete the ended session and issue its certificates; each group is told once."""
    groups, issued = issuing.complete_and_issue(session, course_session, user)
    notifications.queue_certificates_ready(session, [c.attendee.booking for c in issued])
    return groups, issued


@use_case
def issue_for_booking(session: Session, course_session: CourseSession, booking,
                      user: StaffUser) -> list[Certificate]:
    issued = issuing.issue_certificates(session, course_session, user, booking=booking)
    notifications.queue_certificates_ready(session, [c.attendee.booking for c in issued])
    return issued


@use_case
def revoke_certificate(session: Session, cert: Certificate, reason: str, user: StaffUser) -> None:
    issuing.revoke_certificate(session, cert, reason, user)


@use_case
def reissue_certificate(session: Session, cert: Certificate, user: StaffUser,
                        name: str | None) -> Certificate:
    return issuing.reissue_certificate(session, cert, user, name)


@use_case
def purge_personal_data(session: Session, policy: retention.RetentionPolicy,
                        now: datetime | None = None) -> retention.PurgeResult:
    """The retention job: blank personal data past its period (contacts, notes, attendee
    names, feedback comments, sent mail, audit snapshots of those visits) and mask the names
    on those visits' certificates, which stay verifiable.
    Statistics are unchanged: they count bookings and people, not names."""
    now = now or utcnow()
    result = retention.purge_personal_data(session, policy, now)
    result.certificates = mask_old_certificate_names(
        session, now - timedelta(days=policy.attendees))
    result.audit += blank_old_certificate_audit(session, now - timedelta(days=policy.attendees))
    # Feedback comments are free text a contact typed: kept as long as booking notes.
    result.feedback = feedback.purge_feedback_personal_data(
        session, now - timedelta(days=policy.notes), now)
    # Introduction letters name the contact: kept as long as the contact; their files go
    # only once this purge has committed.
    purged = booking_letters.purge_old_letters(session, now - timedelta(days=policy.contacts))
    letter_files.discard_after_commit(session, purged)
    result.letters = len(purged)
    return result
