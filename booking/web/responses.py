"""Helpers for HTML views: a rule's refusal shown beside the form field it names, responses
kept private (pages reached through a secret link or carrying one), error responses that
are the error page for people and JSON under /api/, and the guard on ``next`` redirects."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, make_response, render_template, request

from booking.api.v1.representation import error_body
from booking.errors import BookingError


def safe_next_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``: a scheme or a host, a
    leading ``//``, a backslash (browsers read ``/\\host`` as ``//host``) or a control
    character falls back, so a ``next`` parameter can never send anyone off-site."""
    if not target or "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def show_error(form, error: BookingError) -> None:
    """A rule's refusal beside the field it names, else as a flashed message."""
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "error")


def private(response):
    """Keep ``response`` out of caches and out of the Referer header of links it contains."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_page_or_json(status: int, code: str, message: str, page_message: str | None = None):
    """The API's JSON error under /api/, else the error page (saying ``page_message`` when
    the page words it otherwise)."""
    if request.path.startswith("/api/"):
        return make_response(error_body(code, message), status)
    return make_response(render_template("errors/error.html", status=status,
                                         message=page_message or message), status)
