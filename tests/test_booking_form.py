"""The public booking form, the confirmation page, the manage link and link recovery."""
from __future__ import annotations

import io
import re
from datetime import time, timedelta

import pytest
from flask_babel import refresh
from icalendar import Calendar
from openpyxl import Workbook
from sqlalchemy import func, select

from booking.clock import at_local, local_today
from booking.errors import BookingError
from booking.models import Booking, BookingState, Organisation
from booking.models.db import db
from booking.rules.attendee_files import MAX_FILE_BYTES, parse_attendee_file
from booking.rules.identifiers import credit_code_check_digit
from booking.rules.tokens import hash_secret
from tests.fixtures.factories import open_every_day
from tests.fixtures.manage_links import tampered


def valid_credit_code(first17: str = "91500234MA5U3K8X3") -> str:
    return first17 + credit_code_check_digit(first17)


def form_data(**overrides) -> dict:
    data = {"organisation_name": "开州区汉丰街道党工委", "organisation_kind": "party_organisation",
            "credit_code": "", "contact_name": "王建国", "contact_phone": "138 1234 1234",
            "contact_email": "wang@example.org", "party_size": "12",
            "attendees": "张三\n李四\n\n王五", "notes": "需要讲解员", "consent": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def field_errors(response, field: str) -> str:
    """The error text shown beside one field."""
    match = re.search(rf'<div id="{field}-error">(.*?)</div>', response.get_data(as_text=True),
                      flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def bookings_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking))


def book(client, slot, **overrides):
    return client.post(f"/slots/{slot.id}/book", data=form_data(**overrides),
                       content_type="multipart/form-data")


def manage_path_from(html: str) -> str:
    link = re.search(r'data-manage-link>([^<]+)<', html).group(1)
    return link.replace("http://127.0.0.1:5000", "")


# --- the happy path ------------------------------------------------------------------------

def test_booking_through_the_form_shows_reference_and_a_working_manage_link(
        client, create_slot):
    slot = create_slot(capacity=40)
    page = client.get(f"/slots/{slot.id}/book")
    assert "余 40 座" in text_of(page) and "刘伯承同志纪念馆" in text_of(page)

    response = book(client, slot)
    assert response.status_code == 302

    confirmation = client.get(response.headers["Location"])
    booking = db.session.scalar(select(Booking))
    html = confirmation.get_data(as_text=True)
    assert booking.display_reference in html
    assert "预约成功" in html and "已确认" in html
    assert [a.name for a in booking.attendees] == ["张三", "李四", "王五"]
    assert booking.contact_phone == "13812341234" and booking.state is BookingState.CONFIRMED

    manage_path = manage_path_from(html)
    token = manage_path.rsplit("/", 1)[1]
    assert booking.manage_token_hash == hash_secret(token) and token not in booking.manage_token_hash
    managed = client.get(manage_path, follow_redirects=True)
    assert managed.status_code == 200 and booking.display_reference in text_of(managed)
    assert managed.headers["Cache-Control"] == "no-store"
    assert managed.request.path == f"/manage/{booking.reference}"


def test_the_manage_link_is_shown_only_to_the_booking_browser_for_a_while(app, client,
                                                                           create_slot):
    slot = create_slot()
    confirmation_url = book(client, slot).headers["Location"]
    assert "data-manage-link" in client.get(confirmation_url).get_data(as_text=True)
    assert "data-manage-link" in client.get(confirmation_url + "?lang=en").get_data(
        as_text=True)  # a reload or a language switch still shows it

    another_browser = app.test_client().get(confirmation_url)
    assert "data-manage-link" not in another_browser.get_data(as_text=True)
    assert "确认页已失效" in text_of(another_browser)

    with client.session_transaction() as cookie_session:
        fresh = cookie_session["new_booking"]
        cookie_session["new_booking"] = {**fresh, "at": fresh["at"] - 16 * 60}
    later = client.get(confirmation_url)
    assert "data-manage-link" not in later.get_data(as_text=True)


def test_a_programme_needing_approval_makes_a_pending_booking_and_explains_it(client,
                                                                              create_slot):
    slot = create_slot(requires_approval=True)
    confirmation = client.get(book(client, slot).headers["Location"])
    page = text_of(confirmation)
    assert "等待审核" in page and "座位已为您保留" in page
    assert db.session.scalar(select(Booking)).state is BookingState.PENDING


def test_a_valid_credit_code_is_accepted(client, create_slot):
    slot = create_slot()
    assert book(client, slot, credit_code=valid_credit_code().lower()).status_code == 302
    assert db.session.scalar(select(Organisation)).credit_code == valid_credit_code()


# --- every validation error beside its field, nothing written -----------------------------

