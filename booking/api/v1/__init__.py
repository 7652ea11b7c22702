"""JSON API v1: the public booking API (blueprint ``api``, /api/v1) and the staff API
(blueprint ``staff_api``, /api/v1/staff), one dialect for both (:mod:`.representation`).

The route modules (:mod:`.public`, :mod:`.staff`) attach their views to these blueprints;
:func:`booking.api.register` imports them and registers the blueprints.
"""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
staff_bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")
