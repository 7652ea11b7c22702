"""The application factory: the one place the app is assembled.

``python run.py [--host HOST] [--port PORT]`` serves it (127.0.0.1:5000 by default), creating
the SQLite database and demo data on first start; ``flask --app run …`` runs the CLI; gunicorn
runs ``run:create_app()`` (see deploy/).
"""
from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from flask import Flask, request

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"

ENV_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL", "RATELIMIT_STORAGE_URI",
                "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD",
                "MAIL_SENDER", "MAIL_TIMEOUT", "SQLITE_SYNCHRONOUS", "TRUSTED_PROXIES",
                "HEALTH_MAIL_MAX_AGE_MINUTES", "HEALTH_MAIL_MAX_GIVEN_UP",
                "STAFF_DIGEST_EMAIL", "STAFF_DIGEST_HOURS", "CHALLENGE_AFTER", "ALTCHA_HMAC_KEY")
# Switches read from the environment as booleans ("0", "false", "no", "off" mean off).
ENV_FLAGS = ("RATELIMIT_ENABLED", "REQUIRE_TOTP_FOR_ADMINS", "SQLITE_WRITER_GATE")


def _default_config(instance_path: Path) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{instance_path / 'museum.db'}",
        # Empty: links follow the address each request came in on. Set it in production, where
        # e-mails, reminders and certificates are written outside any request.
        "PUBLIC_BASE_URL": "",
        # FULL: a booking the user was told about survives a power cut, not only a crash of
        # the process (NORMAL). See booking/models/db.py and the README's Durability.
        "SQLITE_SYNCHRONOUS": "FULL",
        # SQLite writers take turns through a file lock (booking/models/writer_gate.py).
        "SQLITE_WRITER_GATE": True,
        # Reverse proxies in front whose X-Forwarded-* headers are believed (nginx: 1).
        "TRUSTED_PROXIES": 0,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "booking" / "translations"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # Flask-WTF's extra https-only check wants a same-site Referer on every POST, but pages
        # holding a secret send none (Referrer-Policy: no-referrer), so behind https their own
        # forms would fail. The CSRF token, SameSite=Lax cookies and HSTS protect the forms.
        "WTF_CSRF_SSL_STRICT": False,
        # Whole request bodies; above the largest upload (a 5 MB introduction letter).
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        # Introduction letters (介绍信): at most this many bytes, kept under LETTER_DIR (outside
        # static/, served only to staff), default instance/letters.
        "LETTER_MAX_BYTES": 5 * 1024 * 1024,
        "LETTER_DIR": str(instance_path / "letters"),
        # One file shared by every worker on this machine; redis://… across machines.
        "RATELIMIT_STORAGE_URI": f"museum+sqlite:///{instance_path / 'ratelimit.db'}",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Admins must enrol in the TOTP second factor before they can do anything else.
        "REQUIRE_TOTP_FOR_ADMINS": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_SENDER": "刘伯承同志纪念馆 <noreply@localhost>",
        "SMS_PROVIDER": "log",  # log | aliyun | tencent (booking/sms, README "SMS")
        "WAITLIST_OFFER_HOURS": 24,
        # Days personal data is kept after the visit (mail: after sending); see `purge`.
        "RETENTION_DAYS": {"contacts": 365, "attendees": 365, "notes": 365, "mail": 90},
        # Pending bookings not approved within this many hours lapse (expire-pending); 0: never.
        "PENDING_APPROVAL_HOURS": 72,
        # Per contact (organisation or phone) at one venue; BOOKING_LIMITS_BY_VENUE overrides
        # by venue code, e.g. {"KZM": {"upcoming": 3}}, and BOOKING_LIMITS_BY_PROGRAMME by
        # programme code over that, e.g. {"youth-study-tour": {"seats_per_day": 60}}.
        # 0 switches a limit off.
        "BOOKING_LIMITS": {"upcoming": 6, "seats_per_day": 150},
        "BOOKING_LIMITS_BY_VENUE": {},
        "BOOKING_LIMITS_BY_PROGRAMME": {},
        # Study tours: one adult per this many minors (booking/rules/party_makeup.py); 0: off.
        "STUDY_TOUR_MINORS_PER_ADULT": 10,
        # Booking creation (form, API, waiting list) per client address and per contact phone.
        "BOOKING_RATE_LIMIT": "5 per minute;30 per hour;100 per day",
        "BOOKING_PHONE_RATE_LIMIT": "10 per day",
        # Past this many booking attempts per address or phone, each attempt must carry a
        # solved proof-of-work challenge (ALTCHA, booking/web/challenge.py); "" switches it
        # off. ALTCHA_HMAC_KEY signs challenges (default: derived from SECRET_KEY).
        "CHALLENGE_AFTER": "5 per hour",
        "ALTCHA_HMAC_KEY": "",
        "ALTCHA_ALGORITHM": "PBKDF2/SHA-256",
        "ALTCHA_COST": 1000,            # PBKDF2 iterations per try
        "ALTCHA_COUNTER_MAX": 2000,     # the answer lies in [max/2, max): about 1–3 s on a phone
        "ALTCHA_EXPIRES_SECONDS": 600,
        "NO_SHOW_LIMIT": 3,
        "NO_SHOW_WINDOW_DAYS": 90,
        "NO_SHOW_SUSPENSION_DAYS": 90,
        # /readyz calls the outbox stuck when its oldest unsent message is older than this,
        # or when more messages than this gave up in the last 24 hours.
        "HEALTH_MAIL_MAX_AGE_MINUTES": 30,
        "HEALTH_MAIL_MAX_GIVEN_UP": 3,
        # The staff digest of bookings awaiting approval (`flask queue-pending-digest`): to
        # whom (comma-separated; empty: no digest) and at most how often, per venue.
        "STAFF_DIGEST_EMAIL": "",
        "STAFF_DIGEST_HOURS": 4,
    }


