"""The booking core's web faces: public pages (:mod:`.public`) and staff pages (:mod:`.staff`),
with what the whole app shares: extensions, sign-in and roles, error answers, template
helpers and the request's one commit point."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the route modules to their blueprints and register blueprints, template helpers
    and error handlers on ``app``."""
    from booking.web import (
        commit_point,
        errors,
        health,
        input_guard,
        public,
        security_headers,
        staff,
        template_helpers,
        uninitialised,
    )
    from booking.web.health import probes  # noqa: F401  (route module)
    from booking.web.public import feedback, manage, pages, waitlist  # noqa: F401  (route modules)
    from booking.web.staff import (  # noqa: F401
        account,
        annual_report,
        audit_log,
        door,
        frontdesk,
        letters,
        offline,
        organisations,
        roster,
        sign_in,
        statistics,
        working_days,
        workload,
    )
    from booking.web.staff import feedback as staff_feedback  # noqa: F401
    from booking.web.staff import pages as staff_pages  # noqa: F401
    from booking.web.staff import waitlist as staff_waitlist  # noqa: F401

    input_guard.install_converters(app)
    for blueprint in (public.bp, public.waitlist_bp, staff.bp, staff.roster_bp,
                      staff.statistics_bp, staff.waitlist_bp, health.bp):
        app.register_blueprint(blueprint)
    template_helpers.register(app)
    errors.register(app)
    uninitialised.register(app)
    input_guard.register(app)
    security_headers.register(app)
    commit_point.register(app)
