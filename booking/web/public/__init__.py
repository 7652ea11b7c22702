"""Public pages: the capacity calendar, the booking form, the secret manage link, "my booking"
recovery (blueprint ``booking``) and the waiting list (blueprint ``waitlist``).

The route modules (:mod:`.pages`, :mod:`.manage`, :mod:`.waitlist`) attach their views to
these blueprints; :func:`booking.web.register` imports them and registers the blueprints.
"""
from flask import Blueprint

bp = Blueprint("booking", __name__)
waitlist_bp = Blueprint("waitlist", __name__)
