"""Offline visits: typed in one at a time or imported from the app's XLSX template, all rows or
none; they count in the statistics, marked as offline, and never become bookings."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from booking.models import AuditEntry, Booking, OfflineVisit, Role
from booking.models.db import db
from booking.rules.statistics import statistics_report

YEAR_START, YEAR_END = date(2025, 1, 1), date(2025, 12, 31)
HEADERS = ["日期", "场馆", "单位名称", "单位类型", "项目", "项目类型", "人数", "学时", "讲解员", "备注"]


@pytest.fixture
def staff(client, create_user, login, create_venue, create_slot):
    hall = create_venue("LBC", name="刘伯承同志纪念馆", name_en="Liu Bocheng Memorial Hall")
    create_venue("KZM", name="开州博物馆", name_en="Kaizhou Museum")
    create_slot(hall)  # carries the programme 学习百年党史 感悟刘帅精神 (liushuai-spirit)
    user = create_user("desk", Role.STAFF)
    login(user)
    return client


def year_rows(count: int) -> list[list]:
    """``count`` good rows spread over 2025, alternating venues, kinds and hours."""
    rows = []
    for i in range(count):
        day = YEAR_START + timedelta(days=i % 365)
        rows.append([day.isoformat() if i % 2 else day, "LBC" if i % 3 else "开州博物馆",
                     f"开州区第{i % 250}单位", ["党组织", "学校", "企业", "community"][i % 4],
                     "学习百年党史 感悟刘帅精神" if i % 2 else "红色开州 百年锦绣",
                     "" if i % 2 else "展览参观", 10 + i % 41, "1.5" if i % 2 else None, "", ""])
    return rows


def workbook_bytes(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "visits.xlsx"):
    return client.post("/staff/offline-visits/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def totals():
    report = statistics_report(db.session, YEAR_START, YEAR_END)
    return report.total.people, report.total.groups, report.total.person_hours


def test_a_year_with_three_bad_rows_is_refused_whole_naming_them_then_imports_fixed(staff):
    rows = year_rows(2000)
    rows[6][6] = "十二"          # spreadsheet row 8: people not a number
    rows[999][1] = "不存在的馆"    # row 1001: unknown venue
    rows[1997][0] = "2025-02-30"  # row 1999: no such date
    before = totals()
    refused = upload(staff, workbook_bytes(rows))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "3 行有误，整个文件未导入" in html
    assert [int(n) for n in __import__("re").findall(r'<tr data-row="(\d+)">', html)] == [
        8, 1001, 1999]
    assert "人数必须是 1 到" in html and "请选择场馆" in html and "日期无效" in html
    assert db.session.scalar(select(func.count(OfflineVisit.id))) == 0
    assert totals() == before

    rows[6][6], rows[999][1], rows[1997][0] = 12, "刘伯承同志纪念馆", "2025-02-28"
    imported = upload(staff, workbook_bytes(rows))
    assert imported.status_code == 302
    people = sum(int(r[6]) for r in rows)
    hours = sum((Decimal(r[7] or 0) * int(r[6]) for r in rows), Decimal(0))
    after = totals()
    assert after == (before[0] + people, before[1] + 2000, before[2] + hours)
    assert db.session.scalar(select(func.count(Booking.id))) == 0  # never bookings
    themed = db.session.scalars(select(OfflineVisit).where(
        OfflineVisit.title == "学习百年党史 感悟刘帅精神").limit(1)).one()
    assert (themed.programme, themed.kind) == ("liushuai-spirit", "themed_course")
    audit = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "offline_visit.import")).one()
    assert '"visits": 2000' in audit.after


@pytest.mark.parametrize("name, data, message", [
    ("visits.csv", b"a,b", "只支持 Excel"),
    ("visits.xlsx", b"not a zip", "无法读取"),
    ("visits.xlsx", workbook_bytes([["2025-01-01"]], headers=["日期", "人数"]), "缺少列"),
    ("visits.xlsx", workbook_bytes([]), "没有数据行"),
], ids=["csv", "not-a-zip", "missing-columns", "no-rows"])
def test_unreadable_files_are_refused_with_a_message(staff, name, data, message):
    response = upload(staff, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_too_many_rows_are_refused(staff, monkeypatch):
    from booking.rules import offline_import
    monkeypatch.setattr(offline_import, "MAX_ROWS", 5)
    response = upload(staff, workbook_bytes(year_rows(6)))
    assert response.status_code == 422 and "文件行数过多" in response.get_data(as_text=True)


def test_the_template_imports_as_it_comes(staff):
    template = staff.get("/staff/offline-visits/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.get_data())).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    response = upload(staff, template.get_data())
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(OfflineVisit.id))) == 1


def test_staff_record_and_delete_one_visit_audited(staff):
    from booking.models import Venue
    hall = db.session.scalar(select(Venue).where(Venue.code == "LBC"))
    page = staff.get("/staff/offline-visits?year=2025")
    assert page.status_code == 200 and "记录一次线下接待" in page.get_data(as_text=True)
    form = {"venue": hall.id, "day": "2025-05-04", "organisation_name": "开州区团委",
            "organisation_kind": "government", "title": "学习百年党史 感悟刘帅精神", "kind": "",
            "people": "35", "training_hours": "1.5", "lecturer_name": "陈静", "note": "电话预约"}
    assert staff.post("/staff/offline-visits", data=form).status_code == 302
    report = statistics_report(db.session, YEAR_START, YEAR_END)
    assert (report.total.people, report.total.offline_groups,
            report.total.person_hours) == (35, 1, Decimal("52.5"))
    listed = staff.get("/staff/offline-visits?year=2025").get_data(as_text=True)
    assert "开州区团委" in listed
    visit = db.session.scalar(select(OfflineVisit))
    assert staff.post(f"/staff/offline-visits/{visit.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count(OfflineVisit.id))) == 0
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "offline_visit.create" in actions and "offline_visit.delete" in actions


def test_a_future_or_bad_visit_is_refused_with_messages(staff):
    from booking.models import Venue
    hall = db.session.scalar(select(Venue).where(Venue.code == "LBC"))
    form = {"venue": hall.id, "day": "2099-05-04", "organisation_name": "某单位",
            "organisation_kind": "school", "title": "参观", "kind": "", "people": "20",
            "training_hours": "abc"}
    response = staff.post("/staff/offline-visits", data=form)
    assert response.status_code == 422 and "学时必须是数字" in response.get_data(as_text=True)
    form["training_hours"] = ""
    response = staff.post("/staff/offline-visits", data=form)
    assert response.status_code == 422 and "日期必须在" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OfflineVisit.id))) == 0


def test_offline_pages_are_for_staff_only(client, create_user, login):
    assert client.get("/staff/offline-visits").status_code == 302
    login(create_user("guide", Role.GUIDE))
    assert client.get("/staff/offline-visits").status_code == 403
    assert client.get("/staff/offline-visits/template.xlsx").status_code == 403
