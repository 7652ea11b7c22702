"""Public booking pages: capacity calendar, booking form, confirmation, manage link, recovery."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select

from booking.clock import local, utcnow
from booking.errors import BookingError, NotFound
from booking.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, LANGUAGES, current_language
from booking.models import Booking, Slot, Venue, VenueDay
from booking.models.db import db
from booking.rules import availability as capacity_calendar
from booking.rules import manage_links, versions
from booking.rules.party_makeup import counts_adults_and_minors
from booking.rules.retention import RetentionPolicy
from booking.rules.tokens import normalise_reference
from booking.rules.workflow import BookingRequest, OrganisationDetails
from booking.usecases import bookings
from booking.usecases.letters import letter_max_mb, max_letter_bytes
from booking.web import booking_rate_limits, challenge
from booking.web.extensions import limiter
from booking.web.page_cache import versioned_page
from booking.web.public import bp
from booking.web.public.forms import BookingForm, FindBookingForm
from booking.web.public.manage_access import grant
from booking.web.responses import private, safe_next_path, show_error

NEW_BOOKING_KEY = "new_booking"  # session key carrying a fresh token to the confirmation page
CONFIRMATION_SHOWN_FOR = timedelta(minutes=15)  # reloads and language switches still work


def absolute_path(path: str) -> str:
    """``path`` as an absolute URL, on the public address the museum configured."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return (base or request.host_url.rstrip("/")) + path


def manage_url(reference: str, token: str) -> str:
    """The absolute secret link, on the public address the museum configured."""
    return absolute_path(url_for("booking.manage", reference=reference, token=token))


# --- language and static pages ----------------------------------------------------------

@bp.route("/language/<code>")
def set_language(code: str):
    """The visible language switch; the choice is remembered for a year."""
    response = redirect(safe_next_path(request.args.get("next"), "/"))
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response


@bp.route("/privacy")
def privacy():
    return render_template("booking/privacy.html",
                           retention=RetentionPolicy.from_config(current_app.config))


# --- capacity calendar -------------------------------------------------------------------

def _venue_or_404(code: str) -> Venue:
    venue = db.session.scalar(select(Venue).filter_by(code=code.upper()))
    if venue is None:
        abort(404)
    return venue


def _programme_arg(venue: Venue) -> tuple[str | None, Slot | None]:
    """The ?programme= filter and one of its slots (for the title), if any."""
    code = (request.args.get("programme") or "").strip()[:60] or None
    if code is None:
        return None, None
    return code, db.session.scalar(select(Slot).filter_by(venue_id=venue.id, programme=code)
                                   .order_by(Slot.starts_at.desc()).limit(1))


def _sample_facts(sample: Slot | None) -> tuple:
    return (sample.id, sample.title, sample.title_en) if sample is not None else ()


@bp.route("/venues/<code>/calendar")
def venue_calendar(code: str):
    """The month's capacity calendar, served by version (see booking.web.page_cache)."""
    venue = _venue_or_404(code)
    programme, sample = _programme_arg(venue)
    now = utcnow()
    month = capacity_calendar.parse_month(request.args.get("month"), local(now, venue.tz).date())
    first, last = capacity_calendar.month_grid(month)
    version = versions.calendar_version(db.session, venue, first, last, programme, now,
                                        _sample_facts(sample))

    def render() -> str:
        calendar = capacity_calendar.month_calendar(db.session, venue, month, programme, now,
                                                    current_language())
        return render_template("booking/calendar.html", venue=venue, calendar=calendar,
                               programme=programme, programme_slot=sample)
    return versioned_page(version, render)


@bp.route("/venues/<code>/days/<day>")
def venue_day(code: str, day: str):
    venue = _venue_or_404(code)
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        abort(404)
    programme, sample = _programme_arg(venue)
    now = utcnow()
    version = versions.calendar_version(db.session, venue, wanted, wanted, programme, now,
                                        _sample_facts(sample))

    def render() -> str:
        cell = capacity_calendar.day_calendar(db.session, venue, wanted, programme, now,
                                              current_language())
        return render_template("booking/day.html", venue=venue, cell=cell,
                               programme=programme, programme_slot=sample)
    return versioned_page(version, render)


