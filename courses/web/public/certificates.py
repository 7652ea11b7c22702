"""Certificate pages: downloads from the manage link, the visitors' page, public
verification (the QR target), and the staff pages under /staff/certificates/.

Views parse a form, call one rule from :mod:`courses.rules.issuing`, commit once, and render,
redirect or send the PDF. PDFs are rendered by the pure :mod:`courses.render.certificates`.
"""
from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.usecases import notifications
from booking.rules import workflow
from booking.web.auth import role_required
from booking.rules.checkin import can_run_session
from booking.clock import utcnow
from booking.models.db import db
from booking.errors import BookingError, NotFound
from booking.web.extensions import limiter
from booking.render.fonts import missing_characters
from booking.rules.identifiers import mask_name
from booking.models import Booking, Role, Venue
from booking.web.responses import private
from booking.web.staff.forms import ActionForm
from booking.rules.tokens import normalise_reference
from courses.rules import certificate_lookup, issuing
from courses.web.public.certificate_forms import (ReissueForm, RevokeForm, VerifyForm,
                                       VisitorCertificateForm)
from courses.render.certificates import programme_line, render_certificates
from courses.models import Certificate, CertificateState, CourseSession

bp = Blueprint("certificates", __name__)
staff_bp = Blueprint("certificate_staff", __name__, url_prefix="/staff/certificates")

VISITOR_LIMIT = "10 per minute;50 per hour"
# Generous: a whole class may scan its certificates from one school network at once.
VERIFY_LIMIT = "120 per minute"
RECENT_DAYS = 14


# --- shared -------------------------------------------------------------------------------

def _base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.url_root


def _pdf(certs, filename: str, inline: bool = False):
    """One PDF of ``certs``, never cached, with an ASCII file name."""
    seals = current_app.config.get("SEAL_IMAGES") or {}
    body = render_certificates(issuing.certificate_data(c, _base_url(), seals) for c in certs)
    response = current_app.make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{quote(filename)}"'
    return private(response)


@bp.app_template_global("booking_certificates")
def _booking_certificates(booking: Booking) -> list[Certificate]:
    """For the manage page's certificate section (booking templates cannot import courses)."""
    return certificate_lookup.booking_certificates(db.session, booking)


@bp.app_template_global("display_code")
def _display_code(code: str) -> str:
    return issuing.display_code(code)


# --- organisations, from the manage link -------------------------------------------------------

def _managed_booking(reference: str, token: str) -> Booking:
    try:
        return workflow.find_booking_by_token(db.session, reference, token)
    except NotFound:
        abort(404)


@bp.route("/manage/<reference>/<token>/certificates.pdf")
def manage_all(reference: str, token: str):
    booking = _managed_booking(reference, token)
    certs = certificate_lookup.booking_certificates(db.session, booking)
    if not certs:
        flash(_("该预约暂无可下载的证书。"), "error")
        return redirect(url_for("booking.manage", reference=reference, token=token))
    return _pdf(certs, f"certificates-{booking.display_reference}.pdf")


@bp.route("/manage/<reference>/<token>/certificates/<int:cert_id>.pdf")
def manage_one(reference: str, token: str, cert_id: int):
    booking = _managed_booking(reference, token)
    cert = next((c for c in certificate_lookup.booking_certificates(db.session, booking)
                 if c.id == cert_id), None)
    if cert is None:
        abort(404)
    return _pdf([cert], f"certificate-{cert.serial}.pdf")


# --- visitors -----------------------------------------------------------------------------------

@bp.route("/certificates", methods=["GET", "POST"])
@limiter.limit(VISITOR_LIMIT, methods=["POST"])
def visitor():
    form = VisitorCertificateForm()
    lookup_error = None
    if form.validate_on_submit():
        try:
            certs = certificate_lookup.find_visitor_certificates(
                db.session, form.reference.data, form.name.data)
        except NotFound as error:
            lookup_error = str(error.message)
        else:
            name = "certificate" if len(certs) == 1 else "certificates"
            return _pdf(certs, f"{name}-{certs[0].serial}.pdf")
    status = 422 if request.method == "POST" else 200
    return render_template("courses/certificates.html", form=form,
                           lookup_error=lookup_error), status


# --- public verification -------------------------------------------------------------------------

@bp.route("/verify")
def verify_form():
    asked = "code" in request.args
    form = VerifyForm(request.args if asked else None)
    if asked and form.validate():
        code = certificate_lookup.normalise_code(form.code.data)
        if code:
            return redirect(url_for(".verify", code=code))
        form.code.errors = [_("验证码格式不正确。")]
    return render_template("courses/verify.html", form=form, cert=None,
                           searched=False), 422 if asked else 200


@bp.route("/verify/<code>")
@limiter.limit(VERIFY_LIMIT)
def verify(code: str):
    form = VerifyForm(formdata=None)
    try:
        cert = certificate_lookup.find_by_code(db.session, code)
    except NotFound:
        return render_template("courses/verify.html", form=form, cert=None, searched=True), 404
    if code != cert.verification_code:  # typed with dashes or in lower case
        return redirect(url_for(".verify", code=cert.verification_code))
    response = current_app.make_response(render_template(
        "courses/verify.html", form=form, cert=cert, masked_name=mask_name(cert.name),
        date_text=issuing.date_text(cert.session_starts_at, cert.session_ends_at),
        programme=programme_line(cert.programme, cert.programme_kind),
        hours=issuing.hours_text(cert.training_hours), searched=True))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- staff ---------------------------------------------------------------------------------------

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
    return _pdf(valid, f"certificates-{course_session.slot.venue.code}-{day}-{session_id}.pdf",
                inline=True)


def _issue_action(course_session: CourseSession, issue):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        message = issue()
        db.session.commit()
    except BookingError as error:
        db.session.rollback()
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
        groups, issued = issuing.complete_and_issue(db.session, course_session, _user())
        notifications.queue_certificates_ready(db.session, [c.attendee.booking for c in issued])
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
        issued = issuing.issue_certificates(db.session, course_session, _user(), booking=booking)
        notifications.queue_certificates_ready(db.session, [c.attendee.booking for c in issued])
        return _("已为 %(org)s 新签发 %(n)s 张证书。", org=booking.organisation.name, n=len(issued))
    return _issue_action(course_session, issue)


@staff_bp.route("/<int:cert_id>/revoke", methods=["POST"])
@STAFF_ONLY
def revoke(cert_id: int):
    cert = _certificate(cert_id)
    form = RevokeForm(prefix=f"c{cert.id}")
    if form.validate_on_submit():
        try:
            issuing.revoke_certificate(db.session, cert, form.reason.data, _user())
            db.session.commit()
        except BookingError as error:
            db.session.rollback()
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
            new = issuing.reissue_certificate(db.session, cert, _user(), form.name.data)
            db.session.commit()
        except BookingError as error:
            db.session.rollback()
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
    return _pdf([cert], f"certificate-{cert.serial}.pdf", inline=True)


@staff_bp.route("/preview")
@RUNS_SESSIONS
def preview():
    """The certificate design with any name, as a specimen, shown in the browser."""
    name = (request.args.get("name") or "")[:issuing.MAX_NAME]
    venue = db.session.scalar(select(Venue).filter_by(code=request.args.get("venue", "")))
    data = issuing.specimen_data(name, _base_url(), venue,
                                 current_app.config.get("SEAL_IMAGES") or {})
    response = current_app.make_response(render_certificates([data]))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'inline; filename="certificate-preview.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
