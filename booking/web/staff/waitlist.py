"""Waiting-list pages: join a full slot's list, the organisation's own entry page (offer,
accept, decline), and the staff list under /staff/waitlist.

Open offers past their hold time are expired by cron (``flask --app run
expire-waitlist-offers``) and also here, whenever a waiting-list page is opened, so a late
cron run never keeps seats from the next group.
"""
from __future__ import annotations

from collections import defaultdict

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Role, Slot, WaitlistEntry, WaitlistState
from booking.models.db import db
from booking.rules import waitlist
from booking.rules.audit import record_change
from booking.web.auth import role_required
from booking.web.public.waitlist import _expire_due_offers, _hold_hours
from booking.web.public.waitlist_forms import WaitlistActionForm
from booking.web.staff import waitlist_bp as staff_bp

# --- staff -------------------------------------------------------------------------------

@staff_bp.route("")
@role_required(Role.STAFF)
def index():
    _expire_due_offers()
    show_all = request.args.get("show") == "all"
    states = list(WaitlistState) if show_all else list(waitlist.LIVE_STATES)
    entries = db.session.scalars(
        select(WaitlistEntry).join(Slot, WaitlistEntry.slot_id == Slot.id)
        .where(Slot.starts_at > utcnow(), WaitlistEntry.state.in_(states))
        .options(joinedload(WaitlistEntry.slot).joinedload(Slot.venue),
                 joinedload(WaitlistEntry.organisation))
        .order_by(Slot.starts_at, Slot.id, WaitlistEntry.created_at, WaitlistEntry.id)).all()
    by_slot: dict[int, list] = defaultdict(list)
    slots: dict[int, Slot] = {}
    for item in entries:
        slots[item.slot_id] = item.slot
        by_slot[item.slot_id].append(item)
    positions = {}
    for slot_entries in by_slot.values():
        waiting = [e for e in slot_entries if e.state is WaitlistState.WAITING]
        positions.update({e.id: n for n, e in enumerate(waiting, start=1)})
    groups = [(slots[slot_id], by_slot[slot_id]) for slot_id in by_slot]
    return render_template("staff/waitlist.html", groups=groups, positions=positions,
                           show_all=show_all, action_form=WaitlistActionForm())


@staff_bp.route("/slots/<int:slot_id>/offer", methods=["POST"])
@role_required(Role.STAFF)
def offer_now(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    if WaitlistActionForm().validate_on_submit():
        taken_before = slot.taken
        offered = waitlist.offer_freed_seats(db.session, slot, utcnow(), _hold_hours())
        if offered:
            record_change(db.session, current_user, "waitlist.offer", slot,
                          before={"taken": taken_before},
                          after={"taken": slot.taken,
                                 "offered": [{"entry": e.id, "seats": e.seats_held}
                                             for e in offered]})
        db.session.commit()
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
        before = {"state": entry.state.value, "seats_held": entry.seats_held}
        try:
            offered = waitlist.withdraw_entry(db.session, entry, utcnow(), _hold_hours())
            record_change(db.session, current_user, "waitlist.withdraw", entry, before=before,
                          after={"state": entry.state.value, "seats_held": entry.seats_held,
                                 "offered_onward": [e.id for e in offered]})
            db.session.commit()
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("已将 %(name)s 移出候补名单。", name=entry.organisation.name), "success")
    return redirect(url_for("waitlist_staff.index"))
