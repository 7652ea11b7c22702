"""The organisation's secret manage link: see, edit, cancel and export one booking.

Registered on the public ``booking`` blueprint. The link from the mail,
``/manage/<reference>/<token>``, is traded on its first visit for a cookie and a 303 to
``/manage/<reference>`` (:mod:`.manage_access`); the page and every action live under that
token-free URL, so the token never sits in a page's address, its links or a Referer. A wrong
link gives one 404 page; the token-free URL without the cookie says to use the mail's link or
``/find``, whichever booking it names.
"""
from __future__ import annotations

import re
from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from booking.errors import BookingError
from booking.models import Booking
from booking.models.db import db
from booking.render.booking_pass import render_confirmation_pdf
from booking.render.ics import render_booking_ics
from booking.rules import door, opening, workflow
from booking.rules.booking_event import booking_event
from booking.rules.feedback import feedback_token
from booking.rules.party_makeup import PartyMakeup, counts_adults_and_minors
from booking.usecases import bookings
from booking.usecases.letters import letter_max_mb, max_letter_bytes
from booking.usecases.policy import minors_per_adult
from booking.web.public import bp
from booking.web.public.forms import AttendeesForm, CancelForm, LetterForm, PartySizeForm
from booking.web.public.manage_access import booking_for_token, grant, granted_booking, manage_path
from booking.web.public.pages import absolute_path
from booking.web.responses import private, show_error

#: What an old link with the token before a sub-path may still point at (bookmarks, the
#: confirmation page of earlier versions): it redirects like the link itself.
_OLD_SUB_PATHS = re.compile(r"^(booking\.ics|confirmation\.pdf|cancel|certificates\.pdf"
                            r"|certificates/\d{1,9}\.pdf)$")


def managed(view):
    """Run ``view(booking, …)`` for the booking this browser's cookie grants, else say how to
    get in. For the course pages' certificate downloads too."""
    @wraps(view)
    def wrapped(reference: str, **kwargs):
        booking = granted_booking(reference)
        if booking is None:
            return private(current_app.make_response((render_template(
                "booking/manage_link_needed.html"), 403)))
        return view(booking, **kwargs)
    return wrapped


def _change_refusal(booking: Booking) -> str | None:
    """Why the organisation can no longer change the booking itself, or None."""
    try:
        workflow.check_changeable(booking)
    except BookingError as refused:
        return str(refused.message)
    return None


def _manage_page(booking: Booking, *, attendees_form=None, size_form=None, letter_form=None,
                 status: int = 200):
    if attendees_form is None:
        attendees_form = AttendeesForm(formdata=None,
                                       attendees="\n".join(a.name for a in booking.attendees))
    if size_form is None:
        size_form = PartySizeForm(formdata=None, party_size=booking.party_size,
                                  adults=booking.adults, minors=booking.minors,
                                  makeup=counts_adults_and_minors(booking.slot))
    letter_form = letter_form or LetterForm(formdata=None)
    failed = next((form for form in (attendees_form, size_form, letter_form) if form.errors), None)
    venue = booking.slot.venue
    response = current_app.make_response((render_template(
        "booking/manage.html", booking=booking, slot=booking.slot, venue=venue,
        attendees_form=attendees_form, size_form=size_form, failed_form=failed,
        letter_form=letter_form, letter_max_mb=letter_max_mb(),
        change_refusal=_change_refusal(booking),
        deadline=opening.cancellation_deadline(venue, booking.slot.day),
        feedback_token=feedback_token(booking.reference, current_app.config["SECRET_KEY"])),
        status))
    return private(response)


def _back_to_page(booking: Booking):
    """After a change (POST-redirect-GET), or a change's address opened without a POST (or a
    failed change's page reloaded): the manage page itself, never a 405."""
    return private(redirect(url_for("booking.manage_page", reference=booking.reference), 303))


@bp.route("/manage/<reference>/<token>")
def manage(reference: str, token: str):
    """The link from the mail: trade the token for the cookie, then the token-free page."""
    booking = booking_for_token(reference, token) or abort(404)
    return private(grant(redirect(manage_path(booking.reference), 303), booking))


