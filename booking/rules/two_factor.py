"""The optional TOTP second factor of staff accounts (RFC 6238 through ``pyotp``).

A user enrols with a fresh secret shown once (as an ``otpauth://`` URI and its QR code) and
confirmed by a first code; signing in then asks for a code after the password. A code is
accepted for its own 30-second step and one step either side (clocks drift), and only once:
the step of the last accepted code is stored, and no code of that step or an earlier one is
accepted again. The user may switch it off with password and code; an admin may reset it
(a lost phone). Every change is audited; the secret never goes into the log.

Rule functions take a session, flush, and raise BookingError; the caller commits.
"""
from __future__ import annotations

import hmac
import re
import time

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import Role, StaffUser
from booking.rules.audit import record_change

ISSUER = "开州红色教育预约"
#: Steps either side of now that a code may come from (30 s each).
VALID_WINDOW = 1
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def needs_enrolment(user: StaffUser, require_for_admins: bool) -> bool:
    """True when the site requires TOTP of admins and this admin has none yet."""
    return bool(require_for_admins) and user.role is Role.ADMIN and not user.has_totp


def _bad_code() -> BookingError:
    return BookingError("totp_invalid", _l("验证码不正确或已使用，请输入验证器应用中当前的 6 位数字。"),
                        status=422, field="code")


def matching_step(secret: str, code: str, last_step: int | None,
                  now: float | None = None) -> int:
    """The time step whose code ``code`` is (now or one step either side) and which is later
    than ``last_step``; raises ``totp_invalid`` otherwise."""
    code = re.sub(r"\s", "", code or "")
    if not secret or not _CODE.match(code):
        raise _bad_code()
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now if now is not None else time.time())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(
                totp.generate_otp(step), code):
            return step
    raise _bad_code()


def verify_code(session: Session, user: StaffUser, code: str, now: float | None = None) -> None:
    """Accept ``code`` as the user's second factor once; raises ``totp_invalid``."""
    user.totp_last_step = matching_step(user.totp_secret or "", code, user.totp_last_step, now)
    session.flush()


def enable(session: Session, user: StaffUser, secret: str, code: str,
           now: float | None = None) -> None:
    """Switch TOTP on with ``secret`` once ``code`` proves the app holds it."""
    if user.has_totp:
        raise BookingError("totp_enabled", _l("已启用两步验证。"), status=409, field="code")
    step = matching_step(secret, code, None, now)
    user.totp_secret, user.totp_last_step = secret, step
    session.flush()
    record_change(session, user, "user.totp_enable", user, None, {"username": user.username})


def disable(session: Session, user: StaffUser, password: str, code: str,
            now: float | None = None) -> None:
    """The user switches TOTP off: the password and a current code both needed."""
    if not user.check_password(password or ""):
        raise BookingError("wrong_password", _l("密码不正确。"), status=422, field="password")
    verify_code(session, user, code, now)
    _clear(session, user, user, "user.totp_disable")


def reset(session: Session, actor: StaffUser | None, user: StaffUser) -> None:
    """An admin (or the command line: ``actor`` None) removes a user's TOTP; they enrol again."""
    if not user.has_totp:
        raise BookingError("totp_not_enabled", _l("该用户未启用两步验证。"), status=409)
    _clear(session, actor, user, "user.totp_reset")


def _clear(session: Session, actor: StaffUser | None, user: StaffUser, action: str) -> None:
    user.totp_secret, user.totp_last_step = None, None
    session.flush()
    record_change(session, actor, action, user, {"totp": True},
                  {"totp": False, "username": user.username})
