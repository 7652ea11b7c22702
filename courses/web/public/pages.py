"""Public course pages: the home page (venues and their programmes) and programme pages."""
from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.clock import utcnow
from booking.models import Venue
from booking.models.db import db
from booking.rules import availability as capacity_calendar
from booking.rules import versions
from booking.web.page_cache import versioned_page
from courses.models import Course
from courses.web.public import bp


@bp.route("/")
def home():
    venues = list(db.session.scalars(select(Venue).order_by(Venue.position, Venue.id)))
    courses = db.session.scalars(select(Course).where(Course.active.is_(True))
                                 .order_by(Course.position, Course.id))
    by_venue: dict[int, list[Course]] = {venue.id: [] for venue in venues}
    for course in courses:
        by_venue.setdefault(course.venue_id, []).append(course)
    return render_template("courses/home.html", venues=venues, courses_by_venue=by_venue)


@bp.route("/programmes/<code>")
def programme(code: str):
    course = db.session.scalar(select(Course).options(selectinload(Course.modules))
                               .filter_by(code=code, active=True))
    if course is None:
        abort(404)
    now = utcnow()
    version = versions.upcoming_version(
        db.session, course.venue, course.code, now, versions.row_facts(course),
        [versions.row_facts(module) for module in course.modules])

    def render() -> str:
        sessions = capacity_calendar.upcoming_slots(db.session, course.venue, course.code, now)
        return render_template("courses/programme.html", course=course, venue=course.venue,
                               sessions=sessions)
    return versioned_page(version, render)