def _secret_key(instance_path: Path) -> str:
    """A per-installation key kept in instance/, so a fresh clone needs no setup."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)

    app.config.from_mapping(_default_config(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    for name in ENV_SETTINGS:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    for name, value in os.environ.items():  # SMS_PROVIDER, SMS_TEMPLATE_CONFIRMED, … (README)
        if name.startswith("SMS_") and value:
            app.config[name] = value
    for name in ENV_FLAGS:
        if os.environ.get(name):
            app.config[name] = os.environ[name].strip().lower() not in ("0", "false", "no", "off")
    if test_config:
        app.config.from_mapping(test_config)
    from booking.public_address import check_base_url
    check_base_url(app.config["PUBLIC_BASE_URL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(app.config["DATABASE_URL"])
    secure = app.config["PUBLIC_BASE_URL"].startswith("https://")
    # Flask's defaults already hold SESSION_COOKIE_SECURE = False, so setdefault would not do.
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or secure
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("REMEMBER_COOKIE_SECURE")) or secure

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _wrap_transport(app)
    return app


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _init_extensions(app: Flask) -> None:
    from booking.i18n import select_locale
    from booking.models.db import configure_engine, db
    from booking.web.extensions import babel, csrf, limiter, login_manager

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, synchronous=app.config["SQLITE_SYNCHRONOUS"],
                         writer_gate=app.config["SQLITE_WRITER_GATE"])
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    import booking.web.auth  # noqa: F401  (registers the user loader)
    limiter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from booking import api, cli, web
    from courses import cli as course_cli
    from courses import web as course_web

    web.register(app)
    api.register(app)
    course_web.register(app)
    cli.register(app)
    course_cli.register(app)


def _wrap_transport(app: Flask) -> None:
    """Proxies, https cookies and log redaction: last, once every route exists."""
    from booking.web import log_redaction, transport

    transport.install(app)
    log_redaction.install(app)


def _register_request_hooks(app: Flask) -> None:
    from booking.models.db import reset_deferred_transactions, set_deferred_transactions

    @app.before_request
    def _read_only_requests_begin_deferred():
        request.environ["museum.deferred_token"] = set_deferred_transactions(
            request.method in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _reset_transaction_mode(_exc):
        token = request.environ.pop("museum.deferred_token", None)
        if token is not None:
            reset_deferred_transactions(token)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve the booking site for trying it out (production: gunicorn, see "
                    "README). Creates the database and the demo data on first start.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    args = parser.parse_args(argv)
    application = create_app()
    with application.app_context():
        from courses.demo import ensure_demo_database
        ensure_demo_database()
    application.run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
