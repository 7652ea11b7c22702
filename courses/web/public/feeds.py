"""Calendar feeds: public session feeds per venue and per programme, a private feed per
lecturer or guide, and the staff action that (re)sets a lecturer's secret feed URL.

Public feeds (``/venues/<code>/sessions.ics``, ``/programmes/<code>/sessions.ics``) carry
sessions from a week back to 90 days ahead, with the seats left; they hold no personal data.
Full sessions stay in (marked full) and cancelled ones are published as STATUS:CANCELLED
until they fall out of the window, so a subscriber's calendar updates instead of silently
losing the event. The lecturer feed (``/lecturers/feed/<token>.ics``) adds what the lecturer
needs to prepare: the room, the modules and the booked groups (organisation and headcount —
no contact person, no phone).

Every feed answers conditional requests: the ETag and Last-Modified are computed from the
loaded events (:func:`courses.render.ics.feed_etag`, :func:`courses.render.ics.feed_last_modified`), and a
304 is sent without rendering. Feeds speak Chinese, or English with ``?language=en`` (a
query parameter rather than the cookie, so one URL always means one representation).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.http import is_resource_modified

from booking.clock import local_today, utcnow
from booking.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    localized,
    localized_lines,
)
from booking.models import Booking, BookingState, Role, Slot, SlotState, Venue
from booking.models.db import db
from booking.rules import tokens
from booking.web.auth import role_required
from booking.web.responses import private
from booking.web.staff.forms import ActionForm
from courses import usecases
from courses.models import Course, CourseSession, Lecturer
from courses.render.ics import FeedEvent, feed_etag, feed_last_modified, render_feed
from courses.web.public import feeds_bp as bp

PUBLIC_DAYS_BACK, PUBLIC_DAYS_AHEAD = 7, 90
LECTURER_DAYS_BACK, LECTURER_DAYS_AHEAD = 30, 180
LANGUAGE_PARAM = "language"
PUBLIC_CACHE = "public, max-age=300"
# The lecturer's client may keep a copy but must revalidate (cheap: a 304) every time;
# shared caches must not keep it at all.
PRIVATE_CACHE = "private, no-cache"
#: Bookings a lecturer prepares for (a no-show or a cancellation is not coming).
EXPECTED_STATES = (BookingState.PENDING, BookingState.CONFIRMED, BookingState.CHECKED_IN,
                   BookingState.COMPLETED)


# --- links to feeds (used by the venue, programme and staff pages) --------------------------

@dataclass(frozen=True)
class FeedLinks:
    url: str      # http(s): for "add by URL" in Google or Outlook, and for <link rel=alternate>
    webcal: str   # webcal: opens the subscribe dialog of Apple Calendar and Outlook


def feed_links(endpoint: str, **values) -> FeedLinks:
    """Absolute links to a feed on the public address, in the page's language."""
    if current_language() != DEFAULT_LANGUAGE and LANGUAGE_PARAM not in values:
        values[LANGUAGE_PARAM] = current_language()
    url = _absolute(endpoint, **values)
    return FeedLinks(url=url, webcal="webcal://" + url.split("://", 1)[-1])


def _absolute(endpoint: str, **values) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True,
                                                                   **values)


