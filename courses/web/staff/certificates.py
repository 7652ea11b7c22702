"""Certificate pages: downloads from the manage link, the visitors' page, public
verification (the QR target), and the staff pages under /staff/certificates/.

Views parse a form, call one use case from :mod:`courses.usecases`, and render,
redirect or send the PDF. PDFs are rendered by the pure :mod:`courses.render.certificates`.
"""
from __future__ import annotations

from collections import Counter

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Booking, Role, Venue
from booking.models.db import db
from booking.render.fonts import missing_characters
from booking.rules.checkin import can_run_session
from booking.rules.tokens import normalise_reference
from booking.web.auth import role_required
from booking.web.staff.forms import ActionForm
from courses import usecases
from courses.models import Certificate, CertificateState, CourseSession
from courses.render.certificates import render_certificates
from courses.rules import certificate_lookup, issuing
from courses.web.certificate_files import base_url, certificates_pdf
from courses.web.public.certificate_forms import (
    ReissueForm,
    RevokeForm,
)
from courses.web.staff import certificates_bp as staff_bp

# --- staff ---------------------------------------------------------------------------------------

RECENT_DAYS = 14
RUNS_SESSIONS = role_required(Role.STAFF, Role.GUIDE)
STAFF_ONLY = role_required(Role.STAFF)


def _user():
    return current_user._get_current_object()


def _course_session(session_id: int) -> CourseSession:
    found = db.session.get(CourseSession, session_id)
    if found is None:
        abort(404)
    if not can_run_session(_user(), found.slot):
        abort(403)
    return found


def _certificate(cert_id: int) -> Certificate:
    cert = db.session.get(Certificate, cert_id)
    if cert is None:
        abort(404)
    if not can_run_session(_user(), cert.session.slot):
        abort(403)
    return cert


def _back(course_session: CourseSession, anchor: str = ""):
    return redirect(url_for(".session_page", session_id=course_session.id) + anchor)


@staff_bp.route("/")
@RUNS_SESSIONS
def index():
    now = utcnow()
    recent = certificate_lookup.recent_sessions(db.session, now, RECENT_DAYS, _user())
    return render_template("courses/staff/certificates.html", sessions=recent, days=RECENT_DAYS,
                           venues=db.session.scalars(select(Venue).order_by(Venue.position)))


@staff_bp.route("/slots/<int:slot_id>")
@RUNS_SESSIONS
def slot(slot_id: int):
    """From the roster, which knows slots: the certificates of the slot's course session."""
    found = db.session.scalar(select(CourseSession).filter_by(slot_id=slot_id))
    if found is None:
        abort(404)
    return _back(found)


def _session_page(course_session: CourseSession, status: int = 200, *, failed_form=None,
                  failed_id: int | None = None):
    certs = certificate_lookup.session_certificates(db.session, course_session)
    valid = [c for c in certs if c.state is CertificateState.VALID]
    # One form per certificate, prefixed by its id so that every field id on the page is unique.
    revoke_forms = {c.id: RevokeForm(formdata=None, prefix=f"c{c.id}") for c in valid}
    reissue_forms = {c.id: ReissueForm(formdata=None, prefix=f"c{c.id}") for c in certs}
    if failed_form is not None:
        (revoke_forms if isinstance(failed_form, RevokeForm) else reissue_forms)[failed_id] = \
            failed_form
    lacking = [(c, [(ch, f"U+{ord(ch):04X}") for ch in chars]) for c in valid
               if (chars := missing_characters(c.name + c.organisation))]
    return render_template(
        "courses/staff/certificates_session.html", course_session=course_session,
        slot=course_session.slot, certs=certs, valid_count=len(valid),
        bookings=certificate_lookup.certified_bookings(db.session, course_session),
        issued=Counter(c.attendee.booking_id for c in certs if c.latest), lacking=lacking,
        unticked=[c for c in valid if not c.attendee.attended], now=utcnow(),
        may_manage=_user().has_role(Role.STAFF), action_form=ActionForm(),
        revoke_forms=revoke_forms, reissue_forms=reissue_forms), status


@staff_bp.route("/sessions/<int:session_id>")
@RUNS_SESSIONS
def session_page(session_id: int):
    return _session_page(_course_session(session_id))


