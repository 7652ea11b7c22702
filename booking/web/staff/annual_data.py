"""A year's statistics as the annual report's plain data (and its XLSX), in the reader's
language: used by the staff page and by ``flask --app run annual-report``."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.models import Venue
from booking.render.annual_report import AnnualReport, BarSeries, Highlight, Section
from booking.render.annual_report import render_annual_report as render_pdf
from booking.render.tables import Table, render_xlsx
from booking.rules.statistics import StatisticsReport, Tally, statistics_report
from booking.web.staff.statistics_tables import (
    breakdowns,
    change_text,
    hours_value,
    measure_headers,
    measures,
    statistics_tables,
    tally_label,
)

TOP_PROGRAMMES = 10


def year_report(session: Session, year: int, venue_id: int | None) -> StatisticsReport:
    """The year's statistics, with the year before when it has any records to compare."""
    report = statistics_report(session, date(year, 1, 1), date(year, 12, 31), venue_id,
                               compare=True)
    before = report.previous.total
    if not (before.groups or before.no_shows):
        report.previous = None
    return report


def _number(value) -> str:
    value = hours_value(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _highlights(report: StatisticsReport) -> list[Highlight]:
    before = report.previous.total if report.previous else None
    items = [(_("服务单位（个）"), "organisations"), (_("接待团体（批次）"), "groups"),
             (_("服务人次"), "people"), (_("学时（人·学时）"), "person_hours"),
             (_("证书"), "certificates"), (_("未到场"), "no_shows")]
    result = []
    for label, name in items:
        now = getattr(report.total, name)
        note = ""
        if before is not None:
            then = getattr(before, name)
            note = _("上年 %(n)s，同比 %(change)s", n=_number(then),
                     change=change_text(int(now), int(then)))
        result.append(Highlight(label, _number(now), note))
    return result


def _kind_paragraph(t: Tally) -> str:
    return _("%(kind)s：服务 %(organisations)s 个单位、接待 %(groups)s 批团体、%(people)s 人次，"
             "%(hours)s 学时。", kind=tally_label("kind", t), organisations=f"{t.organisations:,}",
             groups=f"{t.groups:,}", people=f"{t.people:,}", hours=_number(t.person_hours))


def _venue_paragraph(t: Tally) -> str:
    return _("%(venue)s：接待 %(groups)s 批团体（其中线下记录 %(offline)s 批）、服务 %(organisations)s "
             "个单位、%(people)s 人次。", venue=tally_label("venue", t), groups=f"{t.groups:,}",
             offline=f"{t.offline_groups:,}", organisations=f"{t.organisations:,}",
             people=f"{t.people:,}")


def _table(report: StatisticsReport, name: str, title: str, header: str,
           limit: int | None = None) -> Table:
    tallies = getattr(report, f"by_{name}")[:limit]
    headers = [header, *measure_headers()]
    rows = []
    for t in tallies:
        rows.append([tally_label(name, t), *measures(t)])
    if report.previous is not None:
        headers += [_("上年同期人次"), _("同比")]
        for row, t in zip(rows, tallies):
            before = report.previous_of(name, t)
            row += [before.people if before else 0,
                    change_text(t.people, before.people if before else None)]
    return Table(title, headers, rows)


def _chart(report: StatisticsReport, name: str, title: str, limit: int | None = None
           ) -> BarSeries:
    return BarSeries(title, [(tally_label(name, t), t.people)
                             for t in getattr(report, f"by_{name}")[:limit]])


def annual_report_data(report: StatisticsReport, year: int, venues: list[Venue],
                       generated_by: str = "") -> AnnualReport:
    """Cover, totals, monthly trend, top programmes and a chart and table per breakdown."""
    titles = dict((name, title) for name, title, _header in breakdowns())
    headers = dict((name, header) for name, _title, header in breakdowns())
    months = BarSeries(_("各月服务人次"), [(t.month[5:], t.people) for t in report.by_month],
                       previous=[(report.previous_of("month", t) or Tally(key=())).people
                                 for t in report.by_month] if report.previous else None,
                       legend=(str(year), str(year - 1)), vertical=True)
    overview = [_("%(year)s 年共接待 %(groups)s 批团体、服务 %(organisations)s 个单位、%(people)s "
                  "人次，合计 %(hours)s 学时，出具学习证明 %(certificates)s 份。", year=year,
                  groups=f"{report.total.groups:,}",
                  organisations=f"{report.total.organisations:,}",
                  people=f"{report.total.people:,}", hours=_number(report.total.person_hours),
                  certificates=f"{report.total.certificates:,}")]
    overview += [_venue_paragraph(t) for t in report.by_venue]
    overview += [_kind_paragraph(t) for t in report.by_kind]
    sections = [
        Section(_("一、总体情况"), overview, tables=[_table(report, "venue", titles["venue"],
                                                          headers["venue"])]),
        Section(_("二、月度趋势"), charts=[months],
                tables=[_table(report, "month", titles["month"], headers["month"])]),
        Section(_("三、重点项目"),
                charts=[_chart(report, "programme", _("服务人次前 %(n)s 的项目",
                                                      n=TOP_PROGRAMMES), TOP_PROGRAMMES)],
                tables=[_table(report, "programme", titles["programme"],
                               headers["programme"])]),
        Section(_("四、项目类型与单位类型"),
                charts=[_chart(report, "kind", titles["kind"]),
                        _chart(report, "organisation_kind", titles["organisation_kind"])],
                tables=[_table(report, "kind", titles["kind"], headers["kind"]),
                        _table(report, "organisation_kind", titles["organisation_kind"],
                               headers["organisation_kind"])]),
    ]
    names = "、".join(v.name for v in venues)
    issuer = "、".join(dict.fromkeys(v.issuing_unit or v.name for v in venues))
    title = _("%(year)s 年度红色教育接待工作报告", year=year)
    generated = _("生成于 %(when)s", when=utcnow().strftime("%Y-%m-%d %H:%M UTC"))
    if generated_by:
        generated += " · " + generated_by
    return AnnualReport(title=title, subtitle=names,
                        period=f"{report.start.isoformat()} – {report.end.isoformat()}",
                        issuer=issuer, generated=generated, highlights=_highlights(report),
                        sections=sections, footer=f"{title} · {names}")


def report_venues(session: Session, venue_id: int | None) -> list[Venue]:
    query = select(Venue).order_by(Venue.position, Venue.id)
    if venue_id is not None:
        query = query.where(Venue.id == venue_id)
    return list(session.scalars(query))


def annual_report_pdf(session: Session, year: int, venue_id: int | None,
                      generated_by: str = "") -> bytes:
    report = year_report(session, year, venue_id)
    return render_pdf(annual_report_data(report, year, report_venues(session, venue_id),
                                         generated_by))


def annual_report_xlsx(session: Session, year: int, venue_id: int | None) -> bytes:
    return render_xlsx(statistics_tables(year_report(session, year, venue_id)))
