"""The staff waiting list under /staff/waitlist: every live queue in session order, offering
free seats now, and taking an entry off the list.

Open offers past their hold time are expired by cron (``flask --app run
expire-waitlist-offers``) and also here, whenever a waiting-list page is opened, so a late
cron run never keeps seats from the next group.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Role, Slot, WaitlistEntry
from booking.models.db import db
from booking.rules import waitlist
from booking.usecases import waitlist as waitlist_cases
from booking.web.auth import role_required
from booking.web.public.waitlist_forms import WaitlistActionForm
from booking.web.staff import waitlist_bp as staff_bp


@staff_bp.route("")
@role_required(Role.STAFF)
def index():
    show_all = request.args.get("show") == "all"
    groups, positions = waitlist.staff_queue(db.session, utcnow(), show_all)
    return render_template("staff/waitlist.html", groups=groups, positions=positions,
                           show_all=show_all, action_form=WaitlistActionForm())


@staff_bp.route("/slots/<int:slot_id>/offer", methods=["POST"])
@role_required(Role.STAFF)
def offer_now(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    if WaitlistActionForm().validate_on_submit():
        offered = waitlist_cases.offer_now(db.session, slot, current_user)
        if offered:
            flash(_("已为 %(n)s 个候补单位保留名额。", n=len(offered)), "success")
        else:
            flash(_("没有可以发出的名额：余位不足以满足任何候补单位。"), "warning")
    return redirect(url_for("waitlist_staff.index"))


@staff_bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
@role_required(Role.STAFF)
def withdraw_entry(entry_id: int):
    entry = db.get_or_404(WaitlistEntry, entry_id)
    if WaitlistActionForm().validate_on_submit():
        try:
            waitlist_cases.withdraw_entry(db.session, entry, current_user)
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("已将 %(name)s 移出候补名单。", name=entry.organisation.name), "success")
    return redirect(url_for("waitlist_staff.index"))
