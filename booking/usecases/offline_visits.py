"""What staff do with visits that were not booked online: record one, delete one, import a
file of them. Each is audited by its rule; none sends mail."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from booking.models import OfflineVisit, StaffUser
from booking.rules import offline_import, offline_visits
from booking.usecases.transaction import use_case


@use_case
def record_offline_visit(session: Session, user: StaffUser, visit: offline_visits.VisitInput,
                         today: date) -> OfflineVisit:
    return offline_visits.record_visit(session, user, visit, today)


@use_case
def delete_offline_visit(session: Session, user: StaffUser, visit_id: int) -> None:
    offline_visits.delete_visit(session, user, visit_id)


@use_case
def import_offline_visits(session: Session, user: StaffUser, filename: str, data: bytes,
                          today: date) -> offline_import.ImportResult:
    """All rows or none: a refusal names every bad row and records nothing."""
    return offline_import.import_visits(session, user, filename, data, today)
