"""The front desk: book for a group (phone or walk-up), edit, move or cancel a booking, and
find bookings. Each view parses a form, calls one use case, and renders or redirects."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from booking.clock import local, local_today
from booking.errors import BookingError
from booking.i18n import localized
from booking.models import Booking, BookingState, OrganisationKind, Role, Slot
from booking.models.db import db
from booking.render.booking_pass import render_confirmation_pdf
from booking.rules import approval, door, search
from booking.rules.workflow import BookingRequest, OrganisationDetails
from booking.usecases import frontdesk
from booking.usecases.policy import minors_per_adult
from booking.web.auth import role_required
from booking.web.staff import bp
from booking.web.staff.frontdesk_forms import (
    EditBookingForm,
    MoveBookingForm,
    SearchForm,
    StaffBookingForm,
    StaffCancelForm,
)


def _slot_label(slot: Slot) -> str:
    return _("%(day)s %(time)s · %(venue)s · %(title)s · 余 %(n)s 座",
             day=slot.day.isoformat(), time=local(slot.starts_at, slot.venue.tz).strftime("%H:%M"),
             venue=localized(slot.venue, "name"), title=localized(slot, "title"),
             n=slot.seats_left)


def _slot_choices(exclude: int | None = None) -> list[SelectChoice]:
    return [SelectChoice(s.id, _slot_label(s)) for s in search.upcoming_open_slots(db.session, local_today())
            if s.id != exclude]


def _load_booking(reference: str) -> Booking:
    try:
        return approval.get_booking(db.session, reference)
    except BookingError:
        abort(404)


def _refused(form, error: BookingError, default_field: str) -> None:
    """Show a rule's refusal beside the field it concerns (or the override reason)."""
    name = {"reason": "override_reason"}.get(error.field or "", error.field)
    target = getattr(form, name or "", None) or getattr(form, default_field)
    target.errors = [*target.errors, error.message]


def _detail(booking: Booking):
    return redirect(url_for("staff.booking_detail", reference=booking.reference))


# --- book on behalf ---------------------------------------------------------------------------

def _request_from(form: StaffBookingForm) -> BookingRequest:
    return BookingRequest(
        slot_id=form.slot.data, organisation=OrganisationDetails(
            name=form.organisation_name.data, kind=OrganisationKind(form.organisation_kind.data),
            credit_code=form.credit_code.data or None),
        contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data or "", party_size=form.party_size.data,
        attendee_names=form.typed_names(), notes=form.notes.data or "",
        language=form.language.data, adults=form.adults.data, minors=form.minors.data)


@bp.route("/bookings/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_booking():
    form = StaffBookingForm(slot=request.args.get("slot", type=int))
    form.slot.choices = _slot_choices()
    if form.validate_on_submit():
        try:
            booking, _token = frontdesk.book_on_behalf(db.session, _request_from(form),
                                                       current_user, form.overrides())
        except BookingError as error:
            _refused(form, error, "slot")
        else:
            flash(_("已为 %(org)s 预约，编号 %(ref)s。", org=booking.organisation.name,
                    ref=booking.display_reference), "success")
            return _detail(booking)
    status = 422 if form.errors else 200
    return render_template("staff/booking_new.html", form=form), status


# --- edit, move, cancel -----------------------------------------------------------------------

def _edit_form(booking: Booking) -> EditBookingForm:
    if request.method == "POST":
        return EditBookingForm()
    return EditBookingForm(
        contact_name=booking.contact_name, contact_phone=booking.contact_phone,
        contact_email=booking.contact_email, notes=booking.notes,
        party_size=booking.party_size, adults=booking.adults, minors=booking.minors,
        attendees="\n".join(a.name for a in booking.attendees))


@bp.route("/bookings/<reference>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit_booking(reference: str):
    booking = _load_booking(reference)
    form = _edit_form(booking)
    if form.validate_on_submit():
        try:
            frontdesk.edit_booking(db.session, booking, form.edit(), current_user,
                                   form.overrides())
        except BookingError as error:
            _refused(form, error, "party_size")
        else:
            flash(_("已更新预约 %(ref)s。", ref=booking.display_reference), "success")
            return _detail(booking)
    return render_template("staff/booking_edit.html", booking=_load_booking(reference),
                           form=form), 422 if form.errors else 200


@bp.route("/bookings/<reference>/move", methods=["GET", "POST"])
@role_required(Role.STAFF)
def move_booking(reference: str):
    booking = _load_booking(reference)
    form = MoveBookingForm()
    form.slot.choices = _slot_choices(exclude=booking.slot_id)
    if form.validate_on_submit():
        new_slot = db.session.get(Slot, form.slot.data) or abort(404)
        try:
            frontdesk.move_booking(db.session, booking, new_slot, current_user,
                                   form.overrides(), form.makeup())
        except BookingError as error:
            _refused(form, error, "slot")
        else:
            flash(_("已将预约 %(ref)s 改到 %(when)s。", ref=booking.display_reference,
                    when=_slot_label(new_slot)), "success")
            return _detail(booking)
    return render_template("staff/booking_move.html", booking=_load_booking(reference),
                           form=form), 422 if form.errors else 200


@bp.route("/bookings/<reference>/cancel", methods=["GET", "POST"])
@role_required(Role.STAFF)
def cancel_booking(reference: str):
    booking = _load_booking(reference)
    form = StaffCancelForm()
    if form.validate_on_submit():
        try:
            frontdesk.cancel_by_museum_for_booking(db.session, booking, form.reason.data,
                                                   current_user)
        except BookingError as error:
            _refused(form, error, "reason")
        else:
            flash(_("已取消预约 %(ref)s，座位已释放。", ref=booking.display_reference), "success")
            return _detail(booking)
    return render_template("staff/booking_cancel.html", booking=_load_booking(reference),
                           form=form), 422 if form.errors else 200


@bp.route("/bookings/<reference>/confirmation.pdf")
@role_required(Role.STAFF)
def booking_pdf(reference: str):
    """The group's printable confirmation with its door pass, for a walk-up or phone group."""
    booking = _load_booking(reference)
    response = current_app.make_response(render_confirmation_pdf(door.confirmation_sheet(booking, minors_per_adult())))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'inline; filename="confirmation-{booking.display_reference}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- search -----------------------------------------------------------------------------------

@bp.route("/search", endpoint="search")
@role_required(Role.STAFF)
def search_bookings():
    form = SearchForm(request.args)
    form.validate()
    query = search.BookingQuery(
        text=form.q.data or "", date_from=form.date_from.data if not form.date_from.errors
        else None, date_to=form.date_to.data if not form.date_to.errors else None,
        state=BookingState(form.state.data) if form.state.data in
        {s.value for s in BookingState} else None)
    results = [] if query.is_empty else search.find_bookings(db.session, query)
    return render_template("staff/search.html", form=form, results=results,
                           searched=not query.is_empty, limit=search.RESULT_LIMIT)