@bp.route("/manage/<reference>/<token>/<path:rest>")
def manage_old_sub_path(reference: str, token: str, rest: str):
    if not _OLD_SUB_PATHS.match(rest):
        abort(404)
    booking = booking_for_token(reference, token) or abort(404)
    return private(grant(redirect(f"{manage_path(booking.reference)}/{rest}", 303), booking))


@bp.route("/manage/<reference>")
@managed
def manage_page(booking: Booking):
    return _manage_page(booking)


@bp.route("/manage/<reference>/attendees", methods=["GET", "POST"])
@managed
def manage_attendees(booking: Booking):
    """POST-redirect-GET: success is a 303 to the manage page with a message; a refusal is
    the manage page again (422) with the summary at the top, whose script puts the manage
    page's own address back in the address bar so a reload does not post again."""
    if request.method == "GET":
        return _back_to_page(booking)
    form = AttendeesForm()
    if form.validate_on_submit():
        try:
            bookings.replace_attendees(db.session, booking, form.typed_names())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("参加人员名单已保存（共 %(n)s 人）。", n=len(booking.attendees)), "success")
            return _back_to_page(booking)
    booking = db.session.get(Booking, booking.id)  # reloaded after a refusal's rollback
    return _manage_page(booking, attendees_form=form, status=422)


@bp.route("/manage/<reference>/letter", methods=["GET", "POST"])
@managed
def manage_letter(booking: Booking):
    """Send or replace the introduction letter (介绍信)."""
    if request.method == "GET":
        return _back_to_page(booking)
    form = LetterForm()
    if form.validate_on_submit():
        data = form.letter_bytes(max_letter_bytes())
        try:
            bookings.upload_letter(db.session, booking, data if data is not None else b"")
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("介绍信已上传，工作人员审核时可以查看。"), "success")
            return _back_to_page(booking)
    booking = db.session.get(Booking, booking.id)
    return _manage_page(booking, letter_form=form, status=422)


@bp.route("/manage/<reference>/party-size", methods=["GET", "POST"])
@managed
def manage_party_size(booking: Booking):
    if request.method == "GET":
        return _back_to_page(booking)
    form = PartySizeForm(makeup=counts_adults_and_minors(booking.slot))
    if form.validate_on_submit():
        try:
            bookings.change_party_size(db.session, booking, form.party_size.data,
                                       PartyMakeup(**form.party_makeup()))
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("团体人数已改为 %(n)s 人，多出的座位已释放。", n=booking.party_size), "success")
            return _back_to_page(booking)
    booking = db.session.get(Booking, booking.id)
    return _manage_page(booking, size_form=form, status=422)


@bp.route("/manage/<reference>/cancel", methods=["GET", "POST"])
@managed
def manage_cancel(booking: Booking):
    """A confirm step first (GET), then the cancellation itself (POST)."""
    form = CancelForm()
    if form.validate_on_submit():
        try:
            bookings.cancel_by_organisation(db.session, booking, form.reason.data or "")
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("预约已取消，座位已释放。"), "success")
        return _back_to_page(booking)
    refusal = _change_refusal(booking)
    response = current_app.make_response((render_template(
        "booking/cancel.html", booking=booking, slot=booking.slot, form=form,
        change_refusal=refusal), 422 if form.errors else 200))
    return private(response)


@bp.route("/manage/<reference>/booking.ics")
@managed
def manage_ics(booking: Booking):
    body = render_booking_ics(booking_event(booking, current_app.config.get("PUBLIC_BASE_URL"),
                                            absolute_path(manage_path(booking.reference))))
    response = current_app.make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="booking-{booking.display_reference}.ics"')
    return private(response)


@bp.route("/manage/<reference>/confirmation.pdf")
@managed
def manage_pdf(booking: Booking):
    """The printable confirmation (预约确认单) with the door pass."""
    response = current_app.make_response(render_confirmation_pdf(door.confirmation_sheet(booking, minors_per_adult())))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'inline; filename="confirmation-{booking.display_reference}.pdf"')
    return private(response)
