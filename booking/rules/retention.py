"""How long personal data is kept (PIPL: no longer than the purpose needs), and the purge.

A visit's contact (name, phone, e-mail, introduction letter), its notes and its attendees'
names are needed to run
and follow up the visit; after the periods below, counted from the end of the session, they
are blanked. What the museum reports upward stays: bookings, organisations, party sizes,
arrival counts and states, so the statistics give the same figures before and after. Sent
mail is deleted from the outbox after its own period. The audit log keeps who did what to
such a booking and when, but its before/after snapshots (which copy contacts, notes and
attendee names) are blanked with the contacts. The periods are configured in
``RETENTION_DAYS`` and shown on the privacy page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from booking.models import Attendee, AuditEntry, Booking, OutboxMessage, Slot, WaitlistEntry

DEFAULT_DAYS = {"contacts": 365, "attendees": 365, "notes": 365, "mail": 90}


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of personal data is kept after the visit (mail: after sending)."""

    contacts: int = 365
    attendees: int = 365
    notes: int = 365
    mail: int = 90

    @classmethod
    def from_config(cls, config) -> RetentionPolicy:
        days = {**DEFAULT_DAYS, **(config.get("RETENTION_DAYS") or {})}
        return cls(**{kind: int(days[kind]) for kind in DEFAULT_DAYS})


@dataclass
class PurgeResult:
    contacts: int = 0
    attendees: int = 0
    notes: int = 0
    waitlist: int = 0
    mails: int = 0
    certificates: int = 0
    feedback: int = 0
    letters: int = 0
    audit: int = 0


def _ended_before(cutoff: datetime):
    return select(Slot.id).where(Slot.ends_at < cutoff).scalar_subquery()


def purge_personal_data(session: Session, policy: RetentionPolicy, now: datetime) -> PurgeResult:
    """Blank the personal data older than ``policy``; returns how many rows changed."""
    result = PurgeResult()
    contacts_cutoff = now - timedelta(days=policy.contacts)
    result.contacts = session.execute(
        update(Booking).where(Booking.slot_id.in_(_ended_before(contacts_cutoff)),
                              or_(Booking.contact_phone != "", Booking.contact_email != "",
                                  Booking.contact_name != ""))
        .values(contact_name="", contact_phone="", contact_email="")
        .execution_options(synchronize_session=False)).rowcount or 0
    result.waitlist = session.execute(
        update(WaitlistEntry).where(WaitlistEntry.slot_id.in_(_ended_before(contacts_cutoff)),
                                    or_(WaitlistEntry.contact_phone != "",
                                        WaitlistEntry.contact_email != "",
                                        WaitlistEntry.contact_name != ""))
        .values(contact_name="", contact_phone="", contact_email="")
        .execution_options(synchronize_session=False)).rowcount or 0
    result.notes = session.execute(
        update(Booking).where(Booking.slot_id.in_(_ended_before(now - timedelta(
            days=policy.notes))), Booking.notes != "")
        .values(notes="").execution_options(synchronize_session=False)).rowcount or 0
    old_bookings = select(Booking.id).where(Booking.slot_id.in_(_ended_before(
        now - timedelta(days=policy.attendees)))).scalar_subquery()
    result.attendees = session.execute(
        update(Attendee).where(Attendee.booking_id.in_(old_bookings), Attendee.name != "")
        .values(name="").execution_options(synchronize_session=False)).rowcount or 0
    result.mails = session.execute(
        delete(OutboxMessage).where(OutboxMessage.sent_at.is_not(None),
                                    OutboxMessage.sent_at < now - timedelta(days=policy.mail))
        .execution_options(synchronize_session=False)).rowcount or 0
    result.audit = blank_audit_snapshots(session, {
        "Booking": select(cast(Booking.id, String)).where(
            Booking.slot_id.in_(_ended_before(contacts_cutoff))),
        "WaitlistEntry": select(cast(WaitlistEntry.id, String)).where(
            WaitlistEntry.slot_id.in_(_ended_before(contacts_cutoff)))})
    session.flush()
    return result


def blank_audit_snapshots(session: Session, ids_by_type: dict) -> int:
    """Blank the before/after snapshots of the audit entries on these objects (a select of
    their ids as strings, per ``object_type``); who, what and when stay."""
    changed = 0
    for object_type, ids in ids_by_type.items():
        changed += session.execute(
            update(AuditEntry).where(AuditEntry.object_type == object_type,
                                     AuditEntry.object_id.in_(ids.scalar_subquery()),
                                     or_(AuditEntry.before != "", AuditEntry.after != ""))
            .values(before="", after="").execution_options(synchronize_session=False)
        ).rowcount or 0
    return changed