@pytest.mark.parametrize(("field", "value", "message"), [
    ("credit_code", valid_credit_code()[:17] + ("0" if valid_credit_code()[17] != "0" else "1"),
     "校验位不正确"),
    ("credit_code", "91500234MA5U3K8", "应为 18 位"),
    ("credit_code", "91500234MA5U3K8XO1", "无效字符：O"),
    ("contact_phone", "12345678901", "11 位中国大陆手机号码"),
    ("contact_phone", "", "请填写联系人手机号码"),
    ("party_size", "9", "10 至 50 人之间"),
    ("party_size", "51", "10 至 50 人之间"),
    ("organisation_name", "", "请填写单位名称"),
    ("contact_email", "not-an-address", "电子邮箱格式不正确"),
    ("consent", None, "请阅读并同意参观须知和隐私说明"),
])
def test_invalid_input_is_refused_beside_the_field(client, create_slot, field, value, message):
    slot = create_slot(party_size_min=10, party_size_max=50)

    response = book(client, slot, **{field: value})

    assert response.status_code == 422
    assert message in field_errors(response, field)
    assert "提交未成功" in text_of(response)
    assert bookings_count() == 0


def test_more_attendee_names_than_the_party_size_is_refused(client, create_slot):
    slot = create_slot()
    response = book(client, slot, party_size="2", attendees="甲\n乙\n丙")
    assert response.status_code == 422
    assert "超过了团体人数" in field_errors(response, "attendees")
    assert bookings_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_a_full_slot_gives_a_clear_message_and_writes_nothing(client, create_slot,
                                                              create_booking):
    slot = create_slot(capacity=20)
    create_booking(slot, party_size=15)

    response = book(client, slot, party_size="10")

    assert response.status_code == 422
    assert "该场次余位不足" in field_errors(response, "party_size")
    assert bookings_count() == 1
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    db.session.refresh(slot)
    assert slot.taken == 15


def test_a_full_day_gives_a_clear_message(client, create_venue, create_slot, create_booking):
    venue = create_venue(daily_cap=20)
    slot = create_slot(venue, capacity=40)
    create_booking(create_slot(venue, day=slot.day, start=time(14, 0)), party_size=15)

    response = book(client, slot, party_size="10")

    assert "当天接待人数已达上限" in field_errors(response, "party_size")
    assert bookings_count() == 1


def test_the_form_of_a_full_slot_says_so_instead_of_asking(client, create_slot, create_booking):
    slot = create_slot(capacity=10)
    create_booking(slot, party_size=10)
    page = client.get(f"/slots/{slot.id}/book")
    assert "已约满" in text_of(page)
    assert 'name="organisation_name"' not in page.get_data(as_text=True)


def test_a_missing_slot_is_not_found(client, create_venue):
    create_venue()
    assert client.get("/slots/999/book").status_code == 404


# --- attendee files --------------------------------------------------------------------------

def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def test_utf8_csv_with_bom_and_header_is_merged_with_typed_names(client, create_slot):
    slot = create_slot()
    csv_data = "\ufeff序号,姓名,部门\n1,赵六,办公室\n\n2,钱七,组织部\n".encode("utf-8")
    response = book(client, slot, attendees="张三",
                    attendee_file=upload(csv_data, "名单.csv"))
    assert response.status_code == 302
    assert [a.name for a in db.session.scalar(select(Booking)).attendees] == ["张三", "赵六", "钱七"]


def test_gbk_csv_from_excel_is_read(client, create_slot):
    slot = create_slot()
    csv_data = "姓名\r\n孙八\r\n周九\r\n".encode("gbk")
    response = book(client, slot, attendees="", attendee_file=upload(csv_data, "names.CSV"))
    assert response.status_code == 302
    assert [a.name for a in db.session.scalar(select(Booking)).attendees] == ["孙八", "周九"]


def test_xlsx_upload_reads_the_name_column(client, create_slot):
    slot = create_slot()
    data = xlsx_bytes([["No.", "Name", "Unit"], [1, "吴十", "A"], [None, None, None],
                       [2, "郑十一", "B"]])
    response = book(client, slot, attendees="", attendee_file=upload(data, "list.xlsx"))
    assert response.status_code == 302
    assert [a.name for a in db.session.scalar(select(Booking)).attendees] == ["吴十", "郑十一"]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("names.txt", "张三".encode(), "只支持 CSV 或 Excel"),
    ("names.xls", b"\xd0\xcf\x11\xe0", "只支持 CSV 或 Excel"),
    ("names.xlsx", b"not really a workbook", "无法读取该 Excel 文件"),
    ("names.csv", b"x" * (MAX_FILE_BYTES + 1), "文件过大"),
    ("names.csv", b"", "文件是空的"),
])
def test_unreadable_attendee_files_are_refused_beside_the_field(client, create_slot, name, data,
                                                                message):
    slot = create_slot()
    response = book(client, slot, attendee_file=upload(data, name))
    assert response.status_code == 422
    assert message in field_errors(response, "attendee_file")
    assert bookings_count() == 0


