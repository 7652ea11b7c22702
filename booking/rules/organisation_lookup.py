"""Which organisation a booking (or a place on the waiting list) is for: the same one across
bookings, by its unified social credit code when given, else by its name; created on first
use. The booking path reads it, and every organisation suspended today, in one statement
built once (building a SQLAlchemy statement costs more CPU than SQLite takes to run it)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.models import Organisation, OrganisationKind


@dataclass
class OrganisationDetails:
    name: str
    kind: OrganisationKind
    credit_code: str | None = None


def _organisation_key(details: OrganisationDetails) -> tuple[str, str | None]:
    return " ".join(details.name.split()), (details.credit_code or "").strip().upper() or None


def _same_organisation(by_code: bool):
    # By name, the missing credit code is checked in Python (:func:`_first_match`): with
    # "credit_code IS NULL" in the query, SQLite walks the unique index on credit_code, i.e.
    # every organisation without one. Nor is there an ORDER BY: SQLite would scan the table
    # in id order rather than use the indexes of an OR.
    return (Organisation.credit_code == bindparam("code") if by_code
            else Organisation.name == bindparam("name"))


@functools.cache
def _by_key(by_code: bool):
    return select(Organisation).where(_same_organisation(by_code))


@functools.cache
def _by_key_or_suspended(by_code: bool):
    return select(Organisation).where(
        or_(_same_organisation(by_code), Organisation.suspended_until >= bindparam("today")))


def _first_match(rows, name: str, code: str | None) -> Organisation | None:
    """The oldest of ``rows`` that is the organisation: the same credit code, or the same
    name and none."""
    return min((o for o in rows if (o.credit_code == code if code else
                                    (o.name == name and o.credit_code is None))),
               key=lambda o: o.id, default=None)


@functools.cache
def _insert_without_code():
    table = Organisation.__table__
    return select(Organisation).from_statement(insert(table).returning(*table.c))


def find_or_create_organisation(session: Session, details: OrganisationDetails) -> Organisation:
    """The same organisation across bookings: by credit code when given, else by name."""
    name, code = _organisation_key(details)
    organisation = _first_match(session.scalars(_by_key(code is not None),
                                                {"code": code, "name": name}), name, code)
    return organisation or _create_organisation(session, name, details.kind, code)


def organisation_and_suspended(session: Session, details: OrganisationDetails,
                               today: date) -> tuple[Organisation, list[Organisation]]:
    """:func:`find_or_create_organisation` and, in the same query, every organisation
    suspended on ``today`` (what ``workflow.check_may_book`` reads next): the booking path's."""
    name, code = _organisation_key(details)
    rows = session.scalars(_by_key_or_suspended(code is not None),
                           {"code": code, "name": name, "today": today}).all()
    return (_first_match(rows, name, code) or _create_organisation(session, name, details.kind,
                                                                    code),
            sorted((o for o in rows if o.suspended_until is not None and o.suspended_until >= today),
                   key=lambda o: o.id))


def _create_organisation(session: Session, name: str, kind: OrganisationKind,
                         code: str | None) -> Organisation:
    if code is None:  # nothing unique to collide on: a plain INSERT … RETURNING
        return session.scalars(_insert_without_code(), {"name": name, "kind": kind}).one()
    organisation = Organisation(name=name, kind=kind, credit_code=code)
    try:
        with session.begin_nested():
            session.add(organisation)
    except IntegrityError:  # created by a concurrent request a moment ago
        organisation = session.scalars(select(Organisation).filter_by(credit_code=code)).one()
    return organisation
