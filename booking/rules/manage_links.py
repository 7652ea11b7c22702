"""The organisation's secret manage link: the booking behind a link or a manage cookie, and a
fresh link for a group that lost its mail. Wrong reference and wrong secret look the same."""
from __future__ import annotations

import hmac

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.errors import NotFound
from booking.models import Booking
from booking.rules import tokens
from booking.rules.identifiers import normalise_phone


def _by_reference(session: Session, reference: str) -> Booking | None:
    return session.scalar(select(Booking).filter_by(
        reference=tokens.normalise_reference(reference)))


def _matching(booking: Booking | None, token_hash: str) -> Booking:
    """``booking`` if its manage token hashes to ``token_hash``; compared in constant time
    even when there is no booking, so timing tells nothing."""
    expected = booking.manage_token_hash if booking else tokens.hash_secret("")
    if not hmac.compare_digest(expected, token_hash or "") or booking is None:
        raise NotFound(_l("预约不存在或链接无效。"))
    return booking


def find_booking_by_token(session: Session, reference: str, token: str) -> Booking:
    """The booking behind a manage link."""
    return _matching(_by_reference(session, reference), tokens.hash_secret(token or ""))


def find_booking_by_token_hash(session: Session, reference: str, token_hash: str) -> Booking:
    """The booking a manage cookie was granted for: it carries the hash of the token that was
    traded for it, so a recovered link (a new token) ends the old cookies too."""
    return _matching(_by_reference(session, reference), token_hash)


def recover_manage_link(session: Session, reference: str, phone: str) -> tuple[Booking, str]:
    """Reference + contact phone → a fresh manage token (the lost one stops working)."""
    booking = _by_reference(session, reference)
    if booking is None or not hmac.compare_digest(booking.contact_phone, normalise_phone(phone)):
        raise NotFound(_l("预约编号与手机号不匹配。"))
    token = tokens.new_secret()
    booking.manage_token_hash = tokens.hash_secret(token)
    session.flush()
    return booking, token
