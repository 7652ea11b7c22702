"""What the course staff pages look up the same way: the signed-in staff member, venues, an
optional record picked in a form, and the role check they share."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from booking.models import Role, StaffUser, Venue
from booking.models.db import db
from booking.web.auth import role_required
from courses.web.staff.forms import NONE

staff_only = role_required(Role.STAFF)


def current_staff() -> StaffUser:
    return current_user._get_current_object()


def all_venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)))


def pick(model, object_id: int | None):
    return db.session.get(model, object_id) if object_id and object_id != NONE else None
