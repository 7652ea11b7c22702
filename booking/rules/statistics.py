"""The figures staff report upward: organisations served and people served (人次).

Counted from bookings that actually came — checked in or completed — on slot days within a
date range (both ends included), per venue, programme, kind and month. People served is the
headcount staff recorded at check-in (``arrived_count``), or the party size when none was
recorded. Organisations served counts each organisation once per group, however many visits.

The database aggregates per venue, day, programme and organisation in portable SQL; months and
distinct counts are worked out here, so nothing depends on a backend's date functions.
The export renderers at the bottom take plain tables and return bytes (no Flask).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.models import Booking, BookingState, Slot, Venue
from booking.render.cells import safe_cell

#: Bookings that count as served.
SERVED_STATES = (BookingState.CHECKED_IN, BookingState.COMPLETED)


@dataclass(frozen=True)
class ServedFact:
    """People one organisation brought to one programme at one venue on one day."""

    venue_id: int
    venue_name: str
    venue_name_en: str
    day: date
    programme: str   # the programme code, or the slot title for slots without one
    title: str
    title_en: str
    kind: str        # Slot.kind ("" when the slot has none)
    organisation_id: int
    people: int
    groups: int      # bookings behind the figure

    @property
    def month(self) -> str:
        return f"{self.day.year:04d}-{self.day.month:02d}"


@dataclass
class Tally:
    """One row of a report: a group key, its labels, and what was served under it."""

    key: tuple
    venue_name: str = ""
    venue_name_en: str = ""
    title: str = ""
    title_en: str = ""
    kind: str = ""
    month: str = ""
    people: int = 0
    groups: int = 0
    organisation_ids: set[int] = field(default_factory=set)

    @property
    def organisations(self) -> int:
        return len(self.organisation_ids)

    def add(self, fact: ServedFact) -> None:
        self.people += fact.people
        self.groups += fact.groups
        self.organisation_ids.add(fact.organisation_id)


@dataclass
class StatisticsReport:
    start: date
    end: date
    total: Tally
    by_venue: list[Tally]
    by_programme: list[Tally]
    by_kind: list[Tally]
    by_month: list[Tally]          # every month of the range, empty months included
    detail: list[Tally]            # venue × month × kind × programme


def served_facts(session: Session, start: date, end: date,
                 venue_id: int | None = None) -> list[ServedFact]:
    """Served people per venue, day, programme and organisation, slot days in [start, end]."""
    people = func.sum(func.coalesce(Booking.arrived_count, Booking.party_size))
    query = (select(Slot.venue_id, Venue.name, Venue.name_en, Slot.day,
                    func.coalesce(Slot.programme, Slot.title), Slot.title, Slot.title_en,
                    Slot.kind, Booking.organisation_id, people, func.count(Booking.id))
             .join(Slot, Booking.slot_id == Slot.id).join(Venue, Slot.venue_id == Venue.id)
             .where(Booking.state.in_(SERVED_STATES), Slot.day >= start, Slot.day <= end)
             .group_by(Slot.venue_id, Venue.name, Venue.name_en, Slot.day, Slot.programme,
                       Slot.title, Slot.title_en, Slot.kind, Booking.organisation_id))
    if venue_id is not None:
        query = query.where(Slot.venue_id == venue_id)
    return [ServedFact(row[0], row[1], row[2] or "", row[3], row[4], row[5], row[6] or "",
                       row[7] or "", row[8], int(row[9] or 0), int(row[10]))
            for row in session.execute(query)]


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
        if tally is None:
            tally = tallies[k] = Tally(key=k)
        _label(tally, fact, k)
        tally.add(fact)
    return tallies


def _label(tally: Tally, fact: ServedFact, key: tuple) -> None:
    """Copy the labels the key is about (titles may vary between slots: keep the first)."""
    if ("venue", fact.venue_id) in key:
        tally.venue_name, tally.venue_name_en = fact.venue_name, fact.venue_name_en
    if ("programme", fact.programme) in key and not tally.title:
        tally.title, tally.title_en = fact.title, fact.title_en
    if ("kind", fact.kind) in key:
        tally.kind = fact.kind
    if ("month", fact.month) in key:
        tally.month = fact.month


def people_served(session: Session, start: date, end: date,
                  venue_id: int | None = None) -> list[Tally]:
    """Rows per venue, month, kind and programme: organisations (distinct) and people served."""
    return build_report(served_facts(session, start, end, venue_id), start, end).detail


def build_report(facts: list[ServedFact], start: date, end: date) -> StatisticsReport:
    total = Tally(key=())
    for fact in facts:
        total.add(fact)

    def by_people(t):
        return (-t.people, t.key)

    by_venue = _tally(facts, lambda f: (("venue", f.venue_id),))
    by_programme = _tally(facts, lambda f: (("programme", f.programme),))
    by_kind = _tally(facts, lambda f: (("kind", f.kind),))
    by_month = _tally(facts, lambda f: (("month", f.month),))
    for month in months_between(start, end):
        key = (("month", month),)
        by_month.setdefault(key, Tally(key=key, month=month))
    detail = _tally(facts, lambda f: (("venue", f.venue_id), ("month", f.month),
                                      ("kind", f.kind), ("programme", f.programme)))
    return StatisticsReport(
        start=start, end=end, total=total,
        by_venue=sorted(by_venue.values(), key=lambda t: t.key),
        by_programme=sorted(by_programme.values(), key=by_people),
        by_kind=sorted(by_kind.values(), key=by_people),
        by_month=sorted(by_month.values(), key=lambda t: t.month),
        detail=sorted(detail.values(), key=lambda t: (t.key[0], t.month, t.kind, t.title)))


def statistics_report(session: Session, start: date, end: date,
                      venue_id: int | None = None) -> StatisticsReport:
    """Everything the statistics page shows, from one query."""
    return build_report(served_facts(session, start, end, venue_id), start, end)


# --- export renderers: plain tables in, bytes out ------------------------------------------

@dataclass
class Table:
    """A titled table of plain values, ready for a spreadsheet."""

    title: str
    headers: list[str]
    rows: list[list[str | int]]


def render_csv(tables: list[Table]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly.

    Tables follow each other, each under its title and separated by an empty line.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(v) for v in table.headers])
        writer.writerows([[safe_cell(v) for v in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(tables: list[Table]) -> bytes:
    """One worksheet per table, bold frozen header row, readable column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = workbook.create_sheet(title)
        sheet.append([safe_cell(v) for v in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F4EEE4")
        for row in table.rows:
            sheet.append([safe_cell(v) for v in row])
        sheet.freeze_panes = "A2"
        widths: dict[int, int] = defaultdict(int)
        for row in [table.headers, *table.rows]:
            for column, value in enumerate(row, start=1):
                text = str(value)
                # CJK characters are about twice as wide as Latin ones.
                widths[column] = max(widths[column],
                                     sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = min(60, width + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        candidate, n = f"{clean}{n}", n + 1
    used.add(candidate)
    return candidate
