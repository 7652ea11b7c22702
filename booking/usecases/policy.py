"""The settings booking rules take as arguments (rules never read the app config themselves):
read here, once, for every use case that passes them on."""
from __future__ import annotations

from flask import current_app

from booking.rules.booking_limits import LimitsPolicy
from booking.rules.party_makeup import DEFAULT_MINORS_PER_ADULT


def limits_policy() -> LimitsPolicy:
    """The per-contact limits (BOOKING_LIMITS, _BY_VENUE, _BY_PROGRAMME)."""
    return LimitsPolicy.from_config(current_app.config)


def minors_per_adult() -> int:
    """A study tour's ratio (STUDY_TOUR_MINORS_PER_ADULT; 0: not enforced)."""
    return int(current_app.config.get("STUDY_TOUR_MINORS_PER_ADULT", DEFAULT_MINORS_PER_ADULT))
