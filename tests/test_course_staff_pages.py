"""The scheduler's staff pages: each form saves good input, shows a refusal beside the field
it concerns (never a 500), and is closed to guides."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from booking.models import BookingState, Role, Slot, SlotState, VenueDay
from booking.models.db import db
from courses.models import Course, CourseKind, Lecturer, LecturerAbsence
from courses.rules import scheduling
from tests.fixtures.factories import next_open_day

# The pages schedule with the real clock: a fixed day far enough ahead, and a week of 2027
# that contains the holiday Monday 4 October.
FAR_DAY = date(2027, 10, 12)


@pytest.fixture
def venue(create_venue):
    return create_venue("LBC", groups_on_holidays=False)


@pytest.fixture
def room(venue, create_room):
    return create_room(venue, "报告厅", 120)


@pytest.fixture
def course(venue, room, create_course):
    return create_course(venue, default_room=room)


@pytest.fixture
def staff(create_user, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


def course_form(venue, room, **changes) -> dict:
    data = {"venue": venue.id, "kind": "party_day", "code": "party-day",
            "title": "学党史、悟思想、办实事、开新局 红色主题党日", "title_en": "Red Party Day",
            "summary": "主题党日", "audience": "基层党组织",
            "modules_text": "瞻仰铜像 | 15\n讲解参观 | Guided visit | 40\n重温入党誓词 | 15",
            "training_hours": "1.5", "group_min": "10", "group_max": "50",
            "requires_approval": "y", "min_working_days_ahead": "", "max_days_ahead": "",
            "default_room": room.id, "equipment": "党旗\n入党誓词背景板\n扩音设备"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- access ----------------------------------------------------------------------------------

def test_guides_and_strangers_cannot_open_the_scheduler(client, create_user, login, course):
    assert client.get("/staff/courses/catalogue").status_code == 302
    login(create_user("guide", Role.GUIDE))
    for url in ("/staff/courses/catalogue", "/staff/courses/sessions",
                "/staff/courses/lecturers", "/staff/courses/closures"):
        assert client.get(url).status_code == 403, url


# --- the catalogue ---------------------------------------------------------------------------

def test_the_course_list_shows_modules_and_actions(client, staff, course):
    page = text(client.get("/staff/courses/catalogue"))
    assert "学习百年党史 感悟刘帅精神" in page and "重温入党誓词" in page
    assert f"/staff/courses/catalogue/{course.id}/edit" in page


def test_creating_a_course_saves_its_modules_in_order(client, staff, venue, room):
    response = client.post("/staff/courses/catalogue/new", data=course_form(venue, room))
    assert response.status_code == 302
    course = db.session.scalar(select(Course).filter_by(code="party-day"))
    assert course.kind is CourseKind.PARTY_DAY and course.requires_approval
    assert [(m.title, m.title_en, m.minutes) for m in course.modules] == [
        ("瞻仰铜像", "", 15), ("讲解参观", "Guided visit", 40), ("重温入党誓词", "", 15)]
    assert course.duration_minutes == 70 and course.equipment_items == [
        "党旗", "入党誓词背景板", "扩音设备"]
    assert course.min_working_days_ahead is None and course.default_room == room


@pytest.mark.parametrize("changes, message", [
    ({"group_min": "20", "group_max": "10"}, "最多人数不能少于最少人数"),
    ({"group_min": "0"}, "最少人数至少为 1"),
    ({"modules_text": "讲解参观 | 40\n宣誓"}, "第 2 行格式应为"),
    ({"modules_text": ""}, "请至少填写一个环节"),
    ({"training_hours": "1.3"}, "学时以 0.5 为单位"),
    ({"training_hours": "-1"}, "学时应在 0 至 99.5 之间"),
    ({"code": "Party Day!"}, "代码只能包含小写字母"),
    ({"title": ""}, "请填写名称"),
    ({"max_days_ahead": "1", "min_working_days_ahead": "5"}, "预约窗口无效"),
    ({"group_max": "abc"}, "最多人数"),
])
def test_a_bad_course_form_shows_the_error_beside_the_field(client, staff, venue, room,
                                                            changes, message):
    response = client.post("/staff/courses/catalogue/new", data=course_form(venue, room,
                                                                             **changes))
    assert response.status_code == 422
    page = text(response)
    assert message in page and 'class="error"' in page
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_a_taken_course_code_is_refused_beside_the_code(client, staff, venue, room, course):
    response = client.post("/staff/courses/catalogue/new",
                           data=course_form(venue, room, code=course.code))
    assert response.status_code == 422
    assert "已被其他课程使用" in text(response)


def test_a_room_of_another_venue_is_refused(client, staff, venue, room, create_venue,
                                            create_room):
    other_room = create_room(create_venue("KZM", name="开州博物馆"), "一号展厅", 80)
    response = client.post("/staff/courses/catalogue/new",
                           data=course_form(venue, room, default_room=other_room.id))
    assert response.status_code == 422 and "默认场地必须属于本课程的场馆" in text(response)


def test_editing_a_course_says_which_sessions_were_updated(client, staff, venue, room, course):
    scheduling.schedule_single(db.session, course, FAR_DAY, time(9), lecturer=None, room=None,
                               capacity=None, user=None)
    db.session.commit()
    form = course_form(venue, room, code=course.code, kind="themed_course", title="新的标题")
    response = client.post(f"/staff/courses/catalogue/{course.id}/edit", data=form,
                           follow_redirects=True)
    page = text(response)
    assert response.status_code == 200 and "1 个尚未开始的场次已同步更新" in page
    assert db.session.scalar(select(Slot.title)) == "新的标题"


def test_the_edit_form_is_prefilled_with_the_modules(client, staff, course):
    page = text(client.get(f"/staff/courses/catalogue/{course.id}/edit"))
    assert "参观展厅 | 30\n专题党课 | 45\n重温入党誓词 | 15" in page


def test_deactivating_a_course_hides_it_from_scheduling(client, staff, course):
    page = text(client.post(f"/staff/courses/catalogue/{course.id}/deactivate",
                            follow_redirects=True))
    assert "已停用，不能再安排新场次" in page
    assert db.session.get(Course, course.id).active is False
    assert course.title not in text(client.get("/staff/courses/sessions/new"))
    client.post(f"/staff/courses/catalogue/{course.id}/activate")
    assert db.session.get(Course, course.id).active is True


# --- lecturers -------------------------------------------------------------------------------

def test_adding_a_lecturer_with_a_guide_account(client, staff, venue, course, create_user):
    guide = create_user("chenjing", Role.GUIDE)
    response = client.post("/staff/courses/lecturers/new", data={
        "name": "陈静", "title": "宣讲员", "venue": venue.id, "staff_user": guide.id,
        "courses": [course.id], "active": "y"})
    assert response.status_code == 302
    lecturer = db.session.scalar(select(Lecturer).filter_by(name="陈静"))
    assert lecturer.staff_user == guide and lecturer.courses == [course]


def test_only_guide_accounts_are_offered_for_linking(client, staff, venue, create_user):
    create_user("chenjing", Role.GUIDE)
    page = text(client.get("/staff/courses/lecturers/new"))
    assert "chenjing" in page and "（desk）" not in page
    response = client.post("/staff/courses/lecturers/new", data={
        "name": "陈静", "title": "宣讲员", "venue": venue.id, "staff_user": staff.id,
        "active": "y"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Lecturer)) == 0


def test_a_lecturer_needs_a_name(client, staff, venue):
    response = client.post("/staff/courses/lecturers/new", data={
        "name": "", "title": "讲解员", "venue": venue.id, "staff_user": 0})
    assert response.status_code == 422 and "请填写姓名" in text(response)


def test_an_absence_is_added_and_removed(client, staff, venue, create_lecturer):
    chen = create_lecturer("陈静", venue)
    response = client.post(f"/staff/courses/lecturers/{chen.id}/absences",
                           data={"day": FAR_DAY.isoformat(), "note": "休假"})
    assert response.status_code == 302
    absence = db.session.scalar(select(LecturerAbsence))
    assert (absence.day, absence.note) == (FAR_DAY, "休假")
    assert "休假" in text(client.get(f"/staff/courses/lecturers/{chen.id}/edit"))
    client.post(f"/staff/courses/lecturers/{chen.id}/absences/{absence.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(LecturerAbsence)) == 0


def test_an_absence_on_a_day_with_sessions_is_refused_listing_them(client, staff, venue, course,
                                                                   create_lecturer):
    chen = create_lecturer("陈静", venue, [course])
    created = scheduling.schedule_single(db.session, course, FAR_DAY, time(14), lecturer=chen,
                                         room=None, capacity=None, user=None)
    db.session.commit()
    response = client.post(f"/staff/courses/lecturers/{chen.id}/absences",
                           data={"day": FAR_DAY.isoformat(), "note": "病假"})
    assert response.status_code == 422
    page = text(response)
    assert "请先为这些场次更换讲解员" in page
    assert f"/staff/courses/sessions/{created.id}/edit" in page
    assert db.session.scalar(select(func.count()).select_from(LecturerAbsence)) == 0
    # The lecturer's own form above still shows the lecturer, not an empty form.
    assert 'value="陈静"' in page
    assert f'checked id="courses-0" name="courses" type="checkbox" value="{course.id}"' in page


def test_an_absence_without_a_date_is_refused_beside_the_date(client, staff, venue,
                                                              create_lecturer):
    chen = create_lecturer("陈静", venue)
    response = client.post(f"/staff/courses/lecturers/{chen.id}/absences",
                           data={"day": "not-a-date", "note": ""})
    assert response.status_code == 422 and 'class="error"' in text(response)


# --- sessions --------------------------------------------------------------------------------

def test_the_agenda_lists_sessions_with_filters(client, staff, venue, course, create_lecturer):
    chen = create_lecturer("陈静", venue, [course])
    scheduling.schedule_single(db.session, course, FAR_DAY, time(9), lecturer=chen, room=None,
                               capacity=None, user=None)
    db.session.commit()
    page = text(client.get(f"/staff/courses/sessions?venue={venue.id}&start={FAR_DAY}"
                           f"&end={FAR_DAY}&lecturer={chen.id}"))
    assert "09:00–10:30" in page and "陈静" in page and "报告厅" in page
    other = text(client.get(f"/staff/courses/sessions?venue={venue.id}&start={FAR_DAY}"
                            f"&end={FAR_DAY}&lecturer=999"))
    assert "09:00–10:30" in other  # an unknown lecturer filter means "all", not an error


@pytest.mark.parametrize("query", ["start=nonsense", "start=2027-10-12&end=2027-01-01",
                                   "start=2027-01-01&end=2028-12-31", "venue=abc&course=x"])
def test_bad_agenda_filters_never_fail(client, staff, course, query):
    assert client.get(f"/staff/courses/sessions?{query}").status_code == 200


def test_scheduling_one_session(client, staff, course, room):
    assert course.title in text(client.get("/staff/courses/sessions/new"))
    response = client.post(f"/staff/courses/sessions/new?course={course.id}", data={
        "day": FAR_DAY.isoformat(), "start": "09:00", "room": 0, "lecturer": 0, "capacity": ""})
    assert response.status_code == 302
    slot = db.session.scalar(select(Slot))
    assert (slot.day, slot.room, slot.capacity) == (FAR_DAY, room, 120)


def test_a_room_clash_is_shown_beside_the_room(client, staff, venue, course, create_course):
    other = create_course(venue, code="party-day", title="红色主题党日")
    scheduling.schedule_single(db.session, other, FAR_DAY, time(9), lecturer=None,
                               room=course.default_room, capacity=None, user=None)
    db.session.commit()
    response = client.post(f"/staff/courses/sessions/new?course={course.id}", data={
        "day": FAR_DAY.isoformat(), "start": "10:00", "room": 0, "lecturer": 0})
    assert response.status_code == 422
    page = text(response)
    assert "报告厅 在 2027-10-12 09:00–10:30 已安排《红色主题党日》" in page
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 1


def test_a_session_form_with_missing_fields_is_refused(client, staff, course):
    response = client.post(f"/staff/courses/sessions/new?course={course.id}", data={
        "day": "", "start": "25:00", "room": 0, "lecturer": 0, "capacity": "-3"})
    assert response.status_code == 422
    page = text(response)
    assert "请选择日期" in page and "容量应为正整数" in page


def pattern_form(**changes) -> dict:
    data = {"first_day": "2027-10-01", "last_day": "2027-10-11",
            "weekdays": ["0", "1", "2", "3", "4", "5", "6"], "times": "09:00，14:00",
            "room": "0", "lecturer": "0", "capacity": "", "action": "preview"}
    data.update(changes)
    return data


def test_the_pattern_preview_shows_dates_and_skipped_days_and_creates_nothing(
        client, staff, course):
    response = client.post(f"/staff/courses/sessions/pattern?course={course.id}",
                           data=pattern_form())
    assert response.status_code == 200
    page = text(response)
    assert "将生成 10 个场次，跳过 6 天" in page
    assert "2027-10-06 周三</strong>" in page and "09:00–10:30、14:00–15:30" in page
    assert "2027-10-01 周五：节假日（国庆节）" in page
    assert "2027-10-11 周一：闭馆日" in page
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0


def test_confirming_a_pattern_creates_the_previewed_sessions(client, staff, course):
    response = client.post(f"/staff/courses/sessions/pattern?course={course.id}",
                           data=pattern_form(action="confirm"))
    assert response.status_code == 302
    days = db.session.scalars(select(Slot.day).order_by(Slot.starts_at)).all()
    assert sorted(set(days)) == [date(2027, 10, d) for d in range(6, 11)] and len(days) == 10


def test_a_pattern_clash_is_shown_in_the_preview_and_confirming_creates_nothing(
        client, staff, venue, course, create_course):
    other = create_course(venue, code="party-day", title="红色主题党日")
    scheduling.schedule_single(db.session, other, date(2027, 10, 8), time(14), lecturer=None,
                               room=course.default_room, capacity=None, user=None)
    db.session.commit()
    url = f"/staff/courses/sessions/pattern?course={course.id}"
    page = text(client.post(url, data=pattern_form()))
    assert "无法生成，不会创建任何场次" in page
    assert "2027-10-08 14:00 的场次无法安排" in page and "红色主题党日" in page
    assert "确认生成" not in page
    response = client.post(url, data=pattern_form(action="confirm"))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 1


@pytest.mark.parametrize("changes, message", [
    ({"weekdays": []}, "请至少选择一个星期几"),
    ({"times": "9点"}, "不是有效的时间"),
    ({"times": "16:30"}, "超出开放时间"),
    ({"last_day": "2027-09-01"}, "结束日期不能早于开始日期"),
])
def test_a_bad_pattern_is_refused_beside_the_field(client, staff, course, changes, message):
    response = client.post(f"/staff/courses/sessions/pattern?course={course.id}",
                           data=pattern_form(**changes))
    assert response.status_code == 422 and message in text(response)


@pytest.fixture
def booked(course, create_slot, create_booking):
    """A session within the booking window, with a group of 30 booked."""
    created = scheduling.schedule_single(db.session, course, next_open_day(), time(9),
                                         lecturer=None, room=None, capacity=50, user=None)
    db.session.commit()
    booking, _ = create_booking(created.slot, 30, organisation_name="开州中学")
    return created, booking


def test_lowering_capacity_below_the_seats_taken_is_refused_beside_capacity(client, staff,
                                                                            booked, room):
    created, _ = booked
    url = f"/staff/courses/sessions/{created.id}/edit"
    assert "开州中学" in text(client.get(url))
    response = client.post(url, data={"room": room.id, "lecturer": 0, "capacity": 20})
    assert response.status_code == 422 and "容量不能低于已预约人数" in text(response)
    assert client.post(url, data={"room": room.id, "lecturer": 0,
                                  "capacity": 60}).status_code == 302
    assert db.session.get(Slot, created.slot_id).capacity == 60


def test_changing_the_lecturer_on_the_edit_page(client, staff, venue, booked, room,
                                                create_lecturer):
    created, _ = booked
    chen = create_lecturer("陈静", venue, [created.course])
    response = client.post(f"/staff/courses/sessions/{created.id}/edit",
                           data={"room": room.id, "lecturer": chen.id, "capacity": 50})
    assert response.status_code == 302
    assert db.session.get(Slot, created.slot_id).lecturer_name == "陈静"


def test_cancelling_a_session_asks_for_confirmation_and_a_reason(client, staff, booked):
    created, booking = booked
    url = f"/staff/courses/sessions/{created.id}/cancel"
    confirm = text(client.get(url))
    assert "开州中学" in confirm and "确认取消场次" in confirm
    response = client.post(url, data={"reason": ""})
    assert response.status_code == 422 and "请填写取消理由" in text(response)
    assert client.post(url, data={"reason": "场馆临时活动"}).status_code == 302
    db.session.refresh(booking)
    assert booking.state is BookingState.CANCELLED and booking.cancelled_by_museum
    assert db.session.get(Slot, created.slot_id).state is SlotState.CANCELLED


# --- closed days -----------------------------------------------------------------------------

def test_closing_a_day_shows_what_it_cancels_then_closes_it(client, staff, venue, booked):
    created, booking = booked
    day = created.slot.day.isoformat()
    data = {"venue": venue.id, "day": day, "kind": "close", "reason": "设备维修"}
    page = text(client.post("/staff/courses/closures", data={**data, "action": "preview"}))
    assert "确认临时闭馆" in page and "开州中学" in page
    assert booking.state is BookingState.CONFIRMED
    response = client.post("/staff/courses/closures", data={**data, "action": "confirm"},
                           follow_redirects=True)
    assert "已临时闭馆：取消 1 个场次，1 个预约" in text(response)
    assert "设备维修" in text(response)
    db.session.refresh(booking)
    assert booking.state is BookingState.CANCELLED and booking.state_reason == "设备维修"


def test_a_closure_without_a_reason_is_refused_beside_the_reason(client, staff, venue):
    response = client.post("/staff/courses/closures", data={
        "venue": venue.id, "day": next_open_day().isoformat(), "kind": "close", "reason": "",
        "action": "preview"})
    assert response.status_code == 422 and "请填写闭馆原因" in text(response)


def test_forcing_a_holiday_monday_open_and_withdrawing_it(client, staff, create_venue):
    museum = create_venue("KZM", name="开州博物馆", open_on_holiday_closed_day=False)
    response = client.post("/staff/courses/closures", data={
        "venue": museum.id, "day": "2027-10-04", "kind": "open", "reason": "国庆特别开放"},
        follow_redirects=True)
    assert "已设为特别开放" in text(response) and "国庆特别开放" in text(response)
    row = db.session.scalar(select(VenueDay).filter_by(venue_id=museum.id))
    assert row.closed is False
    client.post(f"/staff/courses/closures/{row.id}/remove")
    db.session.refresh(row)
    assert row.closed is None


def test_a_past_day_cannot_be_closed_on_the_page(client, staff, venue):
    response = client.post("/staff/courses/closures", data={
        "venue": venue.id, "day": (date.today() - timedelta(days=3)).isoformat(),
        "kind": "close", "reason": "维修", "action": "preview"})
    assert response.status_code == 422 and "不能修改已经过去的日期" in text(response)


class TestWithCsrfOn:
    """The two-step forms carry their token into the confirming step."""

    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def test_a_pattern_is_previewed_and_confirmed_with_the_pages_own_tokens(
            self, client, create_user, course):
        create_user("desk", Role.STAFF)
        login_page = text(client.get("/staff/login"))
        client.post("/staff/login", data={"username": "desk", "password": "correct horse battery",
                                          "csrf_token": self.token(login_page)})
        url = f"/staff/courses/sessions/pattern?course={course.id}"
        assert client.post(url, data=pattern_form()).status_code == 400  # no token
        form_page = text(client.get(url))
        preview = text(client.post(url, data={**pattern_form(),
                                              "csrf_token": self.token(form_page)}))
        confirm_form = preview[preview.index('id="preview"'):]
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"',
                                 confirm_form))
        weekdays = re.findall(r'name="weekdays" value="(\d)"', confirm_form)
        response = client.post(url, data={**fields, "weekdays": weekdays,
                                          "csrf_token": self.token(confirm_form)})
        assert response.status_code == 302
        assert db.session.scalar(select(func.count()).select_from(Slot)) == 10


def test_requiring_an_introduction_letter_is_saved_and_reaches_the_sessions(
        client, staff, venue, room, course):
    scheduling.schedule_single(db.session, course, FAR_DAY, time(9), lecturer=None, room=None,
                               capacity=None, user=None)
    db.session.commit()
    assert not db.session.scalar(select(Slot.requires_letter))
    form = course_form(venue, room, code=course.code, kind="themed_course",
                       requires_letter="y")
    response = client.post(f"/staff/courses/catalogue/{course.id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).requires_letter
    assert db.session.scalar(select(Slot.requires_letter))
    assert "需介绍信" in text(client.get("/staff/courses/catalogue"))
    edit = text(client.get(f"/staff/courses/catalogue/{course.id}/edit"))
    assert re.search(r'<input[^>]*checked[^>]*name="requires_letter"|'
                     r'<input[^>]*name="requires_letter"[^>]*checked', edit)
