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

#: Bookings that count as served.
SERVED_STATES = (BookingState.CHECKED_IN, BookingState.COMPLETED)


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

    def add(self, other: Tally) -> None:
        self.people += other.people
        self.groups += other.groups
        self.organisation_ids |= other.organisation_ids


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


def _detail_of_slots(session: Session, start: date, end: date,
                     venue_id: int | None) -> dict[int, Tally]:
    """Each slot of the range -> the (empty) detail row it counts in: venue x month x kind x
    programme, labelled with the first slot's titles (titles may vary between slots)."""
    query = (select(Slot.id, Slot.venue_id, Venue.name, Venue.name_en, Slot.day,
                    func.coalesce(Slot.programme, Slot.title), Slot.title, Slot.title_en,
                    Slot.kind)
             .join(Venue, Slot.venue_id == Venue.id)
             .where(Slot.day >= start, Slot.day <= end).order_by(Slot.day, Slot.id))
    if venue_id is not None:
        query = query.where(Slot.venue_id == venue_id)
    rows: dict[tuple, Tally] = {}
    of_slot: dict[int, Tally] = {}
    for slot_id, venue, name, name_en, day, programme, title, title_en, kind in \
            session.execute(query):
        month, kind = f"{day.year:04d}-{day.month:02d}", kind or ""
        key = (("venue", venue), ("month", month), ("kind", kind), ("programme", programme))
        row = rows.get(key)
        if row is None:
            row = rows[key] = Tally(key=key, venue_name=name, venue_name_en=name_en or "",
                                    title=title, title_en=title_en or "", kind=kind,
                                    month=month)
        of_slot[slot_id] = row
    return of_slot


def detail_rows(session: Session, start: date, end: date,
                venue_id: int | None = None) -> list[Tally]:
    """Served organisations and people per venue, month, kind and programme, for the slots
    whose day is in [start, end].

    Two portable queries whose cost follows the range, not the history: the range's slots
    (through ``ix_slot_day``) and their served bookings per organisation, an index-only read
    of ``ix_booking_served``, tallied here in one pass.
    """
    of_slot = _detail_of_slots(session, start, end, venue_id)
    slots = select(Slot.id).where(Slot.day >= start, Slot.day <= end)
    if venue_id is not None:
        slots = slots.where(Slot.venue_id == venue_id)
    people = func.sum(func.coalesce(Booking.arrived_count, Booking.party_size))
    served = session.execute(
        select(Booking.slot_id, Booking.organisation_id, people, func.count())
        .where(Booking.slot_id.in_(slots), Booking.state.in_(SERVED_STATES))
        .group_by(Booking.slot_id, Booking.organisation_id))
    for slot_id, organisation_id, count, groups in served:
        row = of_slot[slot_id]
        row.people += count or 0
        row.groups += groups
        row.organisation_ids.add(organisation_id)
    unique = {id(row): row for row in of_slot.values() if row.groups}
    return list(unique.values())


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def people_served(session: Session, start: date, end: date,
                  venue_id: int | None = None) -> list[Tally]:
    """Rows per venue, month, kind and programme: organisations (distinct) and people served."""
    return build_report(detail_rows(session, start, end, venue_id), start, end).detail


def _merge(tallies, key: tuple, **labels) -> Tally:
    tally = tallies.get(key)
    if tally is None:
        tally = tallies[key] = Tally(key=key, **labels)
    return tally


def build_report(detail: list[Tally], start: date, end: date) -> StatisticsReport:
    """Every coarser table is a merge of the few detail rows (organisations as sets, so each
    is counted once)."""
    total = Tally(key=())
    by_venue: dict[tuple, Tally] = {}
    by_programme: dict[tuple, Tally] = {}
    by_kind: dict[tuple, Tally] = {}
    by_month: dict[tuple, Tally] = {(("month", m),): Tally(key=(("month", m),), month=m)
                                    for m in months_between(start, end)}
    for row in detail:
        venue, month, kind, programme = row.key
        for tally in (total,
                      _merge(by_venue, (venue,), venue_name=row.venue_name,
                             venue_name_en=row.venue_name_en),
                      _merge(by_programme, (programme,), title=row.title,
                             title_en=row.title_en),
                      _merge(by_kind, (kind,), kind=row.kind),
                      _merge(by_month, (month,), month=row.month)):
            tally.add(row)

    def by_people(t):
        return (-t.people, t.key)

    return StatisticsReport(
        start=start, end=end, total=total,
        by_venue=sorted(by_venue.values(), key=lambda t: t.key),
        by_programme=sorted(by_programme.values(), key=by_people),
        by_kind=sorted(by_kind.values(), key=by_people),
        by_month=sorted(by_month.values(), key=lambda t: t.month),
        detail=sorted(detail, key=lambda t: (t.key[0], t.month, t.kind, t.title)))


def statistics_report(session: Session, start: date, end: date,
                      venue_id: int | None = None) -> StatisticsReport:
    """Everything the statistics page shows, from two queries."""
    return build_report(detail_rows(session, start, end, venue_id), start, end)


# --- export renderers: plain tables in, bytes out ------------------------------------------

@dataclass
class Table:
    """A titled table of plain values, ready for a spreadsheet."""

    title: str
    headers: list[str]
    rows: list[list[str | int]]


def _safe_cell(value):
    """Text starting with = + - @ would run as a formula in Excel: make it literal."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


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
            writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows([[_safe_cell(v) for v in row] for row in table.rows])
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
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F4EEE4")
        for row in table.rows:
            sheet.append([_safe_cell(v) for v in row])
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