def test_attendee_file_without_header_uses_the_first_column():
    assert parse_attendee_file("a.csv", "张三,党员\n李四,群众\n".encode()) == ["张三", "李四"]
    assert parse_attendee_file("a.csv", b"name\nAnna Li\n") == ["Anna Li"]


def test_attendee_file_in_an_unknown_encoding_is_refused():
    with pytest.raises(BookingError) as refused:
        parse_attendee_file("a.csv", b"\xff\xfe\x00\xd8\x00")
    assert refused.value.field == "attendee_file"


# --- the manage page ---------------------------------------------------------------------

@pytest.fixture
def managed_link(create_slot, create_booking):
    """A confirmed booking for 12 and its secret manage link (the path in the mail)."""
    slot = create_slot(capacity=40, modules_text="参观展厅 30分钟\n专题党课 45分钟",
                       lecturer_name="陈静")
    booking, token = create_booking(slot, party_size=12, attendee_names=["张三"])
    return booking, f"/manage/{booking.reference}/{token}"


def open_link(client, link: str) -> str:
    """Visit a manage link as from the mail: the token is traded for the cookie and a 303
    to the token-free page, whose path this returns."""
    response = client.get(link)
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


@pytest.fixture
def managed(client, managed_link):
    """The booking and its token-free manage page, which ``client`` may open."""
    booking, link = managed_link
    return booking, open_link(client, link)


def test_manage_page_shows_the_booking_with_the_phone_masked(client, managed):
    booking, path = managed
    page = text_of(client.get(path))
    assert booking.display_reference in page and "张三" in page
    assert "138****1234" in page and "13812341234" not in page


def test_the_language_switch_on_the_manage_page_keeps_the_token_out_of_other_urls(client,
                                                                                  managed):
    booking, path = managed
    html = client.get(path).get_data(as_text=True)
    assert 'href="?lang=en"' in html and "next=/manage" not in html

    refresh()  # the test app context outlives requests; Flask-Babel caches the locale in it
    english = client.get(f"{path}?lang=en")
    assert "Manage booking" in text_of(english)
    assert "lang=en" in english.headers["Set-Cookie"]  # remembered for the next pages


def test_wrong_reference_or_token_give_the_same_not_found_page(client, managed_link):
    booking, path = managed_link
    _, _, reference, token = path.split("/")
    wrong_token = client.get(f"/manage/{reference}/{tampered(token, 2)}")
    wrong_reference = client.get(f"/manage/ZZZZZZZZ/{token}")
    assert wrong_token.status_code == wrong_reference.status_code == 404
    assert text_of(wrong_token) == text_of(wrong_reference)


def test_attendees_can_be_replaced_by_typing_and_uploading(client, managed):
    booking, path = managed
    response = client.post(f"{path}/attendees", content_type="multipart/form-data", data={
        "attendees": "李四\n王五", "attendee_file": upload("姓名\n赵六\n".encode("gbk"), "a.csv")})
    assert response.status_code == 303
    db.session.refresh(booking)
    assert [a.name for a in booking.attendees] == ["李四", "王五", "赵六"]
    assert "已保存" in text_of(client.get(path))


def test_too_many_attendees_on_the_manage_page_are_refused(client, managed):
    booking, path = managed
    response = client.post(f"{path}/attendees", data={
        "attendees": "\n".join(f"人员{i}" for i in range(13))})
    assert response.status_code == 422
    assert "超过了团体人数" in field_errors(response, "attendees")
    db.session.refresh(booking)
    assert [a.name for a in booking.attendees] == ["张三"]


def test_party_size_can_be_lowered_but_not_raised(client, managed):
    booking, path = managed
    assert client.post(f"{path}/party-size", data={"party_size": "10"}).status_code == 303
    db.session.refresh(booking)
    db.session.refresh(booking.slot)
    assert booking.party_size == 10 and booking.slot.taken == 10

    raised = client.post(f"{path}/party-size", data={"party_size": "20"})
    assert raised.status_code == 422
    assert "只能减少人数" in field_errors(raised, "party_size")


def test_cancel_asks_first_then_releases_the_seats(client, managed):
    booking, path = managed
    confirm_step = client.get(f"{path}/cancel")
    assert "确定要取消这次预约吗" in text_of(confirm_step)
    db.session.refresh(booking)
    assert booking.state is BookingState.CONFIRMED  # looking at the question changes nothing

    assert client.post(f"{path}/cancel", data={"reason": "行程调整"}).status_code == 303
    db.session.refresh(booking)
    db.session.refresh(booking.slot)
    assert booking.state is BookingState.CANCELLED and booking.slot.taken == 0
    assert "已取消" in text_of(client.get(path))


