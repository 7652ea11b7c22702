"""Feedback on a completed visit: one per booking without a login (the manage link or the
mail's link authorises it), staff averages per programme and lecturer, hidden comments that
leave the averages alone, and the retention purge."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.clock import utcnow
from booking.models import AuditEntry, BookingState, Feedback, Role
from booking.models.db import db
from booking.rules import feedback as rules
from tests.fixtures.browser import PHONE, browser_skip_reason, new_page


@pytest.fixture
def completed(create_slot, create_booking):
    """Three completed bookings: two on the themed course by 陈静, one party day by 李明."""
    from tests.fixtures.factories import past_open_day
    course = create_slot(day=past_open_day(9), lecturer_name="陈静")
    party = create_slot(day=past_open_day(9), programme="party-day", kind="party_day",
                        title="红色主题党日", lecturer_name="李明", start=course.starts_at.time()
                        .replace(hour=14))
    made = []
    for slot, name in ((course, "甲单位"), (course, "乙单位"), (party, "丙单位")):
        booking, token = create_booking(slot, organisation_name=name,
                                        now=slot.starts_at - timedelta(days=10))
        booking.state = BookingState.COMPLETED
        made.append((booking, token))
    db.session.commit()
    return made


def post_feedback(client, booking, token, overall, lecturer=None, comment=""):
    data = {"overall": str(overall), "comment": comment}
    if lecturer:
        data["lecturer"] = str(lecturer)
    return client.post(f"/feedback/{booking.reference}/{token}", data=data)


def test_one_feedback_per_booking_a_second_is_refused(client, completed):
    booking, token = completed[0]
    assert post_feedback(client, booking, token, 5, 4, "讲得很好").status_code == 302
    second = post_feedback(client, booking, token, 1, 1, "again")
    assert second.status_code == 409 and "已经评价过" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Feedback.id))) == 1
    with pytest.raises(Exception, match="已经评价过"):
        rules.give_feedback(db.session, booking, 3, None, "")


def test_the_mails_link_works_and_a_wrong_token_is_not_found(app, client, completed):
    booking, _ = completed[1]
    mail_token = rules.feedback_token(booking.reference, app.config["SECRET_KEY"])
    assert client.get(f"/feedback/{booking.reference}/{mail_token}").status_code == 200
    assert client.get(f"/feedback/{booking.reference}/{'x' * 32}").status_code == 404
    assert post_feedback(client, booking, mail_token, 4).status_code == 302


def test_feedback_only_after_the_visit_is_completed(client, create_booking):
    booking, token = create_booking()
    page = client.get(f"/feedback/{booking.reference}/{token}").get_data(as_text=True)
    assert "活动完成后才能评价" in page and "提交评价" not in page
    assert post_feedback(client, booking, token, 5).status_code == 409
    assert db.session.scalar(select(func.count(Feedback.id))) == 0


def test_a_rating_out_of_range_is_refused_with_a_message(client, completed):
    booking, token = completed[0]
    response = post_feedback(client, booking, token, 9)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Feedback.id))) == 0


def test_hidden_comments_leave_the_averages_unchanged(client, completed, create_user, login):
    for (booking, token), (overall, lecturer, comment) in zip(
            completed, [(5, 5, "很好"), (2, 3, "骂人的话"), (4, None, "")]):
        post_feedback(client, booking, token, overall, lecturer, comment)
    login(create_user("desk", Role.STAFF))
    before = client.get("/staff/feedback").get_data(as_text=True)
    assert 'data-overall="liushuai-spirit">3.50<' in before
    assert 'data-overall="party-day">4.00<' in before and "骂人的话" in before
    abusive = db.session.scalar(select(Feedback).where(Feedback.comment == "骂人的话"))
    assert client.post(f"/staff/feedback/{abusive.id}/hide").status_code == 302
    after = client.get("/staff/feedback").get_data(as_text=True)
    assert "骂人的话" not in after and "很好" in after
    assert 'data-overall="liushuai-spirit">3.50<' in after
    lecturers = {r.key: (r.count, r.overall, r.lecturer)
                 for r in rules.ratings_by_lecturer(db.session)}
    assert lecturers == {"陈静": (2, 3.5, 4.0), "李明": (1, 4.0, None)}
    assert "feedback.hide" in db.session.scalars(select(AuditEntry.action)).all()


def test_the_manage_page_and_the_certificates_mail_link_to_the_form(app, client, completed):
    booking, token = completed[0]
    page = client.get(f"/manage/{booking.reference}/{token}", follow_redirects=True).get_data(as_text=True)
    from booking.rules.feedback import feedback_token
    assert f"/feedback/{booking.reference}/{feedback_token(booking.reference, app.config['SECRET_KEY'])}" in page
    assert token not in page
    from booking.usecases import notifications
    with app.test_request_context():
        message = notifications.queue_booking_mail(db.session, booking, "certificates_ready")
    mail_token = rules.feedback_token(booking.reference, app.config["SECRET_KEY"])
    assert f"/feedback/{booking.reference}/{mail_token}" in message.body_text


def test_the_purge_blanks_comments_and_unlinks_bookings_keeping_ratings(client, completed):
    booking, token = completed[0]
    post_feedback(client, booking, token, 5, 4, "联系人王建国 13812341234")
    assert rules.purge_feedback_personal_data(db.session, utcnow() - timedelta(days=1)) == 0
    assert rules.purge_feedback_personal_data(db.session, utcnow() + timedelta(seconds=1)) == 1
    db.session.commit()
    item = db.session.scalar(select(Feedback))
    assert (item.comment, item.booking_id, item.overall, item.lecturer_rating) == ("", None, 5, 4)
    assert rules.purge_feedback_personal_data(db.session, utcnow() + timedelta(days=1)) == 0


@pytest.mark.slow
@pytest.mark.browser
def test_a_group_fills_the_feedback_form_on_a_phone(app, completed, live_server, browser,
                                                    screenshot_dir):
    if browser_skip_reason():
        pytest.skip(browser_skip_reason())
    booking, token = completed[2]
    reference = booking.reference
    db.session.commit()  # end the test's read transaction before the server writes
    page = new_page(browser, live_server, "zh", PHONE)
    page.goto(f"{live_server}/feedback/{reference}/{token}")
    page.get_by_role("group", name="总体评价").get_by_text("4 星").click()
    page.get_by_role("group", name=re.compile("讲解员")).get_by_text("5 星").click()
    page.get_by_label("意见和建议（选填）").fill("讲解生动，孩子们很喜欢。")
    page.screenshot(path=str(screenshot_dir / "feedback-phone.png"), full_page=True)
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector("#feedback-given")
    assert "谢谢您的评价" in page.content()
    page.context.close()
    db.session.remove()
    item = db.session.scalar(select(Feedback))
    assert (item.overall, item.lecturer_rating, item.comment) == (4, 5, "讲解生动，孩子们很喜欢。")
