"""Statistics for staff: /staff/statistics (tables and SVG bar charts) and its CSV / Excel
exports, all driven by the same query parameters (start, end, venue)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from babel import dates as babel_dates
from flask import Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from booking.clock import local_today
from booking.i18n import localized
from booking.models import Role, Venue
from booking.models.db import db
from booking.rules import statistics
from booking.rules.vocabulary import programme_kind_label
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp

MAX_RANGE_DAYS = 5 * 366


class StatisticsForm(FlaskForm):
    """The date range (both days included) and an optional venue; read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])
    venue = SelectField(_l("场馆"), coerce=int, default=0)

    def validate_end(self, field) -> None:
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("结束日期不能早于开始日期。"))
            if (field.data - self.start.data).days > MAX_RANGE_DAYS:
                raise ValidationError(_l("统计范围最长 5 年。"))


def _read_form() -> StatisticsForm:
    """The form read from the query string, empty dates defaulting to this calendar year."""
    form = StatisticsForm(formdata=request.args)
    venues = db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)).all()
    form.venue.choices = [(0, _("全部场馆"))] + [(v.id, localized(v, "name")) for v in venues]
    today = local_today()
    if not form.start.raw_data or not form.start.raw_data[0]:
        form.start.data = date(today.year, 1, 1)
    if not form.end.raw_data or not form.end.raw_data[0]:
        form.end.data = date(today.year, 12, 31)
    if not request.args.get("venue"):
        form.venue.data = 0
    return form


def _report(form: StatisticsForm) -> statistics.StatisticsReport:
    return statistics.statistics_report(db.session, form.start.data, form.end.data,
                                        form.venue.data or None)


# --- charts: plain geometry the template draws as SVG ---------------------------------------

@dataclass
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass
class Chart:
    """Horizontal bars, one row per label: readable at phone width, exact values at bar ends."""

    width: int
    height: int
    label_width: int
    row_height: int
    bar_height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (x, value) of vertical gridlines


def _nice_step(top: int, lines: int = 4) -> int:
    raw = max(1, top) / lines
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, int(factor * magnitude))
    return max(1, int(10 * magnitude))


def bar_chart(points: list[tuple[str, int]], width: int = 420, row_height: int = 26,
              label_width: int = 72) -> Chart:
    """Scale bars to a value axis rounded to 1-2-5 steps, leaving room for the value text."""
    top = max((value for _, value in points), default=0)
    step = _nice_step(top)
    axis_top = step * max(1, math.ceil(top / step))
    plot_width = width - label_width - 44
    bars = [Bar(label, value, index * row_height, plot_width * value / axis_top)
            for index, (label, value) in enumerate(points)]
    ticks = [(label_width + plot_width * v / axis_top, v) for v in range(0, axis_top + 1, step)]
    return Chart(width, row_height * len(points) + 18, label_width, row_height,
                 row_height - 8, bars, ticks)


def _month_label(month: str, multi_year: bool) -> str:
    day = date(int(month[:4]), int(month[5:]), 1)
    return babel_dates.format_skeleton("yyMM" if multi_year else "MMM", day, locale=get_locale())


# --- tables shared by the page and the exports -------------------------------------------

def _tables(report: statistics.StatisticsReport) -> list[statistics.Table]:
    people, organisations, groups = _("服务人次"), _("服务单位数"), _("团体数")

    def venue(t):
        return localized(t, "venue_name")

    def title(t):
        return localized(t, "title")

    def counts(t):
        return [t.organisations, t.people, t.groups]

    return [
        statistics.Table(_("汇总"), [_("统计范围"), organisations, people, groups],
                         [[f"{report.start.isoformat()} – {report.end.isoformat()}",
                           *counts(report.total)]]),
        statistics.Table(_("按场馆"), [_("场馆"), organisations, people, groups],
                         [[venue(t), *counts(t)] for t in report.by_venue]),
        statistics.Table(_("按项目"), [_("项目"), organisations, people, groups],
                         [[title(t), *counts(t)] for t in report.by_programme]),
        statistics.Table(_("按类型"), [_("类型"), organisations, people, groups],
                         [[programme_kind_label(t.kind), *counts(t)] for t in report.by_kind]),
        statistics.Table(_("按月份"), [_("月份"), organisations, people, groups],
                         [[t.month, *counts(t)] for t in report.by_month]),
        statistics.Table(_("明细"), [_("场馆"), _("月份"), _("类型"), _("项目"),
                                     organisations, people, groups],
                         [[venue(t), t.month, programme_kind_label(t.kind), title(t), *counts(t)]
                          for t in report.detail]),
    ]


@bp.route("/statistics")
@role_required(Role.STAFF)
def index():
    form = _read_form()
    if not form.validate():
        return render_template("staff/statistics.html", form=form, report=None), 422
    report = _report(form)
    multi_year = form.start.data.year != form.end.data.year
    month_chart = bar_chart([(_month_label(t.month, multi_year), t.people)
                             for t in report.by_month])
    return render_template("staff/statistics.html", form=form, report=report,
                           month_chart=month_chart,
                           max_programme=max((t.people for t in report.by_programme), default=0),
                           query=_query_args(form))


def _query_args(form: StatisticsForm) -> dict:
    args = {"start": form.start.data.isoformat(), "end": form.end.data.isoformat()}
    if form.venue.data:
        args["venue"] = form.venue.data
    return args


def _export(suffix: str, mimetype: str, render) -> Response:
    form = _read_form()
    if not form.validate():
        return redirect(url_for("statistics.index", **request.args))
    data = render(_tables(_report(form)))
    filename = f"statistics_{form.start.data.isoformat()}_{form.end.data.isoformat()}.{suffix}"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.route("/statistics.csv")
@role_required(Role.STAFF)
def export_csv():
    return _export("csv", "text/csv; charset=utf-8", statistics.render_csv)


@bp.route("/statistics.xlsx")
@role_required(Role.STAFF)
def export_xlsx():
    return _export("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   statistics.render_xlsx)
