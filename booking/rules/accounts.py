"""Staff accounts: signing in, and the admin's changes to users (all audited).

Rule functions take a session, flush, and raise BookingError; the caller commits.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from booking.clock import utcnow
from booking.errors import BookingError, NotFound
from booking.models import Role, StaffUser
from booking.rules.audit import record_change

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,60}$")
# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not a real password")


def _login_failed() -> BookingError:
    # One message for unknown user, wrong password and deactivated account: no enumeration.
    return BookingError("login_failed", _l("用户名或密码错误"), status=401, field="password")


def authenticate(session: Session, username: str, password: str,
                 now: datetime | None = None) -> StaffUser:
    """The active user with these credentials, with ``last_login_at`` updated."""
    user = session.scalar(select(StaffUser).where(
        func.lower(StaffUser.username) == (username or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise _login_failed()
    if not user.check_password(password or "") or not user.active:
        raise _login_failed()
    user.last_login_at = now or utcnow()
    session.flush()
    return user


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise BookingError("unknown_role", _l("未知角色“%(role)s”，可选：%(roles)s。", role=value,
                                              roles=", ".join(r.value for r in Role)),
                           status=422, field="role") from None


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise BookingError("weak_password", _l("密码至少 %(n)s 个字符。", n=MIN_PASSWORD_LENGTH),
                           status=422, field="password")


def _snapshot(user: StaffUser) -> dict:
    return {"username": user.username, "display_name": user.display_name,
            "role": user.role.value, "active": user.active}


def create_user(session: Session, actor: StaffUser | None, username: str, role: Role,
                password: str, display_name: str = "") -> StaffUser:
    """A new account. ``actor`` is the admin doing it (None from the command line)."""
    username = (username or "").strip()
    if not USERNAME_PATTERN.match(username):
        raise BookingError("bad_username",
                           _l("用户名为 3–60 个字母、数字、点、横线或下划线。"),
                           status=422, field="username")
    check_password_strength(password)
    taken = session.scalar(select(StaffUser.id).where(
        func.lower(StaffUser.username) == username.lower()))
    if taken is not None:
        raise BookingError("duplicate_username", _l("用户名“%(name)s”已存在。", name=username),
                           status=409, field="username")
    user = StaffUser(username=username, display_name=(display_name or "").strip() or username,
                     role=role, active=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    record_change(session, actor, "user.create", user, None, _snapshot(user))
    return user


def get_user(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(_l("该用户不存在。"))
    return user


def _other_active_admins(session: Session, user: StaffUser) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == Role.ADMIN, StaffUser.active.is_(True), StaffUser.id != user.id))


def _keep_an_admin(session: Session, actor: StaffUser | None, user: StaffUser) -> None:
    """Nobody may lock themselves out, and the last active admin stays an active admin."""
    if actor is not None and actor.id == user.id:
        raise BookingError("self_change", _l("不能修改自己的角色或停用自己的账号。"))
    if user.role is Role.ADMIN and user.active and not _other_active_admins(session, user):
        raise BookingError("last_admin", _l("这是最后一个可用的管理员账号，不能降级或停用。"))


def change_role(session: Session, actor: StaffUser | None, user: StaffUser, role: Role) -> None:
    if role is user.role:
        return
    if user.role is Role.ADMIN:
        _keep_an_admin(session, actor, user)
    before = _snapshot(user)
    user.role = role
    session.flush()
    record_change(session, actor, "user.role", user, before, _snapshot(user))


def set_active(session: Session, actor: StaffUser | None, user: StaffUser,
               active: bool) -> None:
    """Deactivate (the account's sessions end at their next request) or reactivate."""
    if active is user.active:
        return
    if not active:
        _keep_an_admin(session, actor, user)
    before = _snapshot(user)
    user.active = active
    session.flush()
    record_change(session, actor, "user.reactivate" if active else "user.deactivate",
                  user, before, _snapshot(user))


def end_sessions(session: Session, actor: StaffUser | None, user: StaffUser) -> None:
    """End every session of ``user`` (signing out, or an admin's "sign out everywhere")."""
    user.session_version = (user.session_version or 0) + 1
    session.flush()
    if actor is not None and actor.id != user.id:
        record_change(session, actor, "user.sign_out_everywhere", user, None,
                      {"username": user.username})


def reset_password(session: Session, actor: StaffUser | None, user: StaffUser,
                   password: str) -> None:
    """Set a new password; the user's existing sessions stop working."""
    check_password_strength(password)
    user.set_password(password)
    session.flush()
    # The hash itself never goes into the log.
    record_change(session, actor, "user.password_reset", user, None,
                  {"username": user.username})
