"""Public booking pages: capacity calendar, booking form, manage link."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, redirect, render_template, request

from booking.i18n import LANGUAGE_COOKIE, LANGUAGES

bp = Blueprint("booking", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home."""
    if not target or urlparse(target).netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/language/<code>")
def set_language(code: str):
    """The visible language switch; the choice is remembered for a year."""
    response = redirect(_safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@bp.route("/privacy")
def privacy():
    return render_template("booking/privacy.html")