def test_after_the_deadline_the_page_explains_and_cancelling_is_refused(
        client, create_venue, create_slot, create_booking):
    venue = open_every_day(create_venue())
    today = local_today()
    slot = create_slot(venue, day=today, start=time(23, 30))
    booking, token = create_booking(slot, now=at_local(today - timedelta(days=10), time(9),
                                                       venue.tz))
    path = open_link(client, f"/manage/{booking.reference}/{token}")

    page = text_of(client.get(path))
    assert "已过修改和取消的截止日期" in page
    assert f"{path}/party-size" not in client.get(path).get_data(as_text=True)

    client.post(f"{path}/cancel", data={})
    db.session.refresh(booking)
    assert booking.state is BookingState.CONFIRMED


def test_a_booking_cancelled_by_the_museum_says_so_prominently(client, managed):
    booking, path = managed
    booking.state = BookingState.CANCELLED
    booking.cancelled_by_museum = True
    booking.state_reason = "台风预警，暂停接待"
    db.session.commit()
    html = client.get(path).get_data(as_text=True)
    assert 'class="alert alert-museum"' in html and "台风预警，暂停接待" in html


def test_ics_download_is_a_valid_calendar_for_the_visit(client, managed):
    booking, path = managed
    response = client.get(f"{path}/booking.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.data)
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == f"booking-{booking.reference}@127.0.0.1"
    assert int(event["SEQUENCE"]) == booking.sequence
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == booking.slot.starts_at
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Asia/Shanghai"
    description = str(event["DESCRIPTION"])
    assert "专题党课 45分钟" in description and "陈静" in description
    assert path in str(event["URL"])


# --- recovering a lost link ------------------------------------------------------------------

def test_reference_and_phone_recover_a_fresh_link_and_the_old_one_stops(client, managed_link):
    booking, old_link = managed_link
    page = open_link(client, old_link)
    response = client.post("/find", data={"reference": booking.display_reference.lower(),
                                          "contact_phone": "+86 138-1234-1234"})
    assert response.status_code == 200
    new_link = manage_path_from(response.get_data(as_text=True))
    assert new_link != old_link
    assert client.get(old_link).status_code == 404
    assert client.get(page).status_code == 403        # the old link's cookie stops with it
    assert open_link(client, new_link) == page
    assert client.get(page).status_code == 200


def test_wrong_reference_and_wrong_phone_get_the_same_answer(client, managed):
    booking, _ = managed
    wrong_phone = client.post("/find", data={"reference": booking.reference,
                                             "contact_phone": "13900000000"})
    wrong_reference = client.post("/find", data={"reference": "ABCDEFGH",
                                                 "contact_phone": "13812341234"})
    assert wrong_phone.status_code == wrong_reference.status_code == 422
    assert "预约编号与手机号不匹配" in text_of(wrong_phone)
    assert text_of(wrong_phone) == text_of(wrong_reference)


class TestWithCsrfOn:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_csrf_token_is_refused_kindly(self, client, create_slot):
        slot = create_slot()
        response = book(client, slot)
        assert response.status_code == 400
        assert "页面已过期或请求无效" in text_of(response)
        assert bookings_count() == 0


class TestWithRateLimitOn:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_link_recovery_is_rate_limited(self, client, create_venue):
        create_venue()
        statuses = [client.post("/find", data={"reference": "ABCDEFGH",
                                               "contact_phone": "13812341234"}).status_code
                    for _ in range(6)]
        assert statuses[-1] == 429
        assert all(status != 429 for status in statuses[:5])


# --- language --------------------------------------------------------------------------------

def test_field_errors_follow_the_chosen_language(client, create_slot):
    slot = create_slot()
    client.set_cookie("lang", "en")
    response = book(client, slot, contact_phone="123", consent=None)
    assert "mainland China mobile" in field_errors(response, "contact_phone")
    assert "visit rules" in field_errors(response, "consent")


class TestWithASmallUploadLimit:
    @pytest.fixture
    def app_config(self):
        return {"MAX_CONTENT_LENGTH": 1024 * 1024}

    def test_an_upload_over_the_request_limit_gets_a_friendly_page(self, client, create_slot):
        slot = create_slot()
        response = book(client, slot, attendee_file=upload(b"x" * (1024 * 1024 + 10), "a.csv"))
        assert response.status_code == 413
        assert "上传的内容过大（上限 1 MB）" in text_of(response)
        assert bookings_count() == 0