def _host() -> str:
    return urlparse(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "localhost"


# --- public feeds ------------------------------------------------------------------------------

@bp.route("/venues/<code>/sessions.ics")
def venue_sessions(code: str):
    venue = db.session.scalar(select(Venue).filter_by(code=code.upper()))
    if venue is None:
        abort(404)
    with force_locale(_feed_language()):
        events = _public_events(db.session, utcnow(), Slot.venue_id == venue.id)
        return _feed_response(_("%(venue)s · 团体场次", venue=localized(venue, "name")), events,
                              private=False)


@bp.route("/programmes/<code>/sessions.ics")
def programme_sessions(code: str):
    # Retired programmes keep their feed: subscribers still learn of cancellations.
    course = db.session.scalar(select(Course).filter_by(code=code))
    if course is None:
        abort(404)
    with force_locale(_feed_language()):
        events = _public_events(db.session, utcnow(), Slot.programme == course.code,
                                Slot.venue_id == course.venue_id)
        name = _("%(programme)s · %(venue)s", programme=localized(course, "title"),
                 venue=localized(course.venue, "name"))
        return _feed_response(name, events, private=False)


def _feed_language() -> str:
    chosen = request.args.get(LANGUAGE_PARAM)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _window_slots(now: datetime, days_back: int, days_ahead: int, *criteria):
    today = local_today(now)
    return (select(Slot).where(*criteria, Slot.day >= today - timedelta(days=days_back),
                               Slot.day <= today + timedelta(days=days_ahead))
            .options(joinedload(Slot.room), joinedload(Slot.venue))
            .order_by(Slot.starts_at, Slot.id))


def _public_events(session: Session, now: datetime, *criteria) -> list[FeedEvent]:
    slots = session.scalars(_window_slots(now, PUBLIC_DAYS_BACK, PUBLIC_DAYS_AHEAD,
                                          *criteria)).all()
    host = _host()
    return [_public_event(slot, now, host) for slot in slots]


def _public_event(slot: Slot, now: datetime, host: str) -> FeedEvent:
    cancelled = slot.state is SlotState.CANCELLED
    bookable = slot.state is SlotState.OPEN and slot.starts_at > now
    lines = [_("本场次已取消。")] if cancelled else []
    lines += _module_lines(slot)
    if slot.lecturer_name:
        lines.append(_("主讲/讲解：%(name)s", name=slot.lecturer_name))
    book_url = _absolute("booking.book", slot_id=slot.id) if bookable else None
    if book_url:
        lines.append(_("预约：%(url)s", url=book_url))
    return FeedEvent(
        uid=f"slot-{slot.id}@{host}", starts_at=slot.starts_at, ends_at=slot.ends_at,
        title=localized(slot, "title"), venue=localized(slot.venue, "name"),
        room=localized(slot.room, "name") if slot.room else None, description="\n".join(lines),
        seats_left=max(slot.seats_left, 0) if bookable else None,
        status="cancelled" if cancelled else "confirmed", url=book_url,
        updated_at=slot.updated_at, language=current_language())


def _module_lines(slot: Slot) -> list[str]:
    modules = localized_lines(slot, "modules_text")
    if not modules:
        return []
    return [_("活动安排：")] + [f"{n}. {module}" for n, module in enumerate(modules, start=1)]


# --- the lecturer's private feed -------------------------------------------------------------

@bp.route("/lecturers/feed/<token>.ics")
def lecturer_sessions(token: str):
    lecturer = db.session.scalar(select(Lecturer).filter_by(
        feed_token_hash=tokens.hash_secret(token))) if token else None
    if lecturer is None or not lecturer.active:
        abort(404)
    with force_locale(_feed_language()):
        events = lecturer_events(db.session, lecturer, utcnow(), _host())
        return _feed_response(_("%(name)s的场次", name=lecturer.name), events, private=True)


def lecturer_events(session: Session, lecturer: Lecturer, now: datetime,
                    host: str) -> list[FeedEvent]:
    """The lecturer's sessions with room, modules and the groups expected.

    An event's ``updated_at`` is the newest of its slot's and its bookings' (cancelled ones
    included), so a booking made, resized or cancelled changes the ETag and Last-Modified.
    """
    slots = session.scalars(
        _window_slots(now, LECTURER_DAYS_BACK, LECTURER_DAYS_AHEAD)
        .join(CourseSession, CourseSession.slot_id == Slot.id)
        .where(CourseSession.lecturer_id == lecturer.id)).all()
    bookings: dict[int, list[Booking]] = defaultdict(list)
    if slots:
        for booking in session.scalars(
                select(Booking).where(Booking.slot_id.in_([slot.id for slot in slots]))
                .options(joinedload(Booking.organisation))
                .order_by(Booking.created_at, Booking.id)):
            bookings[booking.slot_id].append(booking)
    return [_lecturer_event(slot, bookings[slot.id], lecturer, host) for slot in slots]


def _lecturer_event(slot: Slot, bookings: list[Booking], lecturer: Lecturer,
                    host: str) -> FeedEvent:
    cancelled = slot.state is SlotState.CANCELLED
    expected = [b for b in bookings if b.state in EXPECTED_STATES]
    people = sum(b.party_size for b in expected)
    lines = []
    if cancelled:
        lines.append(_("本场次已取消。"))
        if slot.cancel_reason:
            lines.append(_("原因：%(reason)s", reason=localized(slot, "cancel_reason")))
    if slot.room:
        lines.append(_("场地：%(room)s", room=localized(slot.room, "name")))
    lines += _module_lines(slot)
    if expected:
        lines.append(_("预约团体（%(groups)s 个，共 %(people)s 人）：", groups=len(expected),
                       people=people))
        lines += [_("· %(organisation)s，%(n)s 人", organisation=b.organisation.name,
                    n=b.party_size) + (_("（待审核）") if b.is_pending else "")
                  for b in expected]
    elif not cancelled:
        lines.append(_("暂无预约团体。"))
    title = localized(slot, "title")
    if expected and not cancelled:
        title = _("%(title)s（%(groups)s 个团体，%(people)s 人）", title=title,
                  groups=len(expected), people=people)
    return FeedEvent(
        uid=f"lecturer-{lecturer.id}-slot-{slot.id}@{host}", starts_at=slot.starts_at,
        ends_at=slot.ends_at, title=title, venue=localized(slot.venue, "name"),
        room=localized(slot.room, "name") if slot.room else None, description="\n".join(lines),
        seats_left=None, status="cancelled" if cancelled else "confirmed", url=None,
        updated_at=max([slot.updated_at] + [b.updated_at for b in bookings]),
        language=current_language())


# --- answering -------------------------------------------------------------------------------

def _feed_response(name: str, events: list[FeedEvent], *, private: bool):
    """The feed, or 304 Not Modified (decided before rendering) when the client is current."""
    # The language is part of the representation; the tag must differ between them.
    etag = f"{feed_etag(events)}-{_feed_language()}"
    last_modified = feed_last_modified(events)
    if is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response = current_app.response_class(render_feed(name, events))
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    else:
        response = current_app.response_class(status=304)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = PRIVATE_CACHE if private else PUBLIC_CACHE
    if private:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- staff: the lecturer's secret feed URL -----------------------------------------------------

@bp.route("/staff/courses/lecturers/<int:lecturer_id>/feed-token", methods=["GET", "POST"])
@role_required(Role.STAFF)
def lecturer_feed_token(lecturer_id: int):
    lecturer = db.get_or_404(Lecturer, lecturer_id)
    if request.method == "GET":  # e.g. the language switch on the result page: nothing to show
        return redirect(url_for("course_staff.lecturer_edit", lecturer_id=lecturer.id)
                        + "#calendar-feed")
    if not ActionForm().validate_on_submit():
        abort(400)
    token = usecases.reset_feed_token(db.session, lecturer, current_user._get_current_object())
    response = current_app.make_response(render_template(
        "feeds/lecturer_token.html", lecturer=lecturer,
        links=feed_links("feeds.lecturer_sessions", token=token)))
    return private(response)
