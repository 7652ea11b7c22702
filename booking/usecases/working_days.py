"""Staff correct the working-day calendar (extra holidays, make-up workdays); audited by the
rule. See :mod:`booking.rules.working_days`."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from booking.models import CalendarCorrection, StaffUser
from booking.rules import working_days
from booking.usecases.transaction import use_case


@use_case
def correct_day(session: Session, day: date, working_day: bool, name: str,
                user: StaffUser) -> CalendarCorrection:
    return working_days.set_correction(session, day, working_day, name, user)


@use_case
def remove_correction(session: Session, correction: CalendarCorrection,
                      user: StaffUser) -> None:
    working_days.remove_correction(session, correction, user)
