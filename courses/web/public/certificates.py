"""Certificate pages: downloads from the manage link, the visitors' page, public
verification (the QR target), and the staff pages under /staff/certificates/.

Views parse a form, call one rule or use case, and render,
redirect or send the PDF. PDFs are rendered by the pure :mod:`courses.render.certificates`.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from booking import dates
from booking.clock import local
from booking.errors import NotFound
from booking.i18n import current_language, localized
from booking.models import Booking
from booking.models.db import db
from booking.rules.identifiers import mask_name
from booking.web.extensions import limiter
from booking.web.public.manage import managed
from courses.rules import certificate_lookup, issuing
from courses.web.certificate_files import certificates_pdf
from courses.web.public import certificates_bp as bp
from courses.web.public.certificate_forms import (
    VerifyForm,
    VisitorCertificateForm,
)

VISITOR_LIMIT = "10 per minute;50 per hour"
# Generous: a whole class may scan its certificates from one school network at once.
VERIFY_LIMIT = "120 per minute"


# --- organisations, from the manage page (the manage cookie, see booking.web.public.manage) ---

@bp.route("/manage/<reference>/certificates.pdf")
@managed
def manage_all(booking: Booking):
    certs = certificate_lookup.booking_certificates(db.session, booking)
    if not certs:
        flash(_("该预约暂无可下载的证书。"), "error")
        return redirect(url_for("booking.manage_page", reference=booking.reference))
    return certificates_pdf(certs, f"certificates-{booking.display_reference}.pdf")


@bp.route("/manage/<reference>/certificates/<int:cert_id>.pdf")
@managed
def manage_one(booking: Booking, cert_id: int):
    cert = next((c for c in certificate_lookup.booking_certificates(db.session, booking)
                 if c.id == cert_id), None)
    if cert is None:
        abort(404)
    return certificates_pdf([cert], f"certificate-{cert.serial}.pdf")


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
            return certificates_pdf(certs, f"{name}-{certs[0].serial}.pdf")
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
        facts=_verified_facts(cert), hours=issuing.hours_text(cert.training_hours),
        searched=True))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _verified_facts(cert) -> dict:
    """What the verify page says about ``cert``, in the reader's language (the facts copied at
    issue time, English where the museum gave it)."""
    language = current_language()
    return {"title": issuing.title_label(cert.title),
            "programme": _programme_line(localized(cert, "programme"), _(cert.programme_kind)),
            "date_text": issuing.date_text(cert.session_starts_at, cert.session_ends_at,
                                           language),
            "venue": localized(cert, "venue_name"), "issuer": localized(cert, "issuing_unit"),
            "issued": dates.plain_date(local(cert.issued_at).date(), language)}


def _programme_line(programme: str, kind: str) -> str:
    """学习百年党史 感悟刘帅精神（专题党课） / Learn … (Themed party course): the kind is left out
    when the title names it."""
    if not kind or kind.lower() in programme.lower():
        return programme
    return _("%(text)s（%(note)s）", text=programme, note=kind)
