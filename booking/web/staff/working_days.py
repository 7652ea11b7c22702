"""The working-day calendar staff correct when the State Council announces a schedule the
``holidays`` package does not have yet: extra holidays and make-up workdays (调休)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import CalendarCorrection, Role
from booking.models.db import db
from booking.rules import opening, working_days
from booking.usecases import working_days as cases
from booking.web.auth import role_required
from booking.web.staff import bp

WORKDAY, HOLIDAY = "workday", "holiday"


class CorrectionForm(FlaskForm):
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期。"))])
    kind = SelectField(_l("更正为"), choices=[
        SelectChoice(HOLIDAY, _l("放假（不计工作日）")),
        SelectChoice(WORKDAY, _l("调休上班（计为工作日）"))], default=HOLIDAY)
    name = StringField(_l("说明（如：春节调休）"), validators=[
        Length(max=100, message=_l("说明不能超过 100 个字符。"))])


class RemoveForm(FlaskForm):
    """A button: only the CSRF token."""


def _page(form: CorrectionForm, status: int = 200):
    today = local_today()
    corrections = working_days.upcoming(db.session, today)
    return render_template("staff/working_days.html", form=form, corrections=corrections,
                           remove_form=RemoveForm(), package_says=lambda day:
                           opening.is_working_day(day), today=today), status


@bp.route("/working-days")
@role_required(Role.STAFF)
def working_days_page():
    return _page(CorrectionForm(formdata=None))


@bp.route("/working-days", methods=["POST"])
@role_required(Role.STAFF)
def correct_working_day():
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        cases.correct_day(db.session, form.day.data, form.kind.data == WORKDAY,
                          form.name.data or "", current_user)
    except BookingError as error:
        form.name.errors = [*form.name.errors, error.message]
        return _page(form, 422)
    flash(_("已更正 %(day)s。", day=form.day.data.isoformat()), "success")
    return redirect(url_for("staff.working_days_page"))


@bp.route("/working-days/<int:correction_id>/remove", methods=["POST"])
@role_required(Role.STAFF)
def remove_working_day(correction_id: int):
    correction = db.session.get(CalendarCorrection, correction_id) or abort(404)
    if not RemoveForm().validate_on_submit():
        abort(400)
    day = correction.day
    cases.remove_correction(db.session, correction, current_user)
    flash(_("已撤销 %(day)s 的更正。", day=day.isoformat()), "success")
    return redirect(url_for("staff.working_days_page"))
