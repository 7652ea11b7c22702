"""The daily roster and check-in: staff pages under /staff/roster/ (their JSON twins are in
:mod:`booking.api.v1.staff`; organisation pages in :mod:`booking.web.staff.organisations`).

Staff and admins see every session; a guide sees, and checks in, only the sessions assigned
to them (``Slot.guide_user_id``). Marking no-shows and completing sessions are staff work.
Views parse a form, call one use case from :mod:`booking.usecases.staff`, and redirect back
to the group on the roster.
"""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange

from booking.clock import local_today, utcnow
from booking.errors import BookingError
from booking.models import Booking, BookingState, Role, Slot, Venue
from booking.models.db import db
from booking.render.roster_pdf import render_roster_pdf
from booking.render.roster_xlsx import render_roster_xlsx
from booking.rules import checkin
from booking.rules.roster import build_roster, load_day
from booking.usecases import staff
from booking.web.auth import role_required
from booking.web.lookups import booking_or_404, day_or_404, guide_filter, venue_or_404
from booking.web.staff import roster_bp as bp

RUNS_SESSIONS = (Role.STAFF, Role.GUIDE)
MAX_HEADCOUNT = 10_000


class HeadcountForm(FlaskForm):
    headcount = IntegerField(_l("到场人数"), validators=[
        InputRequired(_l("请填写到场人数。")),
        NumberRange(min=0, max=MAX_HEADCOUNT, message=_l("请填写有效的到场人数。"))])


class AttendanceForm(FlaskForm):
    attended = SelectMultipleField(coerce=int, validate_choice=False)
    all_present = SubmitField()


class WalkInForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[
        InputRequired(_l("请填写现场人员的姓名。")),
        Length(max=60, message=_l("姓名不能超过 60 个字符。"))])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


# --- helpers --------------------------------------------------------------------------------







def _venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)))




def _roster_url(slot: Slot, anchor: str | None = None) -> str:
    return url_for("roster.day", venue_code=slot.venue.code, day_text=slot.day.isoformat(),
                   _anchor=anchor)


def _render_day(venue: Venue, day: date, errors: dict[int, tuple[str | None, str]] | None = None,
                status: int = 200):
    """The roster page; ``errors`` maps a booking id to (field, message) shown beside it."""
    plan = load_day(db.session, venue, day, guide_filter())
    now = utcnow()
    return render_template(
        "staff/roster.html", plan=plan, venues=_venues(), now=now, errors=errors or {},
        today=local_today(now, venue.tz), prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1), is_guide=guide_filter() is not None,
        may_close=current_user.has_role(Role.STAFF),
        BookingState=BookingState, can_run=checkin.can_run_session,
        check_in_window=checkin.check_in_window), status


def _refused(booking: Booking, error: BookingError):
    """403 as an error page, anything else beside the group on the roster."""
    if error.status == 403:
        return render_template("errors/error.html", status=403, message=error.message), 403
    booking = booking_or_404(booking.reference)
    return _render_day(booking.slot.venue, booking.slot.day,
                       {booking.id: (error.field, str(error.message))}, error.status)


def _form_refused(booking: Booking, form: FlaskForm):
    field, messages = next(iter(form.errors.items()))
    return _render_day(booking.slot.venue, booking.slot.day,
                       {booking.id: (field, str(messages[0]))}, 422)


def _download_name(venue: Venue, day: date, extension: str) -> str:
    return f"{venue.name}-{day.isoformat()}-接待表.{extension}"


