"""Workload under /staff/workload: sessions, hours and people per lecturer or guide and month,
for staff planning rotas (everyone) and for each guide (their own sessions only), with an
Excel export. Read from the same query string as the statistics (start, end, venue)."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from booking.clock import utcnow
from booking.models import Role
from booking.models.db import db
from booking.render.tables import Table, render_xlsx
from booking.rules.workload import Workload, workload
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp
from booking.web.staff.statistics import query_args, read_form
from booking.web.staff.statistics_tables import hours_value


def _workload(form) -> Workload:
    own = current_user.role is Role.GUIDE
    return workload(db.session, form.start.data, form.end.data, utcnow(),
                    form.venue.data or None, current_user.id if own else None)


def _tables(result: Workload) -> list[Table]:
    headers = [_("场次"), _("小时"), _("服务人次")]
    return [
        Table(_("按人员"), [_("讲解员"), *headers],
              [[r.person, r.sessions, hours_value(r.hours), r.people] for r in result.people]),
        Table(_("按人员和月份"), [_("讲解员"), _("月份"), *headers],
              [[r.person, r.month, r.sessions, hours_value(r.hours), r.people]
               for r in result.months]),
    ]


@bp.route("/workload")
@role_required(Role.STAFF, Role.GUIDE)
def workload_page():
    form = read_form()
    if not form.validate():
        return render_template("staff/workload.html", form=form, result=None), 422
    return render_template("staff/workload.html", form=form, result=_workload(form),
                           hours=hours_value, own=current_user.role is Role.GUIDE,
                           query=query_args(form))


@bp.route("/workload.xlsx")
@role_required(Role.STAFF, Role.GUIDE)
def workload_xlsx():
    form = read_form()
    if not form.validate():
        return redirect(url_for("statistics.workload_page", **request.args))
    data = render_xlsx(_tables(_workload(form)))
    name = f"workload_{form.start.data.isoformat()}_{form.end.data.isoformat()}.xlsx"
    return Response(data, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                   "Cache-Control": "no-store"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
