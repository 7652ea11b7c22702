"""The course scheduler's web faces: public course, certificate and feed pages (:mod:`.public`)
and staff pages (:mod:`.staff`)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the route modules to their blueprints and register blueprints and template
    helpers on ``app``."""
    from courses.web import public, staff, template_helpers
    from courses.web.public import certificates, feeds, pages  # noqa: F401  (route modules)
    from courses.web.staff import catalogue, sessions  # noqa: F401
    from courses.web.staff import certificates as staff_certificates  # noqa: F401

    for blueprint in (public.bp, public.certificates_bp, public.feeds_bp, staff.bp,
                      staff.certificates_bp):
        app.register_blueprint(blueprint)
    template_helpers.register(app)
    # Booking's statistics count certificates through this source (booking never imports us).
    from booking.rules.statistics import register_certificate_source
    from courses.rules.certificate_lookup import certificates_per_booking
    register_certificate_source(certificates_per_booking)
