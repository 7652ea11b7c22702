"""Who may do what on staff pages: login loading and role checks."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.models import Role, StaffUser
from booking.models.db import db
from booking.rules.two_factor import needs_enrolment
from booking.web.extensions import login_manager
from booking.web.responses import error_page_or_json

login_manager.login_view = "staff.login"
login_manager.login_message = _l("请先登录。")
login_manager.login_message_category = "error"
# A session cookie replayed from another browser or address is dropped.
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    """The user behind the session: still active, and with the password it signed in with."""
    user_id, _, fingerprint = session_id.partition(":")
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or user.session_fingerprint != fingerprint:
        return None
    return user


def must_enrol_totp() -> bool:
    """The site requires TOTP of admins (REQUIRE_TOTP_FOR_ADMINS) and the signed-in admin
    has not enrolled yet: until then only the enrolment page and signing out are open."""
    return current_user.is_authenticated and needs_enrolment(
        current_user, current_app.config.get("REQUIRE_TOTP_FOR_ADMINS", False))


def role_required(*roles: Role, before_enrolment: bool = False):
    """Refuse anonymous users (login page, or 401 JSON on the API) and other roles (403).

    Admins pass every check. ``@role_required(Role.STAFF, Role.GUIDE)`` admits staff,
    guides and admins. An admin who must enrol in TOTP first is sent to the account page
    (403 ``totp_required`` on the API) unless the view is marked ``before_enrolment``.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            is_api = request.path.startswith("/api/")
            if not current_user.is_authenticated:
                if is_api:
                    return error_page_or_json(401, "unauthorized", _l("请先登录。"))
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                if is_api:
                    return error_page_or_json(403, "forbidden", _l("您没有执行此操作的权限。"))
                abort(403)
            if not before_enrolment and must_enrol_totp():
                if is_api:
                    return error_page_or_json(403, "totp_required",
                                              _l("请先在账户页面启用两步验证。"))
                return redirect(url_for("staff.account"))
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the access test over app.url_map
        return wrapped
    return decorator
