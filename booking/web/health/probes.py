"""``/healthz`` and ``/readyz``.

``/healthz`` touches nothing: 200 while the process can answer at all (a liveness probe).
``/readyz`` runs the checks of :mod:`booking.usecases.readiness` and answers 200 when all
pass, 503 when any fails, with the figures either way. ``?check=database`` (repeatable, or
comma-separated) runs only the named checks: a load balancer should ask for ``database``
alone, so a stuck mail server does not take every app server out of rotation.
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from booking.clock import utcnow
from booking.models.db import db
from booking.usecases.readiness import CHECKS, MailLimits, check_readiness
from booking.web.health import bp


def _answer(payload: dict, status: int):
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz():
    return _answer({"status": "ok"}, 200)


@bp.route("/readyz")
def readyz():
    wanted = tuple(name.strip() for value in request.args.getlist("check")
                   for name in value.split(",") if name.strip()) or CHECKS
    unknown = sorted(set(wanted) - set(CHECKS))
    if unknown:
        return _answer({"error": {"code": "unknown_check", "message": (
            f"Unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}.")}}, 400)
    checks = check_readiness(db.session, utcnow(), MailLimits.from_config(current_app.config),
                             wanted)
    healthy = all(check.ok for check in checks)
    for check in checks:
        if not check.ok:
            current_app.logger.warning("readyz: %s check failed: %s", check.name, check.details)
    return _answer({"status": "ok" if healthy else "unhealthy",
                    "checks": {check.name: {"ok": check.ok, **check.details}
                               for check in checks}},
                   200 if healthy else 503)