@staff_bp.route("/sessions/<int:session_id>.pdf")
@RUNS_SESSIONS
def session_pdf(session_id: int):
    course_session = _course_session(session_id)
    valid = [c for c in certificate_lookup.session_certificates(db.session, course_session)
             if c.state is CertificateState.VALID]
    if not valid:
        flash(_("该场次还没有有效的证书。"), "error")
        return _back(course_session)
    day = course_session.slot.day.isoformat()
    return certificates_pdf(valid, f"certificates-{course_session.slot.venue.code}-{day}-{session_id}.pdf",
                inline=True)


def _issue_action(course_session: CourseSession, issue):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        message = issue()
    except BookingError as error:
        flash(str(error.message), "error")
    else:
        flash(message, "success")
    return _back(course_session)


@staff_bp.route("/sessions/<int:session_id>/complete", methods=["POST"])
@STAFF_ONLY
def complete(session_id: int):
    """完成场次并签发证书: checked-in groups become completed, attendees get certificates."""
    course_session = _course_session(session_id)

    def issue():
        groups, issued = usecases.complete_and_issue(db.session, course_session, _user())
        return _("场次已完成（%(groups)s 个团体），新签发 %(n)s 张证书。", groups=len(groups),
                 n=len(issued))
    return _issue_action(course_session, issue)


@staff_bp.route("/sessions/<int:session_id>/bookings/<reference>/issue", methods=["POST"])
@RUNS_SESSIONS
def issue_for_booking(session_id: int, reference: str):
    course_session = _course_session(session_id)
    booking = db.session.scalar(select(Booking).filter_by(
        reference=normalise_reference(reference), slot_id=course_session.slot_id))
    if booking is None:
        abort(404)

    def issue():
        issued = usecases.issue_for_booking(db.session, course_session, booking, _user())
        return _("已为 %(org)s 新签发 %(n)s 张证书。", org=booking.organisation.name, n=len(issued))
    return _issue_action(course_session, issue)


@staff_bp.route("/<int:cert_id>/revoke", methods=["POST"])
@STAFF_ONLY
def revoke(cert_id: int):
    cert = _certificate(cert_id)
    form = RevokeForm(prefix=f"c{cert.id}")
    if form.validate_on_submit():
        try:
            usecases.revoke_certificate(db.session, cert, form.reason.data, _user())
        except BookingError as error:
            form.reason.errors = [*form.reason.errors, str(error.message)]
        else:
            flash(_("证书 %(serial)s 已撤销。", serial=cert.serial), "success")
            return _back(cert.session, f"#c-{cert.id}")
    return _session_page(cert.session, 422, failed_form=form, failed_id=cert.id)


@staff_bp.route("/<int:cert_id>/reissue", methods=["POST"])
@STAFF_ONLY
def reissue(cert_id: int):
    cert = _certificate(cert_id)
    form = ReissueForm(prefix=f"c{cert.id}")
    if form.validate_on_submit():
        try:
            new = usecases.reissue_certificate(db.session, cert, _user(), form.name.data)
        except BookingError as error:
            form.name.errors = [*form.name.errors, str(error.message)]
        else:
            flash(_("已补发新证书 %(new)s，原证书 %(old)s 已作废。", new=new.serial,
                    old=cert.serial), "success")
            return _back(new.session, f"#c-{new.id}")
    return _session_page(cert.session, 422, failed_form=form, failed_id=cert.id)


@staff_bp.route("/<int:cert_id>.pdf")
@RUNS_SESSIONS
def one_pdf(cert_id: int):
    """One certificate in any state (revoked and replaced ones carry a watermark)."""
    cert = _certificate(cert_id)
    return certificates_pdf([cert], f"certificate-{cert.serial}.pdf", inline=True)


@staff_bp.route("/preview")
@RUNS_SESSIONS
def preview():
    """The certificate design with any name, as a specimen, shown in the browser."""
    name = (request.args.get("name") or "")[:issuing.MAX_NAME]
    venue = db.session.scalar(select(Venue).filter_by(code=request.args.get("venue", "")))
    data = issuing.specimen_data(name, base_url(), venue,
                                 current_app.config.get("SEAL_IMAGES") or {})
    response = current_app.make_response(render_certificates([data]))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'inline; filename="certificate-preview.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
