"""Visitor feedback for staff under /staff/feedback: average ratings per programme and per
lecturer, the latest comments, and hiding an abusive one (audited; its ratings still count)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from booking.models import Feedback, Role
from booking.models.db import db
from booking.rules import feedback as rules
from booking.usecases import feedback as cases
from booking.web.auth import role_required
from booking.web.staff import statistics_bp as bp

COMMENTS_SHOWN = 200


class HideForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/feedback")
@role_required(Role.STAFF)
def feedback_page():
    show_hidden = request.args.get("hidden") == "1"
    query = select(Feedback).where(Feedback.comment != "")
    if not show_hidden:
        query = query.where(Feedback.hidden.is_(False))
    comments = db.session.scalars(query.order_by(Feedback.created_at.desc(), Feedback.id.desc())
                                  .limit(COMMENTS_SHOWN)).all()
    return render_template("staff/feedback.html",
                           programmes=rules.ratings_by_programme(db.session),
                           lecturers=[r for r in rules.ratings_by_lecturer(db.session) if r.key],
                           comments=comments, show_hidden=show_hidden, form=HideForm())


@bp.route("/feedback/<int:feedback_id>/<any(hide, show):action>", methods=["POST"])
@role_required(Role.STAFF)
def hide_feedback(feedback_id: int, action: str):
    item = db.get_or_404(Feedback, feedback_id)
    if HideForm().validate_on_submit():
        cases.hide_comment(db.session, current_user, item, action == "hide")
        flash(_("已隐藏该评论。") if action == "hide" else _("已恢复显示该评论。"), "success")
    return redirect(url_for("statistics.feedback_page", hidden=request.args.get("hidden")))
