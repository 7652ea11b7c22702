"""Every figure of the statistics -- organisations, groups, 人次, 学时, certificates, no-shows,
offline groups -- per venue, programme, kind, organisation kind, month and year, and the year
before, agrees with a count by hand over the bookings, certificates and offline visits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from booking.models.db import db
from booking.rules.statistics import statistics_report
from tests.fixtures.report_counts import YEAR, count_by_hand, figures_of, hand_figures

START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)


def _compare(report, counts):
    assert figures_of(report.total) == hand_figures(counts, ("total",))
    checked = 0
    for name, label in (("venue", "venue_name"), ("programme", "title"), ("kind", "kind"),
                        ("organisation_kind", "organisation_kind"), ("month", "month"),
                        ("year", "year")):
        for tally in getattr(report, f"by_{name}"):
            key = (name, getattr(tally, label))
            assert figures_of(tally) == hand_figures(counts, key), key
            checked += 1
        hand_keys = {k for k in counts if k[0] == name}
        assert {(name, getattr(t, label)) for t in getattr(report, f"by_{name}")} >= hand_keys
    return checked


def test_every_figure_agrees_with_a_count_by_hand(year_of_records):
    report = statistics_report(db.session, START, END, compare=True)
    counts = count_by_hand(db.session, START, END)
    assert _compare(report, counts) > 20
    total = report.total
    # A few figures spelled out, so the hand count itself is checked too.
    assert total.people == 18 + 15 + 30 + 25 + 3 + 40 + 33  # 3 arrived for certificates
    assert total.no_shows == 1 and total.offline_groups == 2 and total.certificates == 2
    assert total.person_hours == Decimal("1.5") * (18 + 15 + 40) + 2 * 30
    assert total.organisations == 5  # 汉丰街道 online and offline is one organisation
    before = report.previous
    assert _compare(before, count_by_hand(db.session, date(YEAR - 1, 1, 1),
                                          date(YEAR - 1, 12, 31))) > 10


def test_one_venue_agrees_with_a_count_by_hand(year_of_records):
    _, museum = year_of_records
    report = statistics_report(db.session, START, END, venue_id=museum.id)
    _compare(report, count_by_hand(db.session, START, END, venue_id=museum.id))
    assert report.total.people == 25 + 33


def test_year_on_year_compares_the_same_month_and_programme(year_of_records):
    report = statistics_report(db.session, START, END, compare=True)
    june = next(t for t in report.by_month if t.month == f"{YEAR}-06")
    assert report.previous_of("month", june).people == 30
    march = next(t for t in report.by_month if t.month == f"{YEAR}-03")
    assert (march.people, report.previous_of("month", march).people) == (18 + 15 + 40, 33)
    themed = next(t for t in report.by_programme if t.title == "学习百年党史 感悟刘帅精神")
    assert report.previous_of("programme", themed).people == 33


def test_offline_visits_are_marked_and_never_become_bookings(year_of_records):
    from sqlalchemy import func, select

    from booking.models import Booking
    bookings = db.session.scalar(select(func.count(Booking.id)))
    report = statistics_report(db.session, START, END)
    community = next(t for t in report.by_organisation_kind if t.organisation_kind == "community")
    assert (community.groups, community.offline_groups, community.people) == (1, 1, 33)
    assert db.session.scalar(select(func.count(Booking.id))) == bookings
