"""Whether an organisation may book at all: not suspended (under any of its names or phones),
and within its venue's limit of open bookings.

A suspension follows the organisation, not the row: the same organisation leaving out its
credit code, spelling its name with other spaces or brackets, or booking through the same
contact phone is caught too. The limit (``Venue.max_open_bookings_per_organisation``, None
for none) counts the organisation's pending and confirmed bookings for days to come.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import CHANGEABLE_STATES, Booking, Organisation, Slot, Venue
from booking.rules.identifiers import normalise_phone

_NOISE = re.compile(r"[\s\-_·•.,，。、()（）\[\]【】“”\"'《》<>]+")


def normalise_name(name: str) -> str:
    """An organisation's name as a key: full-width folded, case-folded, without spaces,
    brackets and punctuation (中共开州区委 党校 == 中共开州区委（党校）)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", name or "").casefold())


def _suspended_error(until: date) -> BookingError:
    return BookingError("organisation_suspended",
                        _l("贵单位因多次预约未到，预约资格暂停至 %(until)s。",
                           until=until.isoformat()), status=403)


def check_not_suspended(session: Session, organisation: Organisation, phone: str,
                        today: date, suspended: list[Organisation] | None = None) -> None:
    """Refuse a suspended organisation, found by its row, its normalised name or a phone
    one of its bookings gave. ``suspended``: the organisations suspended on ``today``, when
    the caller has read them already (they are read here otherwise)."""
    if organisation.is_suspended_on(today):
        raise _suspended_error(organisation.suspended_until)
    if suspended is None:
        suspended = session.scalars(select(Organisation).where(
            Organisation.suspended_until >= today, Organisation.id != organisation.id)).all()
    else:
        suspended = [o for o in suspended if o.id != organisation.id]
    key = normalise_name(organisation.name)
    for other in suspended:
        if normalise_name(other.name) == key:
            raise _suspended_error(other.suspended_until)
    phone = normalise_phone(phone)
    if suspended and phone:
        until = session.scalar(
            select(func.max(Organisation.suspended_until))
            .join(Booking, Booking.organisation_id == Organisation.id)
            .where(Organisation.id.in_([o.id for o in suspended]),
                   Booking.contact_phone == phone))
        if until is not None:
            raise _suspended_error(until)


def check_within_limit(session: Session, organisation: Organisation, venue: Venue,
                       today: date) -> None:
    """Refuse a booking beyond the venue's limit of open bookings per organisation."""
    limit = venue.max_open_bookings_per_organisation
    if limit is None or organisation.id is None:
        return
    open_bookings = session.scalar(
        select(func.count(Booking.id)).join(Slot, Booking.slot_id == Slot.id)
        .where(Booking.organisation_id == organisation.id, Slot.venue_id == venue.id,
               Booking.state.in_(CHANGEABLE_STATES), Slot.day >= today)) or 0
    if open_bookings >= limit:
        raise BookingError("organisation_limit", _l(
            "每个单位在本馆最多同时保留 %(n)s 个未到期的预约；请先完成或取消已有预约。", n=limit),
            status=422)
