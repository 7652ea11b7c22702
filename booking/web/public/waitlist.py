"""Waiting-list pages: join a full slot's list, and the organisation's own entry page (offer,
accept, decline).

Open offers past their hold time are expired by cron (``flask --app run
expire-waitlist-offers``) and also before any waiting-list change is made here (see
:mod:`booking.usecases.waitlist`), so a late cron run never keeps seats from the next group.
Pages only read: an offer past its hold time reads as expired there.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from booking.clock import utcnow
from booking.errors import BookingError
from booking.i18n import current_language
from booking.models import Slot, VenueDay, WaitlistEntry, WaitlistState
from booking.models.db import db
from booking.rules import waitlist
from booking.rules.availability import slot_availability
from booking.rules.party_makeup import counts_adults_and_minors
from booking.rules.workflow import OrganisationDetails, check_slot_open_for_booking
from booking.usecases import waitlist as waitlist_cases
from booking.web import booking_rate_limits
from booking.web.extensions import limiter
from booking.web.public import waitlist_bp as bp
from booking.web.public.pages import remember_new_booking
from booking.web.public.waitlist_forms import WaitlistActionForm, WaitlistForm
from booking.web.responses import private, show_error

# --- the organisation's side -------------------------------------------------------------

@bp.route("/slots/<int:slot_id>/waitlist", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@booking_rate_limits.per_address
@booking_rate_limits.per_phone
def join(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    form = WaitlistForm(party_size_min=slot.party_size_min, party_size_max=slot.party_size_max,
                        makeup=counts_adults_and_minors(slot))
    if form.validate_on_submit():
        try:
            entry, token = waitlist_cases.join(db.session, slot, waitlist.WaitlistRequest(
                organisation=OrganisationDetails(name=form.organisation_name.data,
                                                 kind=form.kind,
                                                 credit_code=form.credit_code.data or None),
                contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
                contact_email=form.contact_email.data or "", party_size=form.party_size.data,
                language=current_language(), notify_by=form.notify_by.data or "",
                **form.party_makeup()))
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("已加入候补名单。请收藏本页：有名额时我们会为您保留，并在这里确认。"), "success")
            return redirect(url_for("waitlist.entry", token=token))
    venue_day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id,
                                                             day=slot.day))
    availability = slot_availability(db.session, slot, venue_day, utcnow())
    refusal = None
    try:
        check_slot_open_for_booking(db.session, slot, utcnow(), override=venue_day)
    except BookingError as error:
        refusal = str(error.message)
    queue_length = len(_queue(slot.id))
    status = 422 if request.method == "POST" else 200
    return render_template("booking/waitlist_join.html", slot=slot, form=form,
                           availability=availability, refusal=refusal,
                           queue_length=queue_length), status


def _queue(slot_id: int) -> list[WaitlistEntry]:
    return db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot_id, WaitlistEntry.state == WaitlistState.WAITING)).all()


def _entry_page(token: str, status: int = 200):
    entry = waitlist.find_entry_by_token(db.session, token)
    return private(current_app.make_response((render_template(
        "booking/waitlist_entry.html", entry=entry, slot=entry.slot, token=token,
        position=waitlist.queue_position(db.session, entry), now=utcnow(),
        action_form=WaitlistActionForm()), status)))


@bp.route("/waitlist/<token>")
@limiter.limit("30 per minute")
def entry(token: str):
    try:
        return _entry_page(token)
    except BookingError as error:
        return private(current_app.make_response((render_template(
            "errors/error.html", status=error.status, message=str(error.message)),
            error.status)))


@bp.route("/waitlist/<token>/accept", methods=["POST"])
@limiter.limit("10 per minute")
def accept(token: str):
    if not WaitlistActionForm().validate_on_submit():
        return redirect(url_for("waitlist.entry", token=token))
    try:
        accepted = waitlist_cases.accept_offer(db.session, token)
    except BookingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("waitlist.entry", token=token))
    if accepted.expired is not None:
        flash(str(waitlist.offer_expired_message(accepted.expired)), "error")
        return redirect(url_for("waitlist.entry", token=token))
    # Shown on the booking confirmation page, exactly as after booking directly.
    remember_new_booking(accepted.booking, accepted.manage_token)
    return redirect(url_for("booking.confirmation", reference=accepted.booking.reference))


@bp.route("/waitlist/<token>/withdraw", methods=["POST"])
@limiter.limit("10 per minute")
def withdraw(token: str):
    if WaitlistActionForm().validate_on_submit():
        try:
            waitlist_cases.withdraw(db.session, token)
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("已退出候补名单。"), "success")
    return redirect(url_for("waitlist.entry", token=token))
