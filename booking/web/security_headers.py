"""Security headers on every response.

The Content-Security-Policy allows scripts, styles, fonts and images from this site only —
no ``unsafe-inline``, so every style and script lives in ``static/`` — and no framing at all
(``frame-ancestors 'none'``, with ``X-Frame-Options`` for older browsers), so another site
cannot overlay the staff approve and decline buttons. HSTS is sent when the public address
is https. Staff pages, the staff API and pages reached through a secret manage link carry
personal data, so they are never stored by a browser or a proxy (``Cache-Control:
no-store``).
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"
#: Paths whose pages carry personal data (names, phones) or secrets.
PRIVATE_PREFIXES = ("/staff", "/api/v1/staff", "/api/v1/bookings", "/manage/", "/waitlist/",
                    "/certificates")


def _secure(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["PUBLIC_BASE_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(PRIVATE_PREFIXES) or current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Cookie")
    return response


def register(app: Flask) -> None:
    app.after_request(_secure)
