"""The organisation's secret manage link: see, edit, cancel and export one booking.

Registered on the public ``booking`` blueprint. Every route starts from the reference and
token in the URL; a wrong one of either gives the same 404 page.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from booking.errors import BookingError, NotFound
from booking.models import Booking
from booking.models.db import db
from booking.render.booking_pass import render_confirmation_pdf
from booking.render.ics import render_booking_ics
from booking.rules import door, opening, workflow
from booking.rules.booking_event import booking_event
from booking.rules.party_makeup import PartyMakeup, counts_adults_and_minors
from booking.usecases import bookings
from booking.web.public import bp
from booking.web.public.forms import AttendeesForm, CancelForm, PartySizeForm
from booking.web.public.pages import attendee_names, manage_url
from booking.web.responses import private, show_error


def _booking_or_404(reference: str, token: str) -> Booking:
    try:
        return workflow.find_booking_by_token(db.session, reference, token)
    except NotFound:
        abort(404)


def _change_refusal(booking: Booking) -> str | None:
    """Why the organisation can no longer change the booking itself, or None."""
    try:
        workflow.check_changeable(booking)
    except BookingError as refused:
        return str(refused.message)
    return None


def _manage_page(booking: Booking, token: str, *, attendees_form=None, size_form=None,
                 status: int = 200):
    if attendees_form is None:
        attendees_form = AttendeesForm(formdata=None,
                                       attendees="\n".join(a.name for a in booking.attendees))
    if size_form is None:
        size_form = PartySizeForm(formdata=None, party_size=booking.party_size,
                                  adults=booking.adults, minors=booking.minors,
                                  makeup=counts_adults_and_minors(booking.slot))
    venue = booking.slot.venue
    response = current_app.make_response((render_template(
        "booking/manage.html", booking=booking, token=token, slot=booking.slot, venue=venue,
        attendees_form=attendees_form, size_form=size_form,
        change_refusal=_change_refusal(booking),
        deadline=opening.cancellation_deadline(venue, booking.slot.day),
        manage_link=manage_url(booking.reference, token)), status))
    return private(response)


@bp.route("/manage/<reference>/<token>")
def manage(reference: str, token: str):
    booking = _booking_or_404(reference, token)
    return _manage_page(booking, token)


@bp.route("/manage/<reference>/<token>/attendees", methods=["POST"])
def manage_attendees(reference: str, token: str):
    booking = _booking_or_404(reference, token)
    form = AttendeesForm()
    if form.validate_on_submit():
        try:
            bookings.replace_attendees(db.session, booking, attendee_names(form))
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("参加人员名单已保存（共 %(n)s 人）。", n=len(booking.attendees)), "success")
            return redirect(url_for("booking.manage", reference=reference, token=token))
    booking = _booking_or_404(reference, token)
    return _manage_page(booking, token, attendees_form=form, status=422)


@bp.route("/manage/<reference>/<token>/party-size", methods=["POST"])
def manage_party_size(reference: str, token: str):
    booking = _booking_or_404(reference, token)
    form = PartySizeForm(makeup=counts_adults_and_minors(booking.slot))
    if form.validate_on_submit():
        try:
            bookings.change_party_size(db.session, booking, form.party_size.data,
                                       PartyMakeup(**form.party_makeup()))
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("团体人数已改为 %(n)s 人，多出的座位已释放。", n=booking.party_size), "success")
            return redirect(url_for("booking.manage", reference=reference, token=token))
    booking = _booking_or_404(reference, token)
    return _manage_page(booking, token, size_form=form, status=422)


@bp.route("/manage/<reference>/<token>/cancel", methods=["GET", "POST"])
def manage_cancel(reference: str, token: str):
    """A confirm step first (GET), then the cancellation itself (POST)."""
    booking = _booking_or_404(reference, token)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            bookings.cancel_by_organisation(db.session, booking, form.reason.data or "")
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("预约已取消，座位已释放。"), "success")
        return redirect(url_for("booking.manage", reference=reference, token=token))
    refusal = _change_refusal(booking)
    response = current_app.make_response(render_template(
        "booking/cancel.html", booking=booking, token=token, slot=booking.slot, form=form,
        change_refusal=refusal))
    return private(response)


@bp.route("/manage/<reference>/<token>/booking.ics")
def manage_ics(reference: str, token: str):
    booking = _booking_or_404(reference, token)
    body = render_booking_ics(booking_event(booking, current_app.config.get("PUBLIC_BASE_URL"),
                                            manage_url(booking.reference, token)))
    response = current_app.make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="booking-{booking.display_reference}.ics"')
    return private(response)


@bp.route("/manage/<reference>/<token>/confirmation.pdf")
def manage_pdf(reference: str, token: str):
    """The printable confirmation (预约确认单) with the door pass."""
    booking = _booking_or_404(reference, token)
    response = current_app.make_response(render_confirmation_pdf(door.confirmation_sheet(booking)))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'inline; filename="confirmation-{booking.display_reference}.pdf"')
    return private(response)
