"""Certificates as a PDF response, the same for the organisations' downloads and the staff
pages: rendered by the pure :mod:`courses.render.certificates`, never cached, with an ASCII
file name, and QR codes on the public address."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, request

from booking.web.responses import private
from courses.render.certificates import render_certificates
from courses.rules import issuing


def base_url() -> str:
    """The address printed in QR codes: the configured public one, else this request's."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.url_root


def certificates_pdf(certs, filename: str, inline: bool = False):
    """One PDF of ``certs`` as a private download (or shown inline)."""
    seals = current_app.config.get("SEAL_IMAGES") or {}
    body = render_certificates(issuing.certificate_data(c, base_url(), seals) for c in certs)
    response = current_app.make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{quote(filename)}"'
    return private(response)
