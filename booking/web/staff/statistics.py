"""Statistics for staff: /staff/statistics (tables and SVG bar charts, the year before beside
them) and its CSV / Excel exports, all driven by the same query parameters (start, end,
venue)."""
from __future__ import annotations

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
from booking.render.tables import render_csv, render_xlsx
from booking.rules import statistics
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp
from booking.web.staff.charts import bar_chart
from booking.web.staff.statistics_tables import (
    breakdowns,
    change_text,
    hours_value,
    kind_label,
    measure_headers,
    org_kind_label,
    statistics_tables,
    tally_label,
)

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


def read_form() -> StatisticsForm:
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
                                        form.venue.data or None, compare=True)


def _month_label(month: str, multi_year: bool) -> str:
    day = date(int(month[:4]), int(month[5:]), 1)
    return babel_dates.format_skeleton("yyMM" if multi_year else "MMM", day, locale=get_locale())


@bp.route("/statistics")
@role_required(Role.STAFF)
def index():
    form = read_form()
    if not form.validate():
        return render_template("staff/statistics.html", form=form, report=None), 422
    report = _report(form)
    multi_year = form.start.data.year != form.end.data.year
    charts = {
        "month": bar_chart([(_month_label(t.month, multi_year), t.people)
                            for t in report.by_month]),
        "kind": bar_chart([(kind_label(t.kind), t.people) for t in report.by_kind],
                          label_width=120),
        "organisation_kind": bar_chart([(org_kind_label(t.organisation_kind), t.people)
                                        for t in report.by_organisation_kind], label_width=120),
    }
    return render_template("staff/statistics.html", form=form, report=report, charts=charts,
                           month_chart=charts["month"], headers=measure_headers(),
                           change_text=change_text, tally_label=tally_label,
                           hours=hours_value, breakdowns=breakdowns(),
                           max_programme=max((t.people for t in report.by_programme), default=0),
                           query=query_args(form))


def query_args(form: StatisticsForm) -> dict:
    args = {"start": form.start.data.isoformat(), "end": form.end.data.isoformat()}
    if form.venue.data:
        args["venue"] = form.venue.data
    return args


def _export(suffix: str, mimetype: str, render) -> Response:
    form = read_form()
    if not form.validate():
        return redirect(url_for("statistics.index", **request.args))
    data = render(statistics_tables(_report(form)))
    filename = f"statistics_{form.start.data.isoformat()}_{form.end.data.isoformat()}.{suffix}"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.route("/statistics.csv")
@role_required(Role.STAFF)
def export_csv():
    return _export("csv", "text/csv; charset=utf-8", render_csv)


@bp.route("/statistics.xlsx")
@role_required(Role.STAFF)
def export_xlsx():
    return _export("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   render_xlsx)
