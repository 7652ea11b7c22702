"""A proof-of-work challenge (ALTCHA) for clients past a soft threshold of booking attempts.

No third party and no tracking: the server signs a challenge (HMAC with ``ALTCHA_HMAC_KEY``,
by default a key derived from ``SECRET_KEY``), the client's browser (the vendored widget in
``static/vendor/altcha/``, in Web Workers) or API client finds the counter, and the server
checks the signature, the expiry and the answer. Each solved challenge is accepted once: its
signature is remembered in the rate-limit storage (``RATELIMIT_STORAGE_URI``, shared by all
workers) until the challenge expires, so a replay is refused.

A client needs to solve one only past the soft threshold ``CHALLENGE_AFTER`` (e.g. ``"5 per
hour"``): booking attempts counted per client address and per contact phone, in the same
storage. Empty, ``0`` or ``None`` switches the challenge off; so does ``RATELIMIT_ENABLED =
False`` (tests and benchmarks). Real groups book once or twice and never see it; a script
booking on a loop pays CPU time for every booking past the threshold, on top of the hard
rate limits (:mod:`booking.web.booking_rate_limits`) and the per-contact limits.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import altcha
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter

from booking.web.ratelimit_storage import shared_storage

#: The form field the widget fills, and the header an API client sends the solution in.
FIELD = "altcha"
HEADER = "Altcha"

REQUIRED_MESSAGE = _l("您近期提交较多，请等待下方的人机验证完成（浏览器自动计算，无需操作）后再提交。")
INVALID_MESSAGE = _l("人机验证未通过、已过期或已使用过，请等待重新验证完成后再提交。")


@dataclass(frozen=True)
class HumanCheck:
    """Whether this client must solve a challenge now, and whether it did."""

    required: bool
    problem: str | None = None      # None, "challenge_required" or "challenge_invalid"

    @property
    def passed(self) -> bool:
        return self.problem is None

    @property
    def message(self):
        if self.problem == "challenge_required":
            return REQUIRED_MESSAGE
        return INVALID_MESSAGE if self.problem else None


def _enabled() -> bool:
    config = current_app.config
    return bool(config.get("RATELIMIT_ENABLED", True)) and bool(_thresholds())


def _thresholds():
    setting = current_app.config.get("CHALLENGE_AFTER")
    if not setting or str(setting).strip() in ("0", "None"):
        return []
    return parse_many(str(setting))


def _secret(purpose: str) -> bytes:
    key = current_app.config.get("ALTCHA_HMAC_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(str(key).encode(), purpose.encode(), hashlib.sha256).hexdigest().encode()


def new_challenge() -> dict:
    """A fresh signed challenge, as the widget and API clients expect it."""
    config = current_app.config
    counter_max = max(2, int(config["ALTCHA_COUNTER_MAX"]))
    challenge = altcha.create_challenge(
        config["ALTCHA_ALGORITHM"], int(config["ALTCHA_COST"]),
        counter=counter_max // 2 + secrets.randbelow(counter_max - counter_max // 2),
        expires_at=int(time.time()) + int(config["ALTCHA_EXPIRES_SECONDS"]),
        hmac_secret=_secret("altcha-challenge"), hmac_key_secret=_secret("altcha-key"))
    return challenge.to_dict()


def solution_is_good(payload: str | None) -> bool:
    """A genuine, unexpired solution not seen before (and now used up)."""
    if not payload or len(payload) > 4000:
        return False
    try:
        result = altcha.verify_solution(payload, _secret("altcha-challenge"),
                                        hmac_key_secret=_secret("altcha-key"))
        solved = altcha.Payload.from_base64(payload) if result.verified else None
    except Exception:   # noqa: BLE001  (any malformed payload is simply not a solution)
        return False
    if solved is None:
        return False
    expires_at = solved.challenge.parameters.expires_at or time.time()
    lifetime = max(1, int(expires_at - time.time()) + 60)
    used = shared_storage().incr("altcha-used:" + str(solved.challenge.signature)[:128], lifetime)
    return used == 1


def _attempt_keys(phone: str | None) -> list[str]:
    keys = ["address:" + (request.remote_addr or "")]
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())[-11:]
    if digits:
        keys.append("phone:" + digits)
    return keys


def page_check(phone: str | None = None) -> HumanCheck:
    """For showing a form: will this client's next attempt need a solution? Counts nothing."""
    if not _enabled():
        return HumanCheck(required=False)
    limiter = FixedWindowRateLimiter(shared_storage())
    over = not all(limiter.test(item, "challenge-after", key)
                   for item in _thresholds() for key in _attempt_keys(phone))
    return HumanCheck(required=over)


def booking_attempt(phone: str | None, payload: str | None) -> HumanCheck:
    """Count one booking attempt from this address (and phone); past the threshold, the
    attempt must carry a good solution."""
    if not _enabled():
        return HumanCheck(required=False)
    limiter = FixedWindowRateLimiter(shared_storage())
    within = [limiter.hit(item, "challenge-after", key)
              for item in _thresholds() for key in _attempt_keys(phone)]
    if all(within):     # passed; the form sent back shows the widget if the next one needs it
        return page_check(phone)
    if not payload:
        return HumanCheck(required=True, problem="challenge_required")
    if not solution_is_good(payload):
        return HumanCheck(required=True, problem="challenge_invalid")
    return HumanCheck(required=True)
