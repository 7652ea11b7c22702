"""How requests reach the app: behind how many proxies, and over which scheme.

``TRUSTED_PROXIES`` (default 0) is the number of reverse proxies in front of the app whose
``X-Forwarded-For``, ``-Proto``, ``-Host``, ``-Port`` and ``-Prefix`` headers it believes
(Werkzeug's ProxyFix). With nginx in front, as in ``deploy/nginx/museum.conf``, that is 1: the
app then sees the client's address (rate limits, logs), the https scheme and the public host
(links, when ``PUBLIC_BASE_URL`` is unset). Trust more proxies than there are and a client can
forge its address; trust none behind nginx and every client looks like 127.0.0.1.

Every cookie set on a request that arrived over https is marked ``Secure``, whatever
``PUBLIC_BASE_URL`` says, so the browser never sends it back over plain http (nginx's redirect
from port 80 included).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trusted_proxies(value) -> int:
    """The ``TRUSTED_PROXIES`` setting checked (environment values arrive as strings)."""
    try:
        count = int(str(value if value not in (None, "") else 0).strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number of proxies (0, 1, …), "
                         f"not {value!r}")
    return count


class SecureCookiesOverHttps:
    """WSGI middleware: add ``Secure`` to each ``Set-Cookie`` of an https response (the
    session cookie is written after every Flask hook has run, so this sits outside Flask)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [(name, _secure(value) if name.lower() == "set-cookie" else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _secure(cookie: str) -> str:
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    return cookie if "secure" in attributes else f"{cookie}; Secure"


def install(app: Flask) -> None:
    """Wrap ``app``'s WSGI callable: proxies outermost, so the cookie rule sees their scheme."""
    count = trusted_proxies(app.config.get("TRUSTED_PROXIES"))
    app.config["TRUSTED_PROXIES"] = count
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,
                                x_port=count, x_prefix=count)
