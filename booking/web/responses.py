"""Helpers for HTML views: a rule's refusal shown beside the form field it names, responses
kept private (pages reached through a secret link or carrying one), and error responses that
are the error page for people and JSON under /api/."""
from __future__ import annotations

from flask import flash, make_response, render_template, request

from booking.api.v1.representation import error_body
from booking.errors import BookingError


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
