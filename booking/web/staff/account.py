"""A staff user's own account page: the TOTP second factor, switched on and off.

Enrolling: a fresh secret waits in the (signed) session while the page shows it as an
``otpauth://`` URI and its QR code; the first good code stores it on the account, after which
it is never shown again. Switching off needs the password and a current code.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import current_user

from booking.errors import BookingError
from booking.models import Role
from booking.models.db import db
from booking.rules import two_factor
from booking.usecases import staff
from booking.web.auth import must_enrol_totp, role_required
from booking.web.staff import bp
from booking.web.staff.forms import TotpCodeForm, TotpDisableForm

_ENROLLING = "totp_enrol_secret"
ANY_ROLE = (Role.STAFF, Role.GUIDE)


def _render_account(enrol_form=None, disable_form=None, status: int = 200):
    secret = None
    if not current_user.has_totp:
        secret = http_session.get(_ENROLLING) or two_factor.new_secret()
        http_session[_ENROLLING] = secret
    return render_template(
        "staff/account.html", secret=secret, must_enrol=must_enrol_totp(),
        otpauth_uri=two_factor.provisioning_uri(secret, current_user.username) if secret else "",
        enrol_form=enrol_form or TotpCodeForm(formdata=None),
        disable_form=disable_form or TotpDisableForm(formdata=None)), status


@bp.route("/account")
@role_required(*ANY_ROLE, before_enrolment=True)
def account():
    return _render_account()


@bp.route("/account/totp", methods=["POST"])
@role_required(*ANY_ROLE, before_enrolment=True)
def enable_totp():
    form = TotpCodeForm()
    secret = http_session.get(_ENROLLING)
    if not form.validate_on_submit() or not secret:
        return _render_account(enrol_form=form, status=422)
    try:
        staff.enable_totp(db.session, current_user, secret, form.code.data)
    except BookingError as error:
        form.code.errors.append(error.message)
        return _render_account(enrol_form=form, status=422)
    http_session.pop(_ENROLLING, None)
    flash(_("两步验证已启用：以后登录时，输入密码后还需输入验证器应用中的验证码。"), "success")
    return redirect(url_for("staff.account"))


@bp.route("/account/totp/disable", methods=["POST"])
@role_required(*ANY_ROLE, before_enrolment=True)
def disable_totp():
    form = TotpDisableForm()
    if not form.validate_on_submit():
        return _render_account(disable_form=form, status=422)
    try:
        staff.disable_totp(db.session, current_user, form.password.data, form.code.data)
    except BookingError as error:
        getattr(form, error.field or "code").errors.append(error.message)
        return _render_account(disable_form=form, status=422)
    flash(_("两步验证已关闭。"), "success")
    return redirect(url_for("staff.account"))
