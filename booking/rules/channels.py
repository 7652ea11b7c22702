"""How an organisation hears from the museum: by SMS, by e-mail, or both.

The booking form asks (SMS when no e-mail address is given); the choice is stored on the
booking (``Booking.notify_by``) and the waiting-list entry. :func:`channels_for` is the one
place that turns a choice and the addresses at hand into the channels a message goes by:
nobody who gave a phone number is left without messages because the address their choice
names is missing.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from booking.errors import BookingError


class NotifyBy(enum.Enum):
    SMS = "sms"
    EMAIL = "email"
    BOTH = "both"


DEFAULT_WITH_EMAIL = NotifyBy.BOTH
DEFAULT_WITHOUT_EMAIL = NotifyBy.SMS


@dataclass(frozen=True)
class Channels:
    email: bool
    sms: bool


def default_choice(email: str | None) -> NotifyBy:
    """What a form preselects, and what an API request that does not say gets."""
    return DEFAULT_WITH_EMAIL if (email or "").strip() else DEFAULT_WITHOUT_EMAIL


def parse_choice(value: str | None, email: str | None) -> NotifyBy:
    """The stored choice for a submitted ``value`` ("" or None: the default for ``email``).

    Raises ValueError for an unknown value; "email" without an address falls back to SMS
    (forms refuse it with a message first, see :func:`needs_email`)."""
    if not value:
        return default_choice(email)
    choice = NotifyBy(value)
    if not (email or "").strip():
        return NotifyBy.SMS  # "email" or "both" without an address: SMS is what happens
    return choice


def notify_choice(value: str | None, email: str | None) -> NotifyBy:
    """:func:`parse_choice` for rules: an unknown value is the caller's error."""
    try:
        return parse_choice(value, email)
    except ValueError:
        raise BookingError("invalid_notify_by", _l("请选择接收通知的方式：短信、电子邮件或两者。"),
                           status=422, field="notify_by") from None


def needs_email(value: str | None, email: str | None) -> bool:
    """True when ``value`` asks for e-mail only but no address was given (a form error)."""
    return value == NotifyBy.EMAIL.value and not (email or "").strip()


def channels_for(notify_by: str | None, email: str | None, phone: str | None) -> Channels:
    """The channels a message to this contact goes by.

    E-mail when an address is given and the choice includes it; SMS when a phone is given and
    the choice includes it, or when there is no e-mail address to fall back on.
    """
    try:
        choice = NotifyBy(notify_by or NotifyBy.BOTH.value)
    except ValueError:
        choice = NotifyBy.BOTH
    has_email, has_phone = bool((email or "").strip()), bool((phone or "").strip())
    email_ok = has_email and choice in (NotifyBy.EMAIL, NotifyBy.BOTH)
    sms_ok = has_phone and (choice in (NotifyBy.SMS, NotifyBy.BOTH) or not has_email)
    return Channels(email=email_ok, sms=sms_ok)
