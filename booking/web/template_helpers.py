"""App-wide template helpers, filters and response hooks, registered once by :func:`register`
(called from the app factory): dates and times in the reader's language, labels, masks,
the staff navigation's links and the audit log read as sentences."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup

from booking import dates
from booking.clock import MUSEUM_TZ, local, local_today
from booking.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_AGE,
    LANGUAGES,
    current_language,
    localized,
    localized_lines,
)
from booking.models import Role
from booking.models.db import db
from booking.render.booking_pass import qr_svg
from booking.rules.approval import count_pending
from booking.rules.audit_sentences import audit_sentence
from booking.rules.availability import FEW_LEFT_SHARE, few_seats_left
from booking.rules.checkin import sees_full_phone
from booking.rules.identifiers import mask_phone
from booking.rules.letters import letter_type_of
from booking.rules.party_makeup import counts_adults_and_minors
from booking.rules.vocabulary import (
    availability_label,
    channel_label,
    message_kind_label,
    message_status_label,
    notify_by_label,
    organisation_kind_label,
    programme_kind_label,
    role_label,
    roster_state_label,
    state_label,
    weekday_label,
)
from booking.usecases.policy import minors_per_adult


def staff_link(endpoint: str, **values) -> str | None:
    """The URL of ``endpoint`` if the signed-in user's role may open it (read from the view's
    ``@role_required``), else None, so pages hide links a role cannot use. A name that is not
    an endpoint, or missing values, raise: a link is never silently dropped for a typo."""
    url = url_for(endpoint, **values)
    roles = getattr(current_app.view_functions[endpoint], "required_roles", None)
    if roles is None or not current_user.is_authenticated or not current_user.has_role(*roles):
        return None
    return url


def pending_approval_count() -> int | None:
    """Bookings waiting for approval, for the staff nav (None for roles that cannot approve)."""
    if not current_user.is_authenticated or not current_user.has_role(Role.STAFF):
        return None
    return count_pending(db.session)


def pass_qr(code: str | None, label: str = "", size_px: int = 200) -> Markup:
    """A booking's door pass as inline SVG (no style, no script: fine under the CSP)."""
    return Markup(qr_svg(code, size_px, label)) if code else Markup("")


def shanghai_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as wall-clock time in Asia/Shanghai."""
    return local(value, MUSEUM_TZ).strftime(fmt) if value else ""


def local_time(moment, fmt: str = "%H:%M") -> str:
    return local(moment).strftime(fmt)


def long_date(day: date) -> str:
    """2026年12月3日星期四 / Thursday 3 December 2026 (see :mod:`booking.dates`)."""
    return dates.long_date(day, current_language())


def plain_date(day: date) -> str:
    """2026年12月3日 / 3 December 2026."""
    return dates.plain_date(day, current_language())


def short_date(day: date) -> str:
    """12月3日周四 / Thu 3 Dec."""
    return dates.short_date(day, current_language())


def month_title(day: date) -> str:
    """2026年12月 / December 2026."""
    return dates.month_title(day, current_language())


def date_and_time(moment: datetime | None) -> str:
    """2026年12月3日星期四 09:00 / Thursday 3 December 2026, 09:00."""
    return dates.date_and_time(moment, current_language()) if moment else ""


def plain_number(value) -> str:
    """1.5 → "1.5", Decimal("1.0") → "1", 10 → "10" (training hours, money-free numbers)."""
    text = f"{value:f}" if value is not None else ""
    return text.rstrip("0").rstrip(".") if "." in text else text


def weekday_name(number: int, width: str = "wide") -> str:
    return dates.weekday_name(number, current_language(), short=width != "wide")


def _remember_language_from_query(response):
    """``?lang=en`` on any page (the in-place switch of private pages) is remembered too."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response


FILTERS = {"local_time": local_time, "long_date": long_date, "short_date": short_date,
           "plain_date": plain_date, "date_and_time": date_and_time,
           "month_title": month_title, "plain_number": plain_number, "shanghai": shanghai_time}


def staff_phone(phone: str, day: date) -> str:
    """A contact phone as the signed-in staff member may see it (guides: in full only on
    the day of the visit)."""
    full = sees_full_phone(current_user if current_user.is_authenticated else None, day,
                           local_today())
    return phone if full else mask_phone(phone)


def letter_label(booking) -> str:
    """An introduction letter's type as staff and groups read it: PDF, JPG or PNG."""
    kind = letter_type_of(booking)
    return kind.label if kind else ""


def file_size(size: int | None) -> str:
    if not size:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB"


GLOBALS = (staff_link, letter_label, file_size, audit_sentence, pass_qr, pending_approval_count,
           mask_phone, staff_phone,
           localized, localized_lines, current_language, weekday_name, minors_per_adult,
           counts_adults_and_minors,
           # the vocabulary's words and the few-seats-left rule
           state_label, roster_state_label, role_label, organisation_kind_label,
           programme_kind_label, availability_label, weekday_label, few_seats_left,
           notify_by_label, message_kind_label, message_status_label, channel_label)


def register(app: Flask) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    for function in GLOBALS:
        app.add_template_global(function)
    app.add_template_global(LANGUAGES, "languages")
    app.add_template_global(FEW_LEFT_SHARE, "few_left_share")
    app.after_request(_remember_language_from_query)
