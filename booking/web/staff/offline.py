"""Offline visits under /staff/offline-visits: visits not booked online, typed in one by one or
imported from the XLSX template; listed by year, deletable, counted in the statistics."""
from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from booking.clock import local_today
from booking.errors import BookingError
from booking.i18n import localized
from booking.models import OfflineVisit, OrganisationKind, Role, Venue
from booking.models.db import db
from booking.render.offline_template import render_offline_template
from booking.rules import offline_visits
from booking.rules.offline_import import COLUMNS, ImportRefused
from booking.rules.vocabulary import PROGRAMME_KIND_NAMES, organisation_kind_label
from booking.usecases import offline_visits as cases
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp
from booking.web.staff.offline_forms import OfflineDeleteForm, OfflineImportForm, OfflineVisitForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 200


def _visit_form() -> OfflineVisitForm:
    form = OfflineVisitForm()
    venues = db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)).all()
    form.venue.choices = [(v.id, localized(v, "name")) for v in venues]
    form.organisation_kind.choices = [("", _("请选择单位类型"))] + [
        (k.value, organisation_kind_label(k)) for k in OrganisationKind]
    form.kind.choices = [("", _("按项目自动"))] + [(value, gettext(name)) for value, name
                                                   in PROGRAMME_KIND_NAMES.items()]
    return form


def _year() -> int:
    try:
        return min(2100, max(1990, int(request.args.get("year", ""))))
    except ValueError:
        return local_today().year


def _page(visit_form=None, import_form=None, row_errors=None, status=200):
    year = _year()
    in_year = (OfflineVisit.day >= date(year, 1, 1), OfflineVisit.day <= date(year, 12, 31))
    totals = db.session.execute(select(func.count(OfflineVisit.id),
                                       func.coalesce(func.sum(OfflineVisit.people), 0))
                                .where(*in_year)).one()
    visits = db.session.scalars(select(OfflineVisit).where(*in_year)
                                .order_by(OfflineVisit.day.desc(), OfflineVisit.id.desc())
                                .limit(PAGE_SIZE)).all()
    titles = sorted(offline_visits.programme_catalogue(db.session))
    return render_template(
        "staff/offline_visits.html", year=year, visits=visits, totals=totals,
        titles=titles, visit_form=visit_form or _visit_form(),
        import_form=import_form or OfflineImportForm(), delete_form=OfflineDeleteForm(),
        row_errors=row_errors or [], page_size=PAGE_SIZE), status


@bp.route("/offline-visits", endpoint="offline_visits")
@role_required(Role.STAFF)
def offline_visits_page():
    return _page()


@bp.route("/offline-visits", methods=["POST"])
@role_required(Role.STAFF)
def add_offline_visit():
    form = _visit_form()
    if not form.validate_on_submit():
        return _page(visit_form=form, status=422)
    try:
        hours = offline_visits.parse_hours(form.training_hours.data or "")
    except ValueError:
        form.training_hours.errors = [_("学时必须是数字，例如 1.5。")]
        return _page(visit_form=form, status=422)
    visit = offline_visits.VisitInput(
        venue=db.session.get(Venue, form.venue.data), day=form.day.data,
        organisation_name=form.organisation_name.data,
        organisation_kind=OrganisationKind(form.organisation_kind.data),
        title=form.title.data, people=form.people.data, training_hours=hours,
        kind=form.kind.data or None, lecturer_name=form.lecturer_name.data or "",
        note=form.note.data or "")
    try:
        cases.record_offline_visit(db.session, current_user, visit, local_today())
    except BookingError as error:
        flash(str(error.message), "error")
        return _page(visit_form=form, status=422)
    flash(_("已记录线下接待：%(name)s，%(n)s 人。", name=visit.organisation_name,
            n=visit.people), "success")
    return redirect(url_for("statistics.offline_visits", year=form.day.data.year))


@bp.route("/offline-visits/<int:visit_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete_offline_visit(visit_id: int):
    if OfflineDeleteForm().validate_on_submit():
        try:
            cases.delete_offline_visit(db.session, current_user, visit_id)
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("已删除该线下接待记录。"), "success")
    return redirect(url_for("statistics.offline_visits", year=_year()))


@bp.route("/offline-visits/import", methods=["POST"])
@role_required(Role.STAFF)
def import_offline_visits():
    form = OfflineImportForm()
    if not form.validate_on_submit():
        return _page(import_form=form, status=422)
    upload = form.file.data
    try:
        result = cases.import_offline_visits(db.session, current_user, upload.filename or "",
                                             upload.read(), local_today())
    except ImportRefused as error:
        form.file.errors = [str(error.message)]
        return _page(import_form=form, row_errors=error.row_errors, status=422)
    flash(_("已导入 %(n)s 条线下接待记录，共 %(people)s 人次。", n=result.visits,
            people=result.people), "success")
    return redirect(url_for("statistics.offline_visits"))


@bp.route("/offline-visits/template.xlsx")
@role_required(Role.STAFF)
def offline_template():
    venues = db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)).all()
    with force_locale("zh"):
        headers = [names[0] for names in COLUMNS.values()]
        org_kinds = [organisation_kind_label(k) for k in OrganisationKind]
        kinds = [gettext(name) for name in PROGRAMME_KIND_NAMES.values()]
    titles = sorted(offline_visits.programme_catalogue(db.session))
    example_venue = venues[0].name if venues else "刘伯承同志纪念馆"
    examples = [["2025-03-05", example_venue, "开州区汉丰街道党工委", org_kinds[0],
                 titles[0] if titles else "学习百年党史 感悟刘帅精神", kinds[0], 40, 1.5, "",
                 ""]]
    instructions = [_("每行一次团体接待；第 1 行是表头，请勿修改。"),
                    _("日期写成 2025-03-05；场馆写名称或代码：%(venues)s。",
                      venues="、".join(f"{v.name}（{v.code}）" for v in venues)),
                    _("单位类型：%(kinds)s。", kinds="、".join(org_kinds)),
                    _("项目类型可留空（按项目名称自动识别）：%(kinds)s。", kinds="、".join(kinds)),
                    _("学时为每人学时，可留空；人数为实到人数。"),
                    _("任何一行有误，整个文件都不会导入，页面会列出每一个出错的行号。")]
    data = render_offline_template(headers, examples, instructions,
                                   {1: [v.name for v in venues], 3: org_kinds, 5: kinds})
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": 'attachment; filename="offline_visits_template.xlsx"',
        "Cache-Control": "no-store"})
