"""An organisation's staff page under /staff/organisations/: its bookings and no-shows, its
suspension (lift or extend), its own booking limits and the staff's notes, with the history
of every change. Staff and admins only; each form calls one use case of
:mod:`booking.usecases.staff`, which audits the change.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import Booking, BookingState, Organisation, Role, Slot
from booking.models.db import db
from booking.rules import approval
from booking.rules.organisations import MAX_LIMIT, organisation_audit_trail
from booking.usecases import staff
from booking.web.auth import role_required
from booking.web.responses import show_error
from booking.web.staff import roster_bp as bp
from booking.web.staff.forms import ActionForm

HISTORY_LIMIT = 200
LIMIT_RANGE = NumberRange(min=0, max=MAX_LIMIT, message=_l("请填写 0 至 %(max)s 之间的整数。"))


class SuspensionForm(FlaskForm):
    until = DateField(_l("暂停至（含当天）"), validators=[
        InputRequired(_l("请选择暂停截止日期。"))])
    reason = StringField(_l("原因"), validators=[
        DataRequired(_l("请填写暂停原因。")),
        Length(max=300, message=_l("原因不能超过 300 个字符。"))])


class LimitsForm(FlaskForm):
    limit_upcoming = IntegerField(_l("未完成预约上限（个）"), validators=[Optional(), LIMIT_RANGE])
    limit_seats_per_day = IntegerField(_l("每天座位上限（个）"),
                                       validators=[Optional(), LIMIT_RANGE])


class NotesForm(FlaskForm):
    notes = TextAreaField(_l("工作人员备注"), validators=[
        Length(max=2000, message=_l("备注不能超过 %(max)s 个字符。"))])


def _render(organisation: Organisation, status: int = 200, **forms):
    window = current_app.config["NO_SHOW_WINDOW_DAYS"]
    today = local_today()
    history = approval.organisation_histories(db.session, {organisation.id}, today, window).get(
        organisation.id, approval.OrganisationHistory())
    bookings = list(db.session.scalars(
        select(Booking).where(Booking.organisation_id == organisation.id)
        .join(Slot, Booking.slot_id == Slot.id)
        .options(joinedload(Booking.slot).joinedload(Slot.venue))
        .order_by(Slot.starts_at.desc(), Booking.id.desc()).limit(HISTORY_LIMIT)))
    forms.setdefault("suspension_form", SuspensionForm(formdata=None))
    forms.setdefault("limits_form", LimitsForm(formdata=None, obj=organisation))
    forms.setdefault("notes_form", NotesForm(formdata=None, notes=organisation.staff_notes or ""))
    return render_template(
        "staff/organisation.html", organisation=organisation, history=history,
        bookings=bookings, window_days=window, today=today, form=ActionForm(),
        suspended=organisation.is_suspended_on(today), BookingState=BookingState,
        trail=organisation_audit_trail(db.session, organisation), **forms), status


def _organisation_or_404(organisation_id: int) -> Organisation:
    return db.session.get(Organisation, organisation_id) or abort(404)


def _done(organisation_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("roster.organisation", organisation_id=organisation_id))


@bp.route("/organisations/<int:organisation_id>")
@role_required(Role.STAFF)
def organisation(organisation_id: int):
    return _render(_organisation_or_404(organisation_id))


@bp.route("/organisations/<int:organisation_id>/lift-suspension", methods=["POST"])
@role_required(Role.STAFF)
def lift_suspension(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        staff.lift_suspension(db.session, organisation, current_user)
    except BookingError as error:
        flash(error.message, "error")
        return _render(_organisation_or_404(organisation_id), error.status)
    return _done(organisation_id, _("已解除 %(org)s 的预约暂停。", org=organisation.name))


@bp.route("/organisations/<int:organisation_id>/suspension", methods=["POST"])
@role_required(Role.STAFF)
def extend_suspension(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = SuspensionForm()
    if form.validate_on_submit():
        try:
            staff.extend_suspension(db.session, organisation, form.until.data,
                                    form.reason.data, current_user)
        except BookingError as error:
            show_error(form, error)
        else:
            return _done(organisation_id, _("%(org)s 的预约已暂停至 %(day)s。", org=organisation.name,
                                            day=form.until.data.isoformat()))
    return _render(_organisation_or_404(organisation_id), 422, suspension_form=form)


@bp.route("/organisations/<int:organisation_id>/limits", methods=["POST"])
@role_required(Role.STAFF)
def organisation_limits(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = LimitsForm()
    if form.validate_on_submit():
        try:
            staff.set_organisation_limits(db.session, organisation, form.limit_upcoming.data,
                                          form.limit_seats_per_day.data, current_user)
        except BookingError as error:
            show_error(form, error)
        else:
            return _done(organisation_id, _("已保存 %(org)s 的预约限额。", org=organisation.name))
    return _render(_organisation_or_404(organisation_id), 422, limits_form=form)


@bp.route("/organisations/<int:organisation_id>/notes", methods=["POST"])
@role_required(Role.STAFF)
def organisation_notes(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = NotesForm()
    if form.validate_on_submit():
        try:
            staff.set_organisation_notes(db.session, organisation, form.notes.data,
                                         current_user)
        except BookingError as error:
            show_error(form, error)
        else:
            return _done(organisation_id, _("已保存备注。"))
    return _render(_organisation_or_404(organisation_id), 422, notes_form=form)
