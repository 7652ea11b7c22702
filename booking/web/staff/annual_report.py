"""The annual report under /staff/statistics/annual: a year's figures as the PDF a museum sends
its supervising office, and as XLSX, for one venue or all."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from booking.clock import local_today
from booking.i18n import localized
from booking.models import Role, Venue
from booking.models.db import db
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp
from booking.web.staff.annual_data import annual_report_pdf, annual_report_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AnnualReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    year = IntegerField(_l("年份"), validators=[
        InputRequired(_l("请填写年份。")),
        NumberRange(min=1990, max=2100, message=_l("年份须在 1990 到 2100 之间。"))])
    venue = SelectField(_l("场馆"), coerce=int, default=0)


def _form() -> AnnualReportForm:
    form = AnnualReportForm(formdata=request.args if request.args else None)
    venues = db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)).all()
    form.venue.choices = [(0, _("全部场馆"))] + [(v.id, localized(v, "name")) for v in venues]
    if not request.args.get("year"):
        form.year.data = local_today().year - (local_today().month < 3)
    return form


@bp.route("/statistics/annual")
@role_required(Role.STAFF)
def annual_report():
    return render_template("staff/annual_report.html", form=_form())


def _download(render, suffix: str, mimetype: str):
    form = _form()
    if not form.validate():
        return render_template("staff/annual_report.html", form=form), 422
    data = render(form.year.data, form.venue.data or None)
    name = f"annual_report_{form.year.data}{'_' + str(form.venue.data) if form.venue.data else ''}"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{suffix}"',
        "Cache-Control": "no-store"})


@bp.route("/statistics/annual.pdf")
@role_required(Role.STAFF)
def annual_report_as_pdf():
    by = current_user.display_name or current_user.username
    return _download(lambda year, venue: annual_report_pdf(db.session, year, venue, by),
                     "pdf", "application/pdf")


@bp.route("/statistics/annual.xlsx")
@role_required(Role.STAFF)
def annual_report_as_xlsx():
    return _download(lambda year, venue: annual_report_xlsx(db.session, year, venue),
                     "xlsx", XLSX)