# --- booking form and confirmation -------------------------------------------------------

def _slot_availability(slot: Slot) -> capacity_calendar.SlotAvailability:
    venue_day = db.session.scalar(select(VenueDay).filter_by(venue_id=slot.venue_id,
                                                             day=slot.day))
    return capacity_calendar.slot_availability(db.session, slot, venue_day, utcnow())


def _booking_request(slot: Slot, form: BookingForm) -> BookingRequest:
    """The form's answers as the rule's request (the attendee file is already in the list)."""
    return BookingRequest(
        slot_id=slot.id,
        organisation=OrganisationDetails(name=form.organisation_name.data, kind=form.kind,
                                         credit_code=form.credit_code.data or None),
        contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data or "", party_size=form.party_size.data,
        attendee_names=form.typed_names(), notes=form.notes.data or "",
        language=current_language(), notify_by=form.notify_by.data or "",
        **form.party_makeup())


@bp.route("/slots/<int:slot_id>/book", methods=["GET", "POST"])
@booking_rate_limits.per_address
@booking_rate_limits.per_phone
def book(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    form = BookingForm(party_size_min=slot.party_size_min, party_size_max=slot.party_size_max,
                       makeup=counts_adults_and_minors(slot))
    human = (challenge.booking_attempt(request.form.get("contact_phone"),
                                       request.form.get(challenge.FIELD))
             if request.method == "POST" else challenge.page_check())
    if form.validate_on_submit() and human.passed:
        try:
            booking, token = bookings.book(db.session, _booking_request(slot, form),
                                           letter=form.letter_bytes(max_letter_bytes()))
        except BookingError as error:
            show_error(form, error)
        else:
            remember_new_booking(booking, token)
            return redirect(url_for("booking.confirmation", reference=booking.reference))
    status = 422 if request.method == "POST" else 200
    return render_template("booking/book.html", form=form, slot=slot, human=human,
                           availability=_slot_availability(slot),
                           letter_max_mb=letter_max_mb()), status


def remember_new_booking(booking: Booking, token: str) -> None:
    """Carry a just-made booking's manage token to its confirmation page, in the session
    cookie (never in a URL); :func:`confirmation` shows it for CONFIRMATION_SHOWN_FOR."""
    session[NEW_BOOKING_KEY] = {"reference": booking.reference, "token": token,
                                "at": int(utcnow().timestamp())}


@bp.route("/bookings/<reference>/confirmation")
def confirmation(reference: str):
    """Right after booking: the token rides in the (signed, HttpOnly) session cookie, never in
    a URL, and is dropped once the confirmation is older than CONFIRMATION_SHOWN_FOR."""
    fresh = session.get(NEW_BOOKING_KEY) or {}
    if utcnow().timestamp() - fresh.get("at", 0) > CONFIRMATION_SHOWN_FOR.total_seconds():
        session.pop(NEW_BOOKING_KEY, None)
        fresh = {}
    booking = None
    if fresh.get("reference") == normalise_reference(reference):
        try:
            booking = manage_links.find_booking_by_token(db.session, reference, fresh.get("token"))
        except NotFound:
            booking = None
    if booking is None:
        return private(current_app.make_response(
            render_template("booking/confirmation_gone.html")))
    # The downloads below are token-free URLs: this browser gets the manage cookie now.
    return private(grant(current_app.make_response(render_template(
        "booking/confirmation.html", booking=booking,
        manage_link=manage_url(booking.reference, fresh["token"]),
        ics_url=url_for("booking.manage_ics", reference=booking.reference),
        pdf_url=url_for("booking.manage_pdf", reference=booking.reference))), booking))


# --- "my booking": recover a lost manage link --------------------------------------------

@bp.route("/find", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def find():
    form = FindBookingForm()
    if form.validate_on_submit():
        try:
            booking, token = bookings.recover_manage_link(db.session, form.reference.data,
                                                          form.contact_phone.data)
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            return private(current_app.make_response(render_template(
                "booking/find.html", form=FindBookingForm(formdata=None), booking=booking,
                manage_link=manage_url(booking.reference, token))))
    status = 422 if request.method == "POST" else 200
    return render_template("booking/find.html", form=form, booking=None), status
