"""Forms that keep what was typed: an attendee file is read into the names list on the first
submit, the organisation kind is chosen on purpose, and the manage page's changes follow
POST-redirect-GET with the error summary at the top."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.models import Booking, Role
from booking.models.db import db
from tests.fixtures.manage_links import open_manage_link
from tests.test_booking_form import bookings_count, field_errors, form_data, text_of, upload


def textarea(response, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>',
                      response.get_data(as_text=True), flags=re.S)
    return match.group(1).strip() if match else ""


def selected_options(response, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>',
                            response.get_data(as_text=True), flags=re.S).group(1)
    return re.findall(r'<option([^>]*)value="([^"]*)"', select_html)


# --- the attendee file is read on the first submit -----------------------------------------

def test_a_failed_booking_submit_keeps_the_uploaded_names_and_says_so(client, create_slot):
    slot = create_slot()
    response = client.post(f"/slots/{slot.id}/book", content_type="multipart/form-data",
                           data=form_data(contact_phone="12345", attendees="张三",
                                          attendee_file=upload("姓名\n赵六\n钱七\n".encode(),
                                                               "名单.csv")))
    assert response.status_code == 422
    assert "手机号码" in field_errors(response, "contact_phone")
    assert textarea(response, "attendees").splitlines() == ["张三", "赵六", "钱七"]
    assert "已从文件读入 2 个姓名" in text_of(response)
    assert bookings_count() == 0

    # Sent again as shown (the browser cannot refill a file input): the names count once.
    again = client.post(f"/slots/{slot.id}/book", content_type="multipart/form-data",
                        data=form_data(attendees=textarea(response, "attendees")))
    assert again.status_code == 302
    assert [a.name for a in db.session.scalar(select(Booking)).attendees] == [
        "张三", "赵六", "钱七"]


def test_no_file_no_file_message(client, create_slot):
    slot = create_slot()
    response = client.post(f"/slots/{slot.id}/book", data=form_data(contact_phone="12345"))
    assert response.status_code == 422 and "已从文件读入" not in text_of(response)


def test_a_refused_file_is_still_refused_beside_its_field_with_other_errors(client,
                                                                            create_slot):
    slot = create_slot()
    response = client.post(f"/slots/{slot.id}/book", content_type="multipart/form-data",
                           data=form_data(contact_phone="12345",
                                          attendee_file=upload(b"x" * (512 * 1024 + 1),
                                                               "a.csv")))
    assert response.status_code == 422
    assert "文件过大" in field_errors(response, "attendee_file")
    assert "手机号码" in field_errors(response, "contact_phone")
    assert "已从文件读入" not in text_of(response)


@pytest.fixture
def managed(client, create_slot, create_booking):
    slot = create_slot(capacity=40)
    booking, token = create_booking(slot, party_size=12, attendee_names=["张三"])
    return booking, open_manage_link(client, booking.reference, token)


def test_a_refused_attendee_change_keeps_the_file_names_on_the_manage_page(client, managed):
    booking, path = managed
    names = "姓名\n" + "\n".join(f"人员{i}" for i in range(12))
    response = client.post(f"{path}/attendees", content_type="multipart/form-data", data={
        "attendees": "李四", "attendee_file": upload(names.encode(), "a.csv")})
    assert response.status_code == 422
    assert "超过了团体人数" in field_errors(response, "attendees")
    assert textarea(response, "attendees").splitlines()[:2] == ["李四", "人员0"]
    assert "已从文件读入 12 个姓名" in text_of(response)
    db.session.refresh(booking)
    assert [a.name for a in booking.attendees] == ["张三"]


def test_the_front_desk_reads_an_attendee_file_into_the_list(client, login, create_user,
                                                             create_slot):
    slot = create_slot(capacity=40)
    login(create_user("desk", Role.STAFF))
    data = {"slot": slot.id, "organisation_name": "开州区档案馆党支部",
            "organisation_kind": "party_organisation", "contact_name": "周老师",
            "contact_phone": "137", "party_size": 18, "language": "zh",
            "attendees": "", "attendee_file": upload("姓名\n孙八\n周九\n".encode("gbk"), "n.csv")}
    refused = client.post("/staff/bookings/new", data=data, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert textarea(refused, "attendees").splitlines() == ["孙八", "周九"]
    assert "已从文件读入 2 个姓名" in text_of(refused)

    data.update(contact_phone="13712345678",
                attendee_file=upload("姓名\n吴十\n".encode(), "n.csv"))
    made = client.post("/staff/bookings/new", data=data, content_type="multipart/form-data")
    assert made.status_code == 302, made.get_data(as_text=True)
    assert [a.name for a in db.session.scalar(select(Booking)).attendees] == ["吴十"]


# --- 单位类型 starts blank ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/slots/{id}/book", "/slots/{id}/waitlist"])
def test_the_organisation_kind_starts_blank_and_is_required(client, create_slot, path):
    slot = create_slot()
    url = path.format(id=slot.id)
    page = client.get(url)
    options = selected_options(page, "organisation_kind")
    assert options[0][1] == "" and all("selected" not in attrs for attrs, _ in options[1:])
    assert re.search(r'<select[^>]*name="organisation_kind"[^>]*required', page.get_data(
        as_text=True))
    response = client.post(url, data=form_data(organisation_kind=""))
    assert response.status_code == 422
    assert "请选择单位类型" in field_errors(response, "organisation_kind")
    assert bookings_count() == 0


def test_the_front_desk_and_offline_forms_start_the_kind_blank(client, login, create_user,
                                                               create_slot):
    slot = create_slot()
    login(create_user("boss", Role.ADMIN))
    for url in (f"/staff/bookings/new?slot={slot.id}", "/staff/offline-visits"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert selected_options(page, "organisation_kind")[0][1] == "", url
    response = client.post("/staff/bookings/new", data={
        "slot": slot.id, "organisation_name": "开州区档案馆党支部", "organisation_kind": "",
        "contact_name": "周老师", "contact_phone": "13712345678", "party_size": 18,
        "language": "zh"})
    assert response.status_code == 422
    assert "请选择单位类型" in field_errors(response, "organisation_kind")


# --- the manage page: POST-redirect-GET, the summary at the top ------------------------------

def test_a_manage_change_redirects_with_303_and_a_message(client, managed):
    booking, path = managed
    response = client.post(f"{path}/party-size", data={"party_size": "10"})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "团体人数已改为 10 人" in text_of(client.get(path))


def test_a_refused_manage_change_shows_the_summary_first_linking_to_the_field(client,
                                                                             managed):
    booking, path = managed
    response = client.post(f"{path}/party-size", data={"party_size": "30"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html.index('class="error-summary"')
    assert summary < html.index("预约信息")  # above the booking's details, not 1,400 px down
    assert re.search(r'class="error-summary"[^>]*tabindex="-1"', html)
    assert 'href="#party_size"' in html[summary:html.index("</ul>", summary)]
    # The page says where it lives, so the script can make a reload a GET of the manage page.
    assert re.search(rf'<link rel="canonical" href="{re.escape(path)}" data-replace-state>',
                     html)
    assert 'data-replace-state' not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("change", ["attendees", "party-size"])
def test_opening_a_change_address_without_posting_shows_the_manage_page(client, managed,
                                                                        change):
    booking, path = managed
    response = client.get(f"{path}/{change}?lang=en")
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "no-store" in response.headers["Cache-Control"]


def test_a_too_long_cancel_reason_is_refused_with_the_summary(client, managed):
    booking, path = managed
    response = client.post(f"{path}/cancel", data={"confirm": "yes", "reason": "长" * 301})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.get_data(as_text=True)
    db.session.refresh(booking)
    assert booking.is_active


# --- the language switch keeps a draft: every form that takes typing opts in --------------

def test_every_typed_form_keeps_a_draft_across_the_language_switch(client, login, create_user,
                                                                   create_slot, managed):
    booking, path = managed
    slot = create_slot(capacity=40)
    public = [f"/slots/{slot.id}/book", f"/slots/{slot.id}/waitlist", path, f"{path}/cancel"]
    for url in public:
        html = client.get(url).get_data(as_text=True)
        assert "data-keep-draft" in html, url
        assert '<script src="/static/js/forms.js" defer></script>' in html, url
    login(create_user("desk", Role.STAFF))
    for url in ("/staff/bookings/new", f"/staff/bookings/{booking.reference}/edit",
                f"/staff/bookings/{booking.reference}/move",
                f"/staff/bookings/{booking.reference}/cancel"):
        assert "data-keep-draft" in client.get(url).get_data(as_text=True), url


def test_the_draft_script_keeps_no_file_password_or_token_and_clears_what_it_restored():
    from pathlib import Path
    script = (Path(__file__).resolve().parent.parent / "static/js/forms.js").read_text()
    assert '["file", "password", "hidden", "submit", "button", "reset"]' in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "storage.removeItem(name)" in script
