"""Certificates after the retention period: the full name gives way to the masked one.

The public verification page shows only the masked name, so a certificate stays verifiable
after the attendees' names are purged from the bookings (booking/rules/retention.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from booking.rules.identifiers import mask_name
from booking.rules.retention import blank_audit_snapshots
from courses.models import Certificate


def mask_old_certificate_names(session: Session, ended_before: datetime) -> int:
    """Mask the names on certificates of sessions that started before ``ended_before``."""
    changed = 0
    for certificate in session.scalars(select(Certificate).where(
            Certificate.session_starts_at < ended_before)):
        masked = mask_name(certificate.name)
        if masked != certificate.name:
            certificate.name = masked
            changed += 1
    session.flush()
    return changed


def blank_old_certificate_audit(session: Session, ended_before: datetime) -> int:
    """Blank the snapshots (names) of audit entries on those certificates."""
    return blank_audit_snapshots(session, {"Certificate": select(
        cast(Certificate.id, String)).where(Certificate.session_starts_at < ended_before)})
