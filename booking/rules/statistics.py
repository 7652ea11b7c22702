"""The figures staff report upward, per venue, programme, kind, organisation kind, month, year.

Counted from two kinds of record on days within a date range (both ends included):

* bookings that came -- checked in or completed. People served (人次) is the headcount staff
  recorded at check-in (``arrived_count``), or the party size when none was recorded;
* offline visits staff recorded (:class:`~booking.models.OfflineVisit`), marked as such.

Organisations served counts each organisation once per group (by name, so an organisation
that booked online and also came offline is one). 学时 is person-hours of study: people times
the training hours of the session. Certificates issued come from the certificate source the
course scheduler registers (booking cannot read certificates itself). No-shows are bookings
marked no-show: they count as nothing else.

The database returns one row per booking or visit in portable SQL; months, years and distinct
counts are worked out here, so nothing depends on a backend's date functions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from booking.models import Booking, BookingState, OfflineVisit, Organisation, Slot, Venue
from booking.render.tables import Table, render_csv, render_xlsx  # noqa: F401  (re-exported)

#: Bookings that count as served.
SERVED_STATES = (BookingState.CHECKED_IN, BookingState.COMPLETED)
ONLINE, OFFLINE = "online", "offline"

#: ``(session, start, end, venue_id) -> {booking_id: certificates}``; set by the course
#: scheduler when the app is assembled (see :func:`register_certificate_source`).
CertificateSource = Callable[[Session, date, date, "int | None"], dict[int, int]]
_certificate_sources: list[CertificateSource] = []


def register_certificate_source(source: CertificateSource) -> None:
    """Let the statistics count certificates issued per booking (idempotent)."""
    if source not in _certificate_sources:
        _certificate_sources.append(source)


@dataclass(slots=True)
class ServedFact:
    """One booking or one offline visit: what it brought to a programme on a day."""

    venue_id: int
    venue_name: str
    venue_name_en: str
    day: date
    programme: str   # the programme code, or the title for records without one
    title: str
    title_en: str
    kind: str        # programme kind ("" when none)
    organisation: str
    organisation_kind: str
    people: int
    hours: Decimal = Decimal(0)   # 学时 per person
    certificates: int = 0
    source: str = ONLINE
    no_show: bool = False
    lecturer_name: str = ""
    guide_user_id: int | None = None
    month: str = ""   # YYYY-MM, filled from ``day`` (see _with_months)
    year: str = ""

    @property
    def person_hours(self) -> Decimal:
        return self.hours * self.people


@dataclass
class Tally:
    """One row of a report: a group key, its labels, and what was served under it."""

    key: tuple
    venue_name: str = ""
    venue_name_en: str = ""
    title: str = ""
    title_en: str = ""
    kind: str = ""
    organisation_kind: str = ""
    month: str = ""
    year: str = ""
    people: int = 0
    groups: int = 0
    offline_groups: int = 0
    offline_people: int = 0
    person_hours: Decimal = Decimal(0)
    certificates: int = 0
    no_shows: int = 0
    organisation_names: set[str] = field(default_factory=set)

    @property
    def organisations(self) -> int:
        return len(self.organisation_names)

    def add(self, fact: ServedFact) -> None:
        if fact.no_show:
            self.no_shows += 1
            return
        self.people += fact.people
        self.groups += 1
        if fact.source == OFFLINE:
            self.offline_groups += 1
            self.offline_people += fact.people
        self.person_hours += fact.person_hours
        self.certificates += fact.certificates
        self.organisation_names.add(fact.organisation)


@dataclass
class StatisticsReport:
    start: date
    end: date
    total: Tally
    by_venue: list[Tally]
    by_programme: list[Tally]
    by_kind: list[Tally]
    by_organisation_kind: list[Tally]
    by_month: list[Tally]          # every month of the range, empty months included
    by_year: list[Tally]
    detail: list[Tally]            # venue × month × kind × programme
    previous: StatisticsReport | None = None   # the same range one year earlier

    def previous_of(self, breakdown: str, tally: Tally) -> Tally | None:
        """The tally of the year before under the same key (months: the same month)."""
        if self.previous is None:
            return None
        if breakdown == "month":
            month = f"{int(tally.month[:4]) - 1:04d}{tally.month[4:]}"
            key = (("month", month),)
        else:
            key = tally.key
        return next((t for t in getattr(self.previous, f"by_{breakdown}") if t.key == key),
                    None)


def _name(text: str) -> str:
    return " ".join(text.split())


def booking_facts(session: Session, start: date, end: date,
                  venue_id: int | None = None) -> list[ServedFact]:
    """One fact per booking that came or did not show, slot days in [start, end]."""
    query = (select(Booking.id, Slot.venue_id, Venue.name, Venue.name_en, Slot.day,
                    func.coalesce(Slot.programme, Slot.title), Slot.title, Slot.title_en,
                    Slot.kind, Organisation.name, type_coerce(Organisation.kind, String).label("organisation_kind"),
                    func.coalesce(Booking.arrived_count, Booking.party_size),
                    Slot.training_hours, type_coerce(Booking.state, String).label("state"),
                    Slot.lecturer_name, Slot.guide_user_id)
             .join(Slot, Booking.slot_id == Slot.id).join(Venue, Slot.venue_id == Venue.id)
             .join(Organisation, Booking.organisation_id == Organisation.id)
             .where(Booking.state.in_((*SERVED_STATES, BookingState.NO_SHOW)),
                    Slot.day >= start, Slot.day <= end))
    if venue_id is not None:
        query = query.where(Slot.venue_id == venue_id)
    certificates: dict[int, int] = {}
    for source in _certificate_sources:
        certificates.update(source(session, start, end, venue_id))
    names: dict[str, str] = {}
    no_show = BookingState.NO_SHOW.value
    return [ServedFact(row[1], row[2], row[3] or "", row[4], row[5], row[6], row[7] or "",
                       row[8] or "", names.get(row[9]) or names.setdefault(row[9], _name(row[9])),
                       row[10], int(row[11] or 0), Decimal(row[12] or 0),
                       certificates.get(row[0], 0), ONLINE, row[13] == no_show, row[14] or "",
                       row[15])
            for row in session.execute(query)]


def offline_facts(session: Session, start: date, end: date,
                  venue_id: int | None = None) -> list[ServedFact]:
    """One fact per offline visit on days in [start, end]."""
    v = OfflineVisit
    query = (select(v.venue_id, Venue.name, Venue.name_en, v.day, v.programme, v.title,
                    v.title_en, v.kind, v.organisation_name, v.organisation_kind, v.people,
                    v.training_hours, v.lecturer_name)
             .join(Venue, OfflineVisit.venue_id == Venue.id)
             .where(OfflineVisit.day >= start, OfflineVisit.day <= end))
    if venue_id is not None:
        query = query.where(OfflineVisit.venue_id == venue_id)
    return [ServedFact(row[0], row[1], row[2] or "", row[3], row[4] or row[5], row[5],
                       row[6] or "", row[7] or "", _name(row[8]), row[9].value, row[10],
                       Decimal(row[11] or 0), 0, OFFLINE, False, row[12] or "")
            for row in session.execute(query)]


def _with_months(facts: list[ServedFact]) -> list[ServedFact]:
    months: dict[date, tuple[str, str]] = {}
    for fact in facts:
        labels = months.get(fact.day)
        if labels is None:
            labels = months[fact.day] = (f"{fact.day.year:04d}-{fact.day.month:02d}",
                                         f"{fact.day.year:04d}")
        fact.month, fact.year = labels
    return facts


def served_facts(session: Session, start: date, end: date,
                 venue_id: int | None = None) -> list[ServedFact]:
    return _with_months(booking_facts(session, start, end, venue_id)
                        + offline_facts(session, start, end, venue_id))


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _tally(facts: list[ServedFact], key) -> dict[tuple, Tally]:
    tallies: dict[tuple, Tally] = {}
    for fact in facts:
        k = key(fact)
        tally = tallies.get(k)
        if tally is None:  # labels from the first fact (titles may vary: keep the first)
            tally = tallies[k] = Tally(key=k)
            _label(tally, fact, k)
        tally.add(fact)
    return tallies


def _label(tally: Tally, fact: ServedFact, key: tuple) -> None:
    """Copy the labels the key is about."""
    for name, value in key:
        if name == "venue":
            tally.venue_name, tally.venue_name_en = fact.venue_name, fact.venue_name_en
        elif name == "programme":
            tally.title, tally.title_en = fact.title, fact.title_en
        elif name in ("kind", "organisation_kind", "month", "year"):
            setattr(tally, name, value)


def people_served(session: Session, start: date, end: date,
                  venue_id: int | None = None) -> list[Tally]:
    """Rows per venue, month, kind and programme: organisations (distinct) and people served."""
    return build_report(served_facts(session, start, end, venue_id), start, end).detail


def _by_people(t: Tally):
    return (-t.people, t.key)


def build_report(facts: list[ServedFact], start: date, end: date) -> StatisticsReport:
    total = Tally(key=())
    for fact in facts:
        total.add(fact)
    # A programme that only had no-shows is still a row (its no-shows count).
    by_month = _tally(facts, lambda f: (("month", f.month),))
    for month in months_between(start, end):
        key = (("month", month),)
        by_month.setdefault(key, Tally(key=key, month=month))
    by_year = _tally(facts, lambda f: (("year", f.year),))
    for year in range(start.year, end.year + 1):
        by_year.setdefault((("year", f"{year:04d}"),), Tally(key=(("year", f"{year:04d}"),),
                                                            year=f"{year:04d}"))
    detail = _tally(facts, lambda f: (("venue", f.venue_id), ("month", f.month),
                                      ("kind", f.kind), ("programme", f.programme)))
    return StatisticsReport(
        start=start, end=end, total=total,
        by_venue=sorted(_tally(facts, lambda f: (("venue", f.venue_id),)).values(),
                        key=lambda t: t.key),
        by_programme=sorted(_tally(facts, lambda f: (("programme", f.programme),)).values(),
                            key=_by_people),
        by_kind=sorted(_tally(facts, lambda f: (("kind", f.kind),)).values(), key=_by_people),
        by_organisation_kind=sorted(
            _tally(facts, lambda f: (("organisation_kind", f.organisation_kind),)).values(),
            key=_by_people),
        by_month=sorted(by_month.values(), key=lambda t: t.month),
        by_year=sorted(by_year.values(), key=lambda t: t.year),
        detail=sorted(detail.values(), key=lambda t: (t.key[0], t.month, t.kind, t.title)))


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def statistics_report(session: Session, start: date, end: date,
                      venue_id: int | None = None, compare: bool = False) -> StatisticsReport:
    """Everything the statistics page shows; with ``compare``, the year before beside it."""
    report = build_report(served_facts(session, start, end, venue_id), start, end)
    if compare:
        before_start, before_end = year_earlier(start), year_earlier(end)
        report.previous = build_report(served_facts(session, before_start, before_end,
                                                    venue_id), before_start, before_end)
    return report
