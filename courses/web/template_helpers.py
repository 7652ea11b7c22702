"""Template helpers the course scheduler adds app-wide, registered once by :func:`register`
(called from the app factory): lecturer-title labels, a booking's certificates for the manage
page (booking templates cannot import ``courses``) and the display form of a verification code.
The words both packages share (programme kinds, weekdays) are booking's vocabulary."""
from __future__ import annotations

from flask import Flask

from booking.models import Booking
from booking.models.db import db
from courses.models import Certificate
from courses.rules import certificate_lookup, issuing
from courses.web.public.feeds import feed_links
from courses.web.staff.forms import LECTURER_TITLES


def lecturer_title_label(title: str) -> str:
    return LECTURER_TITLES.get(title, title)


def booking_certificates(booking: Booking) -> list[Certificate]:
    """For the manage page's certificate section."""
    return certificate_lookup.booking_certificates(db.session, booking)


def register(app: Flask) -> None:
    for function in (lecturer_title_label, booking_certificates, feed_links):
        app.add_template_global(function)
    app.add_template_global(issuing.display_code, "display_code")
