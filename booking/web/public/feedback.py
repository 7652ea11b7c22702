"""The feedback form under /feedback/<reference>/<token>: reached from the manage page (the
manage token) or the certificates-ready mail (the feedback token); one per booking."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from booking.errors import BookingError, NotFound
from booking.models.db import db
from booking.rules import feedback as rules
from booking.usecases import feedback as cases
from booking.web.public import bp
from booking.web.responses import private

STARS = [(str(n), str(n)) for n in range(5, 0, -1)]


class FeedbackForm(FlaskForm):
    overall = RadioField(_l("总体评价"), choices=STARS,
                         validators=[InputRequired(_l("请选择总体评价（1–5 星）。"))])
    lecturer = RadioField(_l("讲解员 / 授课老师"), choices=STARS, validators=[Optional()])
    comment = TextAreaField(_l("意见和建议（选填）"),
                            validators=[Length(max=rules.MAX_COMMENT,
                                               message=_l("意见最多 %(max)d 个字。"))])


def _booking(reference: str, token: str):
    try:
        return rules.find_booking_for_feedback(db.session, reference, token,
                                               current_app.config["SECRET_KEY"])
    except NotFound:
        abort(404)


def _page(booking, token, form, status=200):
    return private(current_app.make_response((render_template(
        "booking/feedback.html", booking=booking, slot=booking.slot, token=token, form=form,
        given=rules.feedback_of(db.session, booking),
        allowed=rules.can_give_feedback(booking)), status)))


@bp.route("/feedback/<reference>/<token>", methods=["GET", "POST"])
def feedback(reference: str, token: str):
    booking = _booking(reference, token)
    form = FeedbackForm()
    if not form.is_submitted():
        return _page(booking, token, form)
    if not form.validate():
        return _page(booking, token, form, 422)
    try:
        cases.give_feedback(db.session, booking, int(form.overall.data),
                            int(form.lecturer.data) if form.lecturer.data else None,
                            form.comment.data or "")
    except BookingError as error:
        flash(str(error.message), "error")
        return _page(booking, token, form, error.status)
    flash(_("谢谢您的评价！"), "success")
    return redirect(url_for("booking.feedback", reference=reference, token=token))
