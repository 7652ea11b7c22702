"""The booking core's JSON API (version 1 in :mod:`.v1`)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the API's route modules to their blueprints and register them on ``app``."""
    from booking.api import v1
    from booking.api.v1 import public, staff  # noqa: F401  (route modules)
    from booking.web.extensions import csrf

    # The public API is for machines holding a bearer secret, not browsers holding a cookie;
    # the staff API is cookie-authenticated and so keeps CSRF protection.
    csrf.exempt(v1.bp)
    app.register_blueprint(v1.bp)
    app.register_blueprint(v1.staff_bp)
