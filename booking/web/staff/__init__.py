"""Staff pages under /staff/: sign-in, dashboard, approvals, users and audit (``staff``), the
daily roster and check-in (``roster``), statistics (``statistics``) and the waiting list
(``waitlist_staff``).

The route modules attach their views to these blueprints; :func:`booking.web.register`
imports them and registers the blueprints. Every route but the login page declares its roles
with ``@role_required`` (tests/test_staff_access.py walks the URL map to make sure).
"""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
roster_bp = Blueprint("roster", __name__, url_prefix="/staff")
statistics_bp = Blueprint("statistics", __name__, url_prefix="/staff")
waitlist_bp = Blueprint("waitlist_staff", __name__, url_prefix="/staff/waitlist")
