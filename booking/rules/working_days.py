"""Staff corrections to the national working-day calendar (extra holidays, make-up workdays),
on top of the ``holidays`` package: when the State Council announces next year's schedule
before the package has it, staff enter it here. The lead-time rule and the calendar both
read them through :func:`corrections_from`. Every change is audited."""
from __future__ import annotations

import functools
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, case, cast, func, select
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import CalendarCorrection, StaffUser
from booking.rules.audit import record_change

#: How far ahead corrections are loaded for a booking window (the lead time is a few
#: working days; a long holiday can push it a couple of weeks).
LOOKAHEAD = timedelta(days=60)


def corrections_from(session: Session, today: date) -> dict[date, bool]:
    """Day -> is a working day, for the corrections from ``today`` on."""
    return dict(session.execute(
        select(CalendarCorrection.day, CalendarCorrection.working_day)
        .where(CalendarCorrection.day >= today, CalendarCorrection.day <= today + LOOKAHEAD)
    ).all())


@functools.cache
def corrections_column():
    """A scalar subquery for a larger query (the booking path reads its slot and these in one
    statement): the corrections in a window given by the bound parameters that
    :func:`corrections_window` returns, as text; :func:`corrections_in` reads it. Built once
    (a statement built once keeps its SQL compiled and its cache key)."""
    return select(func.aggregate_strings(
        cast(CalendarCorrection.day, String) + case((CalendarCorrection.working_day, "1"),
                                                     else_="0"), ",")).where(
        CalendarCorrection.day >= bindparam("corrections_from"),
        CalendarCorrection.day <= bindparam("corrections_to")).scalar_subquery()


def corrections_window(utc_day: date) -> dict[str, date]:
    """The parameters of :func:`corrections_column` around ``utc_day``: wide enough for any
    venue's local today (a day either side)."""
    return {"corrections_from": utc_day - timedelta(days=1),
            "corrections_to": utc_day + timedelta(days=1) + LOOKAHEAD}


def corrections_in(text: str | None, today: date) -> dict[date, bool]:
    """What :func:`corrections_from` returns for ``today``, from :func:`corrections_column`."""
    found = {date.fromisoformat(item[:10]): item[-1] == "1" for item in (text or "").split(",")
             if item}
    return {day: working for day, working in found.items() if today <= day <= today + LOOKAHEAD}


def upcoming(session: Session, today: date) -> list[CalendarCorrection]:
    return list(session.scalars(select(CalendarCorrection)
                                .where(CalendarCorrection.day >= today - timedelta(days=30))
                                .order_by(CalendarCorrection.day)))


def _state(correction: CalendarCorrection | None) -> dict | None:
    if correction is None:
        return None
    return {"day": correction.day, "working_day": correction.working_day,
            "name": correction.name}


def set_correction(session: Session, day: date, working_day: bool, name: str,
                   user: StaffUser | None) -> CalendarCorrection:
    """Make ``day`` a working day (调休 make-up day) or not (an extra holiday)."""
    name = " ".join((name or "").split())
    if len(name) > 100:
        raise BookingError("name_too_long", _l("说明不能超过 100 个字符。"), status=422,
                           field="name")
    correction = session.scalar(select(CalendarCorrection).filter_by(day=day))
    before = _state(correction)
    if correction is None:
        correction = CalendarCorrection(day=day, working_day=working_day, name=name)
        session.add(correction)
    correction.working_day, correction.name = working_day, name
    session.flush()
    record_change(session, user, "calendar.correct", correction, before, _state(correction))
    return correction


def remove_correction(session: Session, correction: CalendarCorrection,
                      user: StaffUser | None) -> None:
    """Go back to the ``holidays`` package's word for that day."""
    record_change(session, user, "calendar.uncorrect", correction, _state(correction), None)
    session.delete(correction)
    session.flush()
