"""What staff change on an organisation's page: its suspension, its own booking limits and
their notes about it. Every change is in the audit log and shown in the page's history.
(Lifting a suspension lives beside the no-show rule that sets it, in
:mod:`booking.rules.checkin`.)"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.clock import local_today, utcnow
from booking.errors import BookingError
from booking.models import AuditEntry, Organisation, StaffUser
from booking.rules.audit import record_change

MAX_LIMIT = 10_000
MAX_SUSPENSION_DAYS = 3 * 366


def _suspension(organisation: Organisation) -> dict:
    return {"suspended_until": organisation.suspended_until,
            "suspension_reason": organisation.suspension_reason}


def extend_suspension(session: Session, organisation: Organisation, until: date, reason: str,
                      user: StaffUser | None, now: datetime | None = None) -> None:
    """Suspend (or keep suspended) until ``until`` inclusive, with a reason.

    Extends a running suspension or starts one; ``until`` must lie in the future, within
    three years, and a running suspension is never shortened this way (lift it instead).
    """
    today = local_today(now or utcnow())
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("suspension_reason", _l("请填写暂停原因。"), status=422,
                           field="reason")
    if until <= today:
        raise BookingError("suspension_until", _l("暂停截止日期必须晚于今天。"), status=422,
                           field="until")
    if (until - today).days > MAX_SUSPENSION_DAYS:
        raise BookingError("suspension_until", _l("暂停期限不能超过三年。"), status=422,
                           field="until")
    if organisation.is_suspended_on(today) and until < organisation.suspended_until:
        raise BookingError("suspension_shorter", _l(
            "新的截止日期早于当前的 %(day)s；如要提前恢复预约，请使用“解除暂停”。",
            day=organisation.suspended_until.isoformat()), status=422, field="until")
    before = _suspension(organisation)
    organisation.suspended_until, organisation.suspension_reason = until, reason[:300]
    action = "organisation.extend_suspension" if before["suspended_until"] else \
        "organisation.suspend"
    record_change(session, user, action, organisation, before, _suspension(organisation))
    session.flush()


def _limit(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_LIMIT:
        raise BookingError("organisation_limit", _l("限额应为 0 至 %(max)s 之间的整数，留空则使用场馆默认值。",
                                                    max=MAX_LIMIT), status=422, field=field)
    return value


def set_limits(session: Session, organisation: Organisation, upcoming: int | None,
               seats_per_day: int | None, user: StaffUser | None) -> None:
    """The organisation's own limits (None: the venue's; 0: no limit), see
    :mod:`booking.rules.booking_limits`."""
    before = {"limit_upcoming": organisation.limit_upcoming,
              "limit_seats_per_day": organisation.limit_seats_per_day}
    organisation.limit_upcoming = _limit(upcoming, "limit_upcoming")
    organisation.limit_seats_per_day = _limit(seats_per_day, "limit_seats_per_day")
    after = {"limit_upcoming": organisation.limit_upcoming,
             "limit_seats_per_day": organisation.limit_seats_per_day}
    if after != before:
        record_change(session, user, "organisation.limits", organisation, before, after)
    session.flush()


def set_notes(session: Session, organisation: Organisation, notes: str,
              user: StaffUser | None) -> None:
    """Staff notes about the organisation (seen by staff only)."""
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise BookingError("organisation_notes", _l("备注不能超过 %(max)s 个字符。", max=2000),
                           status=422, field="notes")
    before = organisation.staff_notes or ""
    if notes == before:
        return
    organisation.staff_notes = notes
    record_change(session, user, "organisation.notes", organisation, {"staff_notes": before},
                  {"staff_notes": notes})
    session.flush()


def organisation_audit_trail(session: Session, organisation: Organisation) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.user))
        .where(AuditEntry.object_type == "Organisation",
               AuditEntry.object_id == str(organisation.id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())))
