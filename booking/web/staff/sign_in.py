"""The second sign-in step: after the password, a user with TOTP gives a code.

The password step (``staff.login``) does not sign the user in: it leaves in the session only
which user passed it, with that user's session fingerprint and a deadline. This step signs
in once a code is good. Wrong codes are throttled like passwords (per account and address,
a delay that grows), and each code is good once (booking/rules/two_factor.py).
"""
from __future__ import annotations

import time

from flask import flash, g, redirect, render_template, url_for
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import login_user

from booking.errors import BookingError
from booking.models import StaffUser
from booking.models.db import db
from booking.usecases import staff
from booking.web import login_throttle
from booking.web.extensions import limiter
from booking.web.staff import bp
from booking.web.staff.forms import TotpCodeForm

#: How long the password step stays good while the code is awaited.
PENDING_SECONDS = 5 * 60
_PENDING = "totp_pending"


def fresh_session() -> None:
    """Drop everything from the old session (no fixation), including its CSRF token."""
    http_session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the old session's token for this request


def await_code(user: StaffUser, target: str) -> str:
    """Remember that ``user`` gave the right password; the URL of the code step."""
    http_session[_PENDING] = {"user": user.id, "fingerprint": user.session_fingerprint,
                              "next": target, "until": time.time() + PENDING_SECONDS}
    return url_for("staff.login_code")


def _pending_user() -> tuple[StaffUser | None, str]:
    pending = http_session.get(_PENDING)
    if not isinstance(pending, dict) or float(pending.get("until") or 0) < time.time():
        return None, ""
    user = db.session.get(StaffUser, int(pending.get("user") or 0))
    if (user is None or not user.active or not user.has_totp
            or user.session_fingerprint != pending.get("fingerprint")):
        return None, ""
    return user, str(pending.get("next") or url_for("staff.dashboard"))


def _throttle_key(user: StaffUser) -> str:
    return f"totp:{user.username}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login_code():
    """Open to anyone (like the login page), but useful only after the password step."""
    user, target = _pending_user()
    if user is None:
        http_session.pop(_PENDING, None)
        flash(_("请重新输入用户名和密码。"), "error")
        return redirect(url_for("staff.login"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        wait = login_throttle.seconds_to_wait(_throttle_key(user))
        if wait:
            form.code.errors.append(_("验证失败次数过多，请 %(n)s 秒后再试。", n=wait))
            return render_template("staff/login_code.html", form=form), 429
        try:
            staff.verify_second_factor(db.session, user, form.code.data)
        except BookingError as error:
            login_throttle.record_failure(_throttle_key(user))
            form.code.errors.append(error.message)
            return render_template("staff/login_code.html", form=form), 200
        login_throttle.record_success(_throttle_key(user))
        fresh_session()
        login_user(user)
        return redirect(target)
    return render_template("staff/login_code.html", form=form)
