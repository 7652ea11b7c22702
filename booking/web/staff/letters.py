"""A booking's introduction letter (介绍信), for staff: /staff/bookings/<reference>/letter.

Letters are kept outside ``static/`` (``LETTER_DIR``) and leave only through this route: staff
and admins for every booking, a guide only for the groups of their own sessions (as on the
roster). Never cached, always with the type the upload was checked to be.
"""
from __future__ import annotations

from flask import abort, current_app, send_file
from flask_login import current_user

from booking.models import Role
from booking.rules.checkin import can_run_session
from booking.rules.letters import letter_type_of
from booking.usecases.letters import letter_path
from booking.web.auth import role_required
from booking.web.lookups import booking_or_404
from booking.web.responses import private
from booking.web.staff import roster_bp as bp


@bp.route("/bookings/<reference>/letter")
@role_required(Role.STAFF, Role.GUIDE)
def booking_letter(reference: str):
    booking = booking_or_404(reference)
    if not can_run_session(current_user, booking.slot):
        abort(403)
    kind = letter_type_of(booking)
    if kind is None or not booking.letter_file:
        abort(404)
    try:
        path = letter_path(booking.letter_file)
    except ValueError:
        abort(404)
    if not path.is_file():
        current_app.logger.warning("introduction letter of %s is missing", booking.reference)
        abort(404)
    response = send_file(path, mimetype=kind.media_type, as_attachment=False,
                         download_name=f"letter-{booking.display_reference}{kind.suffix}",
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return private(response)
