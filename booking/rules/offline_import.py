"""Importing a year of past visits from the XLSX template the app provides: all or nothing.

Every row is checked first; if any row is wrong, nothing is recorded and the refusal names each
bad row by its row number in the spreadsheet (the header is row 1). The file is read with
openpyxl in read-only mode under hard limits on its size and row count.
"""
from __future__ import annotations

import io
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import StaffUser, Venue
from booking.rules.audit import record_change
from booking.rules.offline_visits import (
    VisitInput,
    build_visit,
    check_visit,
    parse_hours,
    programme_catalogue,
)
from booking.rules.vocabulary import ORGANISATION_KIND_LABELS, PROGRAMME_KIND_NAMES

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ROWS = 5000
MAX_ROW_ERRORS_SHOWN = 100

#: Template columns: field -> header (Chinese as printed in the template, then accepted aliases).
COLUMNS = {
    "day": ("日期", "date"),
    "venue": ("场馆", "venue"),
    "organisation_name": ("单位名称", "organisation", "organization"),
    "organisation_kind": ("单位类型", "organisation kind", "organization kind"),
    "title": ("项目", "programme", "program"),
    "kind": ("项目类型", "programme kind", "program kind"),
    "people": ("人数", "people"),
    "training_hours": ("学时", "training hours", "hours"),
    "lecturer_name": ("讲解员", "lecturer", "guide"),
    "note": ("备注", "note"),
}
REQUIRED = ("day", "venue", "organisation_name", "organisation_kind", "title", "people")


class ImportRefused(BookingError):
    """The file was refused as a whole; ``row_errors`` lists (row number, message)."""

    def __init__(self, message, row_errors: list[tuple[int, str]] | None = None):
        super().__init__("offline_import", message, status=422, field="file")
        self.row_errors = row_errors or []


@dataclass
class ImportResult:
    batch: str
    visits: int = 0
    people: int = 0
    person_hours: Decimal = Decimal(0)
    rows: list = field(default_factory=list)


def _words(labels: dict) -> dict[str, object]:
    """Every way a label may be written (stored value, Chinese, English) -> its key."""
    words: dict[str, object] = {}
    for key, label in labels.items():
        value = getattr(key, "value", key)
        words[str(value).lower()] = key
        for locale in ("zh", "en"):
            with force_locale(locale):
                words[(gettext(label) if isinstance(label, str) else str(label)).lower()] = key
    return words


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        return None


def _people(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value)
    return int(text) if text.isdigit() else None


def _header_map(header: tuple) -> dict[str, int]:
    aliases = {alias.lower(): name for name, names in COLUMNS.items() for alias in names}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = aliases.get(_text(cell).lower())
        if name and name not in positions:
            positions[name] = index
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in positions]
    if missing:
        raise ImportRefused(_l("第 1 行缺少列：%(columns)s。请使用本页提供的模板。",
                               columns="、".join(missing)))
    return positions


def read_rows(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(row number, {field: cell}) for each non-empty row below the header."""
    if PurePath(filename or "").suffix.lower() != ".xlsx":
        raise ImportRefused(_l("只支持 Excel（.xlsx）文件，请使用本页提供的模板。"))
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(_l("文件过大（上限 %(mb)s MB）。", mb=MAX_FILE_BYTES // 1024 // 1024))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportRefused(_l("无法读取该 Excel 文件，请确认是 .xlsx 格式。")) from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2)
        header = next(rows, None)
        if header is None:
            raise ImportRefused(_l("上传的文件是空的。"))
        positions = _header_map(header)
        found = []
        for number, row in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise ImportRefused(_l("文件行数过多（上限 %(n)s 行），请分成几个文件导入。",
                                       n=MAX_ROWS))
            if not any(_text(cell) for cell in row):
                continue
            found.append((number, {name: row[i] if i < len(row) else None
                                   for name, i in positions.items()}))
        return found
    finally:
        workbook.close()


def _visit(cells: dict, venues: dict[str, Venue], org_kinds: dict, kinds: dict
           ) -> tuple[VisitInput, list]:
    problems = []
    try:
        hours = parse_hours(_text(cells.get("training_hours")))
    except ValueError:
        hours = None
        problems.append(_l("学时必须是数字，例如 1.5。"))
    kind_text = _text(cells.get("kind")).lower()
    kind = kinds.get(kind_text, "?") if kind_text else None
    visit = VisitInput(
        venue=venues.get(_text(cells.get("venue")).lower()), day=_day(cells.get("day")),
        organisation_name=_text(cells.get("organisation_name")),
        organisation_kind=org_kinds.get(_text(cells.get("organisation_kind")).lower()),
        title=_text(cells.get("title")), people=_people(cells.get("people")),
        training_hours=hours, kind=kind, lecturer_name=_text(cells.get("lecturer_name")),
        note=_text(cells.get("note")))
    return visit, problems


def import_visits(session: Session, user: StaffUser, filename: str, data: bytes,
                  today: date) -> ImportResult:
    """Check every row, then record them all in one batch, or refuse naming each bad row."""
    rows = read_rows(filename, data)
    if not rows:
        raise ImportRefused(_l("文件里没有数据行（第 2 行起填写）。"))
    venues: dict[str, Venue] = {}
    for venue in session.scalars(select(Venue)):
        for word in (venue.code, venue.name, venue.name_en):
            if word:
                venues[word.lower()] = venue
    org_kinds = _words(ORGANISATION_KIND_LABELS)
    kinds = _words(PROGRAMME_KIND_NAMES)
    visits, row_errors = [], []
    for number, cells in rows:
        visit, problems = _visit(cells, venues, org_kinds, kinds)
        problems += check_visit(visit, today)
        if problems:
            row_errors.append((number, " ".join(str(p) for p in problems)))
        visits.append(visit)
    if row_errors:
        raise ImportRefused(_l("%(n)s 行有误，整个文件未导入。请改正后重新上传。",
                               n=len(row_errors)), row_errors)
    catalogue = programme_catalogue(session)
    result = ImportResult(batch=secrets.token_hex(8))
    records = [build_visit(visit, catalogue, user, result.batch) for visit in visits]
    session.add_all(records)
    session.flush()
    result.visits = len(records)
    result.people = sum(r.people for r in records)
    result.person_hours = sum((Decimal(r.training_hours or 0) * r.people for r in records),
                              Decimal(0))
    record_change(session, user, "offline_visit.import", records[0],
                  after={"batch": result.batch, "visits": result.visits,
                         "people": result.people, "file": PurePath(filename).name[:100]})
    return result