def _attachment(body: bytes, mimetype: str, filename: str, fallback: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the roster ------------------------------------------------------------------------------

@bp.route("/roster/", defaults={"venue_code": None, "day_text": None})
@bp.route("/roster/<venue_code>/<day_text>")
@role_required(*RUNS_SESSIONS)
def day(venue_code: str | None, day_text: str | None):
    """The page staff open every morning. Without a venue and date it goes to today's."""
    if venue_code is None:
        venues = _venues()
        if not venues:
            abort(404)
        chosen = next((v for v in venues if v.code == (request.args.get("venue") or "").upper()),
                      venues[0])
        try:
            day_ = date.fromisoformat(request.args.get("date") or "")
        except ValueError:
            day_ = local_today(tz=chosen.tz)
        return redirect(url_for("roster.day", venue_code=chosen.code,
                                day_text=day_.isoformat()))
    return _render_day(venue_or_404(venue_code), day_or_404(day_text))


@bp.route("/roster/<venue_code>/<day_text>.pdf")
@role_required(*RUNS_SESSIONS)
def pdf(venue_code: str, day_text: str):
    venue, day_ = venue_or_404(venue_code), day_or_404(day_text)
    body = render_roster_pdf(build_roster(db.session, venue, day_, guide_filter()))
    return _attachment(body, "application/pdf", _download_name(venue, day_, "pdf"),
                       f"roster-{venue.code}-{day_.isoformat()}.pdf")


@bp.route("/roster/<venue_code>/<day_text>.xlsx")
@role_required(*RUNS_SESSIONS)
def xlsx(venue_code: str, day_text: str):
    venue, day_ = venue_or_404(venue_code), day_or_404(day_text)
    body = render_roster_xlsx(build_roster(db.session, venue, day_, guide_filter()))
    return _attachment(
        body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _download_name(venue, day_, "xlsx"), f"roster-{venue.code}-{day_.isoformat()}.xlsx")


# --- check-in --------------------------------------------------------------------------------

@bp.route("/roster/bookings/<reference>/check-in", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def check_in(reference: str):
    booking = booking_or_404(reference)
    form = HeadcountForm()
    if not form.validate_on_submit():
        return _form_refused(booking, form)
    was_checked_in = booking.state is BookingState.CHECKED_IN
    try:
        staff.check_in_group(db.session, booking, form.headcount.data, current_user)
    except BookingError as error:
        return _refused(booking, error)
    message = (_("已更正 %(org)s 的到场人数：%(n)s 人。") if was_checked_in
               else _("%(org)s 已签到，到场 %(n)s 人。"))
    flash(message % {"org": booking.organisation.name, "n": booking.arrived_count}, "success")
    return redirect(_roster_url(booking.slot, f"g-{booking.reference}"))


@bp.route("/roster/bookings/<reference>/attendance", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def attendance(reference: str):
    booking = booking_or_404(reference)
    form = AttendanceForm()
    if not form.validate_on_submit():
        return _form_refused(booking, form)
    ticked = ({a.id for a in booking.attendees} if form.all_present.data
              else set(form.attended.data or []))
    try:
        staff.set_attendance(db.session, booking, ticked, current_user)
    except BookingError as error:
        return _refused(booking, error)
    flash(_("已保存 %(org)s 的到场名单：%(n)s 人到场。", org=booking.organisation.name,
            n=len(ticked)), "success")
    return redirect(_roster_url(booking.slot, f"g-{booking.reference}"))


@bp.route("/roster/bookings/<reference>/walk-ins", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def walk_in(reference: str):
    booking = booking_or_404(reference)
    form = WalkInForm()
    if not form.validate_on_submit():
        return _form_refused(booking, form)
    try:
        attendee = staff.add_walk_in(db.session, booking, form.name.data, current_user)
    except BookingError as error:
        return _refused(booking, error)
    flash(_("已添加现场人员 %(name)s（%(org)s）。", name=attendee.name,
            org=booking.organisation.name), "success")
    return redirect(_roster_url(booking.slot, f"g-{booking.reference}"))


@bp.route("/roster/bookings/<reference>/no-show", methods=["POST"])
@role_required(Role.STAFF)
def no_show(reference: str):
    booking = booking_or_404(reference)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        suspended = staff.mark_no_show(db.session, booking, current_user)
    except BookingError as error:
        return _refused(booking, error)
    flash(_("已将 %(org)s 标记为未到。", org=booking.organisation.name), "success")
    if suspended:
        flash(_("%(org)s 近期多次未到，已暂停预约至 %(until)s。", org=booking.organisation.name,
                until=booking.organisation.suspended_until.isoformat()), "warning")
    return redirect(_roster_url(booking.slot, f"g-{booking.reference}"))


def _slot_or_404(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        abort(404)
    return slot


def _session_action(slot_id: int, action, done_message):
    slot = _slot_or_404(slot_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        groups = action(slot)
    except BookingError as error:
        flash(error.message, "error")
        return redirect(_roster_url(slot, f"s-{slot_id}"))
    flash(done_message % {"n": len(groups)}, "success")
    return redirect(_roster_url(slot, f"s-{slot_id}"))


@bp.route("/roster/sessions/<int:slot_id>/no-shows", methods=["POST"])
@role_required(Role.STAFF)
def session_no_shows(slot_id: int):
    return _session_action(slot_id, lambda slot: staff.mark_session_no_shows(
        db.session, slot, current_user), _("已将 %(n)s 个未签到的团体标记为未到。"))


@bp.route("/roster/sessions/<int:slot_id>/complete", methods=["POST"])
@role_required(Role.STAFF)
def complete(slot_id: int):
    return _session_action(slot_id, lambda slot: staff.complete_session(
        db.session, slot, current_user), _("场次已完成：%(n)s 个团体。"))
