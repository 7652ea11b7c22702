"""Visits recorded by staff without an online booking: checking one, recording, deleting.

A record names its venue, day, organisation (name and kind), programme (its title; the code and
kind are taken from the slots that carry that title, so the statistics put it on the same row
as the online bookings of that programme), people and the 学时 per person. Every change is
audited. The XLSX import (:mod:`booking.rules.offline_import`) checks each row with
:func:`check_visit` and records them all or none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.errors import BookingError, NotFound
from booking.models import OfflineVisit, OrganisationKind, Slot, StaffUser, Venue
from booking.rules.audit import record_change
from booking.rules.vocabulary import PROGRAMME_KIND_NAMES

MAX_PEOPLE = 5000        # one record is one group's visit; a whole year goes in many rows
MAX_HOURS = Decimal("24")
EARLIEST_DAY = date(1990, 1, 1)


@dataclass
class VisitInput:
    """One visit as staff typed it (form) or wrote it (spreadsheet row), not yet checked."""

    venue: Venue | None
    day: date | None
    organisation_name: str
    organisation_kind: OrganisationKind | None
    title: str
    people: int | None
    training_hours: Decimal | None = None
    kind: str | None = None        # programme kind value; None = taken from the programme
    lecturer_name: str = ""
    note: str = ""


@dataclass(frozen=True)
class ProgrammeFacts:
    code: str | None
    title_en: str
    kind: str | None


def programme_catalogue(session: Session) -> dict[str, ProgrammeFacts]:
    """Programme titles staff may type, from the slots that carry them: title -> facts."""
    rows = session.execute(select(Slot.title, Slot.programme, Slot.title_en, Slot.kind)
                           .where(Slot.programme.is_not(None))
                           .group_by(Slot.title, Slot.programme, Slot.title_en, Slot.kind))
    return {title: ProgrammeFacts(code, title_en or "", kind) for title, code, title_en, kind
            in rows}


def check_visit(visit: VisitInput, today: date) -> list:
    """Everything wrong with ``visit``, as messages for staff (empty when it may be saved)."""
    problems = []
    if visit.venue is None:
        problems.append(_l("请选择场馆（填写场馆名称或代码）。"))
    if visit.day is None:
        problems.append(_l("日期无效，请写成 2025-03-01。"))
    elif not EARLIEST_DAY <= visit.day <= today:
        problems.append(_l("日期必须在 1990-01-01 至今天之间（线下记录只记已经来过的团体）。"))
    name = " ".join(visit.organisation_name.split())
    if not name:
        problems.append(_l("请填写单位名称。"))
    elif len(name) > 120:
        problems.append(_l("单位名称最多 120 个字。"))
    if visit.organisation_kind is None:
        problems.append(_l("单位类型无效（党组织、学校、企业、事业单位、机关、社区、其他）。"))
    if not visit.title.strip():
        problems.append(_l("请填写项目名称。"))
    elif len(visit.title.strip()) > 200:
        problems.append(_l("项目名称最多 200 个字。"))
    if visit.kind is not None and visit.kind not in PROGRAMME_KIND_NAMES:
        problems.append(_l("项目类型无效（专题党课、红色主题党日、青少年研学、展览参观）。"))
    if visit.people is None or not 1 <= visit.people <= MAX_PEOPLE:
        problems.append(_l("人数必须是 1 到 %(max)s 之间的整数。", max=MAX_PEOPLE))
    if visit.training_hours is not None and not Decimal(0) <= visit.training_hours <= MAX_HOURS:
        problems.append(_l("学时必须在 0 到 24 之间。"))
    if len(visit.lecturer_name) > 100 or len(visit.note) > 300:
        problems.append(_l("讲解员最多 100 个字，备注最多 300 个字。"))
    return problems


def parse_hours(text: str) -> Decimal | None:
    """学时 as typed: "", "1.5" -> Decimal; raises ValueError on anything else."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value.quantize(Decimal("0.1"))


def build_visit(visit: VisitInput, catalogue: dict[str, ProgrammeFacts], user: StaffUser | None,
                batch: str | None = None) -> OfflineVisit:
    """The record for a checked ``visit`` (not yet added to the session)."""
    title = visit.title.strip()
    facts = catalogue.get(title, ProgrammeFacts(None, "", None))
    return OfflineVisit(
        venue_id=visit.venue.id, day=visit.day,
        organisation_name=" ".join(visit.organisation_name.split()),
        organisation_kind=visit.organisation_kind, programme=facts.code, title=title,
        title_en=facts.title_en, kind=visit.kind or facts.kind, people=visit.people,
        training_hours=visit.training_hours, lecturer_name=visit.lecturer_name.strip(),
        note=visit.note.strip(), import_batch=batch,
        created_by_id=user.id if user is not None else None)


def audit_facts(record: OfflineVisit) -> dict:
    return {"day": record.day.isoformat(), "venue_id": record.venue_id,
            "organisation": record.organisation_name, "title": record.title,
            "people": record.people, "training_hours": str(record.training_hours or ""),
            "batch": record.import_batch or ""}


def record_visit(session: Session, user: StaffUser, visit: VisitInput,
                 today: date) -> OfflineVisit:
    """Record one offline visit, or refuse with every problem it has."""
    problems = check_visit(visit, today)
    if problems:
        raise BookingError("offline_visit", " ".join(str(p) for p in problems), status=422)
    record = build_visit(visit, programme_catalogue(session), user)
    session.add(record)
    session.flush()
    record_change(session, user, "offline_visit.create", record, after=audit_facts(record))
    return record


def delete_visit(session: Session, user: StaffUser, visit_id: int) -> None:
    """Delete one offline visit (a mistyped record); the audit log keeps what it said."""
    record = session.get(OfflineVisit, visit_id)
    if record is None:
        raise NotFound(_l("找不到该线下接待记录。"))
    record_change(session, user, "offline_visit.delete", record, before=audit_facts(record))
    session.delete(record)
    session.flush()
