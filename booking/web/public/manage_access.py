"""The manage cookie: the secret link's token traded for a cookie on its first visit.

A manage link (``/manage/<reference>/<token>``) sits in mails and so, when opened, in browser
history and access logs. Its first visit therefore answers with a cookie and a 303 to
``/manage/<reference>``, a URL with nothing secret in it, where the page and every action
(forms, downloads) live. The cookie is HttpOnly, Secure on https, SameSite=Lax, scoped to
that booking's path, and signed with SECRET_KEY; it holds the reference and the *hash* of the
token, so a recovered link (a new token, see ``/find``) ends the old cookies too.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from booking.errors import NotFound
from booking.models import Booking
from booking.models.db import db
from booking.rules import manage_links, tokens

COOKIE_NAME = "manage"
#: How long a browser keeps access after the link was opened in it.
COOKIE_LIFETIME = timedelta(days=30)
_SALT = "manage-link-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def manage_path(reference: str) -> str:
    """The token-free page of a booking (and the path its cookie is scoped to)."""
    return url_for("booking.manage_page", reference=tokens.normalise_reference(reference))


def grant(response, booking: Booking):
    """Let this browser manage ``booking`` from its token-free URLs."""
    value = _serializer().dumps({"r": booking.reference, "h": booking.manage_token_hash})
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    response.set_cookie(COOKIE_NAME, value, max_age=int(COOKIE_LIFETIME.total_seconds()),
                        path=manage_path(booking.reference), httponly=True, samesite="Lax",
                        secure=request.is_secure or base.startswith("https://"))
    return response


def granted_booking(reference: str) -> Booking | None:
    """The booking this browser's cookie grants for ``reference``, or None."""
    try:
        grant_data = _serializer().loads(request.cookies.get(COOKIE_NAME, ""),
                                         max_age=int(COOKIE_LIFETIME.total_seconds()))
    except BadData:
        return None
    if not isinstance(grant_data, dict) or grant_data.get("r") != tokens.normalise_reference(
            reference):
        return None
    try:
        return manage_links.find_booking_by_token_hash(db.session, reference,
                                                   str(grant_data.get("h") or ""))
    except NotFound:
        return None


def booking_for_token(reference: str, token: str) -> Booking | None:
    """The booking behind a manage link, or None."""
    try:
        return manage_links.find_booking_by_token(db.session, reference, token)
    except NotFound:
        return None
