"""The door: scan a group's pass (or type its reference) and check it in with one tap.

``/staff/door`` works on a phone or tablet: ``static/js/door.js`` reads the QR with the
camera (the browser's BarcodeDetector, else the vendored jsQR) and submits the code; without
a camera the same form takes a typed reference. Guides see only their own sessions, as on
the roster. Check-in goes through :func:`booking.usecases.staff.check_in_group`.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from booking.clock import local_today
from booking.errors import BookingError, NotFound
from booking.models import Role, Venue
from booking.models.db import db
from booking.rules import door
from booking.rules.checkin import can_run_session
from booking.usecases import staff
from booking.web.auth import role_required
from booking.web.staff import roster_bp as bp

RUNS_SESSIONS = (Role.STAFF, Role.GUIDE)


class PassForm(FlaskForm):
    """Read from the query string: it changes nothing."""

    class Meta:
        csrf = False

    code = StringField(_l("二维码或预约编号"), validators=[Optional(), Length(max=80)])
    venue = HiddenField()


class DoorCheckInForm(FlaskForm):
    code = HiddenField(validators=[InputRequired(), Length(max=80)])
    venue = HiddenField()
    headcount = IntegerField(_l("到场人数"), validators=[
        InputRequired(_l("请填写到场人数。")),
        NumberRange(min=1, max=10_000, message=_l("请填写有效的到场人数。"))])


def _venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)))


def _venue(code: str | None, venues: list[Venue]) -> Venue | None:
    return next((v for v in venues if v.code == code), venues[0] if venues else None)


def _lookup(code: str, venue: Venue | None):
    """(booking or None, warnings, error message or None) for a scanned or typed code."""
    try:
        booking = door.find_for_door(db.session, code)
    except NotFound as missing:
        return None, [], str(missing.message)
    warnings = door.door_warnings(booking, local_today(), venue, current_user)
    if not can_run_session(current_user, booking.slot):
        return None, warnings, None  # a guide learns nothing about another guide's group
    return booking, warnings, None


def _door_url(code: str, venue: Venue | None) -> str:
    return url_for("roster.door", code=code, venue=venue.code if venue else None)


@bp.route("/door", endpoint="door")
@role_required(*RUNS_SESSIONS)
def door_page():
    form = PassForm(request.args)
    venues = _venues()
    venue = _venue(form.venue.data, venues)
    code = (form.code.data or "").strip() if form.validate() else ""
    booking, warnings, error = _lookup(code, venue) if code else (None, [], None)
    check_in_form = DoorCheckInForm(formdata=None, code=code, venue=venue.code if venue else "",
                                    headcount=(booking.arrived_count or booking.party_size)
                                    if booking else None)
    return render_template("staff/door.html", form=form, venues=venues, venue=venue,
                           code=code, booking=booking, warnings=warnings, error=error,
                           blocked=any(w.blocking for w in warnings),
                           check_in_form=check_in_form)


@bp.route("/door/check-in", methods=["POST"])
@role_required(*RUNS_SESSIONS)
def door_check_in():
    form = DoorCheckInForm()
    venue = _venue(form.venue.data, _venues())
    if not form.validate_on_submit():
        flash(_("请填写有效的到场人数。"), "error")
        return redirect(_door_url(form.code.data or "", venue))
    booking, warnings, error = _lookup(form.code.data, venue)
    blocking = [w for w in warnings if w.blocking]
    if booking is None or blocking:
        flash(error or blocking[0].message, "error")
        return redirect(_door_url(form.code.data, venue))
    try:
        staff.check_in_group(db.session, booking, form.headcount.data, current_user)
    except BookingError as refused:
        flash(refused.message, "error")
        return redirect(_door_url(form.code.data, venue))
    flash(_("%(org)s 已签到，到场 %(n)s 人。") % {"org": booking.organisation.name,
                                             "n": booking.arrived_count}, "success")
    return redirect(_door_url(form.code.data, venue))
