"""The museum's public address: what every absolute link the app writes starts with (manage
links, calendar feeds, e-mails, certificate QR codes).

``PUBLIC_BASE_URL`` when it is set; otherwise, inside a request, the address that request came
in on (scheme, host and port, as the trusted proxy reports them), so a site served on any port
links to itself. Outside a request (the mail and reminder jobs, the CLI) there is no such
address to fall back on: writing a guessed one (127.0.0.1:5000, say) into an e-mail or a
printed certificate would send people nowhere, so :func:`public_base_url` refuses instead.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request

MISSING = ("PUBLIC_BASE_URL is not set, so links in e-mails and certificates would have no "
           "address to point at. Set it to the address people use, e.g. "
           "PUBLIC_BASE_URL=https://booking.example.org (in instance/config.py or the "
           "environment), then run this again.")


class PublicAddressUnknown(RuntimeError):
    """A link had to be written outside a request while ``PUBLIC_BASE_URL`` is unset."""

    def __init__(self, message: str = MISSING):
        super().__init__(message)


def configured_base_url() -> str:
    """``PUBLIC_BASE_URL`` without a trailing slash, or "" when it is not set."""
    return (current_app.config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")


def public_base_url() -> str:
    """The address absolute links start with (no trailing slash). Raises
    :class:`PublicAddressUnknown` outside a request when ``PUBLIC_BASE_URL`` is unset."""
    configured = configured_base_url()
    if configured:
        return configured
    if has_request_context():
        return request.url_root.rstrip("/")
    raise PublicAddressUnknown()


def check_base_url(value: str) -> None:
    """Refuse a ``PUBLIC_BASE_URL`` that cannot start a link (a bare host name, say)."""
    if value and not value.strip().lower().startswith(("http://", "https://")):
        raise ValueError(f"PUBLIC_BASE_URL must start with https:// or http://, not {value!r}")
