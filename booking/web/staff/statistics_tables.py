"""The statistics as labelled tables, in the reader's language: shared by the statistics page's
exports, the annual report (PDF and XLSX) and the CLI."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from booking.i18n import localized
from booking.render.tables import Table
from booking.rules.statistics import StatisticsReport, Tally
from booking.rules.vocabulary import organisation_kind_label, programme_kind_label


def hours_value(value: Decimal) -> int | float:
    """学时 as a number a spreadsheet keeps: whole when whole, else one decimal."""
    value = Decimal(value).quantize(Decimal("0.1"))
    return int(value) if value == value.to_integral_value() else float(value)


def change_text(now: int, before: int | None) -> str:
    """Year-on-year change of a figure, e.g. "+12.5%"; "—" when there is nothing to compare."""
    if before is None or before == 0:
        return "—" if not now or before is None else _("新增")
    return f"{(now - before) * 100 / before:+.1f}%"


def measure_headers() -> list[str]:
    return [_("服务单位数"), _("服务人次"), _("团体数"), _("学时（人·学时）"), _("证书"),
            _("未到场"), _("其中线下团体")]


def measures(t: Tally) -> list:
    return [t.organisations, t.people, t.groups, hours_value(t.person_hours), t.certificates,
            t.no_shows, t.offline_groups]


def kind_label(kind: str) -> str:
    return programme_kind_label(kind or None)


def org_kind_label(kind: str) -> str:
    return organisation_kind_label(kind) if kind else _("其他")


LABELS = {
    "venue": lambda t: localized(t, "venue_name"),
    "programme": lambda t: localized(t, "title"),
    "kind": lambda t: kind_label(t.kind),
    "organisation_kind": lambda t: org_kind_label(t.organisation_kind),
    "month": lambda t: t.month,
    "year": lambda t: t.year,
}


def tally_label(breakdown: str, tally: Tally) -> str:
    """The row label of a tally of ``breakdown`` (venue, programme, kind, … year)."""
    return LABELS[breakdown](tally)


def _breakdown(report: StatisticsReport, name: str, title: str, label_header: str) -> Table:
    tallies = getattr(report, f"by_{name}")
    headers = [label_header, *measure_headers()]
    if report.previous is not None:
        headers += [_("上年同期人次"), _("同比")]
    rows = []
    for t in tallies:
        row = [tally_label(name, t), *measures(t)]
        if report.previous is not None:
            before = report.previous_of(name, t)
            row += [before.people if before else 0,
                    change_text(t.people, before.people if before else None)]
        rows.append(row)
    return Table(title, headers, rows)


def breakdowns() -> list[tuple[str, str, str]]:
    """(breakdown, table title, label header) in the order pages and reports show them."""
    return [("venue", _("按场馆"), _("场馆")), ("programme", _("按项目"), _("项目")),
            ("kind", _("按类型"), _("类型")),
            ("organisation_kind", _("按单位类型"), _("单位类型")),
            ("month", _("按月份"), _("月份")), ("year", _("按年份"), _("年份"))]


def statistics_tables(report: StatisticsReport) -> list[Table]:
    """Summary, one table per breakdown, and the venue × month × kind × programme detail."""
    total = [f"{report.start.isoformat()} – {report.end.isoformat()}", *measures(report.total)]
    summary_headers = [_("统计范围"), *measure_headers()]
    if report.previous is not None:
        summary_headers += [_("上年同期人次"), _("同比")]
        total += [report.previous.total.people,
                  change_text(report.total.people, report.previous.total.people)]
    return [
        Table(_("汇总"), summary_headers, [total]),
        *[_breakdown(report, name, title, header) for name, title, header in breakdowns()],
        Table(_("明细"), [_("场馆"), _("月份"), _("类型"), _("项目"), *measure_headers()],
              [[localized(t, "venue_name"), t.month, kind_label(t.kind), localized(t, "title"),
                *measures(t)] for t in report.detail]),
    ]
