"""A study tour's group: adults and minors, and the ratio between them.

Groups of minors need one adult (a teacher or leader) per ``minors_per_adult`` minors
(``STUDY_TOUR_MINORS_PER_ADULT`` in the config, default 10; 0 switches the ratio off). A study
tour (青少年研学: a slot whose ``kind`` is ``study_tour``) therefore records both numbers, and
its party size is their sum. Other programmes record neither and are not checked.

:func:`check_party_makeup` is the one check every path that makes or changes a party calls:
the booking form and the API (through :func:`booking.rules.workflow.create_booking`), the
manage page's size change, the waiting list (joining and accepting an offer) and the front
desk (book, edit, move). Staff cannot override it.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from booking.errors import BookingError
from booking.models import Booking, Slot

STUDY_TOUR_KIND = "study_tour"
DEFAULT_MINORS_PER_ADULT = 10


@dataclass(frozen=True)
class PartyMakeup:
    """How many adults and minors a group brings (both None: not given)."""

    adults: int | None = None
    minors: int | None = None

    @property
    def given(self) -> bool:
        return self.adults is not None and self.minors is not None


NOT_GIVEN = PartyMakeup()


def counts_adults_and_minors(slot: Slot) -> bool:
    """Whether bookings of ``slot`` record adults and minors (a study tour)."""
    return slot.kind == STUDY_TOUR_KIND


def adults_needed(minors: int, minors_per_adult: int) -> int:
    """The fewest adults ``minors`` minors need (one per ``minors_per_adult``, rounded up)."""
    if minors_per_adult <= 0 or minors <= 0:
        return 0
    return -(-minors // minors_per_adult)


def check_party_makeup(slot: Slot, party_size: int, makeup: PartyMakeup,
                       minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> PartyMakeup:
    """Refuse a study-tour party without adults and minors, whose numbers do not add up to
    ``party_size``, or with too few adults. Returns what to store on the booking: the makeup
    for a study tour, nothing for any other programme."""
    if not counts_adults_and_minors(slot):
        return NOT_GIVEN
    if not makeup.given:
        raise BookingError("makeup_required", _l(
            "研学团体请分别填写带队成人人数和学生（未成年人）人数。"), status=422, field="adults")
    adults, minors = makeup.adults, makeup.minors
    if adults < 0 or minors < 0:
        raise BookingError("makeup_negative", _l("成人和学生人数不能为负数。"),
                           status=422, field="adults")
    if adults + minors != party_size:
        raise BookingError("makeup_sum", _l(
            "成人 %(adults)s 人加学生 %(minors)s 人共 %(sum)s 人，与团体人数 %(size)s 人不符。",
            adults=adults, minors=minors, sum=adults + minors, size=party_size),
            status=422, field="adults")
    needed = adults_needed(minors, minors_per_adult)
    if adults < needed:
        raise BookingError("adult_ratio", _l(
            "研学团体每 %(per)s 名学生须有 1 名带队成人：%(minors)s 名学生至少需要 %(needed)s "
            "名成人，现有 %(adults)s 名。", per=minors_per_adult, minors=minors, needed=needed,
            adults=adults), status=422, field="adults")
    return makeup


def fewest_adults(slot: Slot, party_size: int,
                  minors_per_adult: int = DEFAULT_MINORS_PER_ADULT) -> dict:
    """For a study tour, a party of ``party_size`` with as few adults as the ratio allows, as
    ``BookingRequest`` fields; ``{}`` for any other programme (demo data, benchmarks)."""
    if not counts_adults_and_minors(slot):
        return {}
    adults = -(-party_size // (minors_per_adult + 1)) if minors_per_adult > 0 else 0
    return {"adults": adults, "minors": party_size - adults}


def makeup_columns(booking: Booking, makeup: PartyMakeup, party_size: int) -> dict:
    """The adults and minors to write on a changed booking: the checked ``makeup`` of a study
    tour; elsewhere the booking's own figures while they still add up to ``party_size``
    (a group moved off a study tour keeps them), else none."""
    if makeup.given:
        return {"adults": makeup.adults, "minors": makeup.minors}
    if booking.adults is not None and (booking.adults + (booking.minors or 0)) != party_size:
        return {"adults": None, "minors": None}
    return {}
