"""The audit log for admins: read as sentences on the page, exported raw as CSV.

The page says what happened in the reader's language (:mod:`booking.rules.audit_sentences`);
the export keeps the action codes and the stored before/after JSON for whoever audits the
auditors, every cell through the spreadsheet escape (:func:`booking.render.cells.safe_cell`).
"""
from __future__ import annotations

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from booking.models import AuditEntry, Role
from booking.models.db import db
from booking.render.tables import Table, render_csv
from booking.web.auth import role_required
from booking.web.staff import bp
from booking.web.staff.forms import AuditFilterForm
from booking.web.template_helpers import shanghai_time

AUDIT_PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows in one CSV; narrow the filter for more


def _filtered(form: AuditFilterForm) -> Select:
    query = select(AuditEntry).options(joinedload(AuditEntry.user))
    if form.action.data and not form.action.errors:
        query = query.where(AuditEntry.action.startswith(form.action.data.strip(),
                                                         autoescape=True))
    if form.object_type.data and not form.object_type.errors:
        query = query.where(AuditEntry.object_type == form.object_type.data.strip())
    if form.object_id.data and not form.object_id.errors:
        query = query.where(AuditEntry.object_id == form.object_id.data.strip())
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit():
    form = AuditFilterForm(request.args)
    form.validate()
    page = db.paginate(_filtered(form), per_page=AUDIT_PAGE_SIZE,
                       max_per_page=AUDIT_PAGE_SIZE, error_out=False)
    actions = db.session.scalars(select(AuditEntry.action).distinct()
                                 .order_by(AuditEntry.action)).all()
    types = db.session.scalars(select(AuditEntry.object_type).distinct()
                               .order_by(AuditEntry.object_type)).all()

    def page_url(number: int) -> str:
        return url_for("staff.audit", **{**request.args.to_dict(), "page": number})

    export_url = url_for("staff.audit_export", **{k: v for k, v in request.args.items()
                                                  if k != "page"})
    return render_template("staff/audit.html", page=page, form=form, actions=actions,
                           types=types, page_url=page_url, export_url=export_url)


@bp.route("/audit.csv")
@role_required(Role.ADMIN)
def audit_export():
    """The raw log (codes, JSON), newest first, under the page's filters."""
    form = AuditFilterForm(request.args)
    form.validate()
    entries = db.session.scalars(_filtered(form).limit(EXPORT_LIMIT)).unique().all()
    table = Table(_("审计日志"), [
        "at_beijing", "user", "action", "object_type", "object_id", "before", "after"], [
        [shanghai_time(e.at, "%Y-%m-%d %H:%M:%S"), e.user.username if e.user else "",
         e.action, e.object_type, e.object_id, e.before or "", e.after or ""]
        for e in entries])
    return Response(render_csv([table]), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-log.csv"',
        "Cache-Control": "no-store"})
