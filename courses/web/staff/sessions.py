"""Staff pages for sessions and closed days, on the ``course_staff`` blueprint: the agenda,
scheduling one session or a weekly pattern (preview first), editing and cancelling a
session, and ad-hoc closed or specially opened days."""
from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import Room, Venue, VenueDay
from booking.models.db import db
from booking.rules import closures
from booking.rules.vocabulary import SLOT_STATE_LABELS
from booking.usecases import staff as staff_cases
from booking.web.responses import show_error
from booking.web.staff.forms import ActionForm
from courses import usecases
from courses.models import Course, CourseSession, Lecturer
from courses.rules import scheduling
from courses.web.staff import bp
from courses.web.staff.forms import (
    NONE,
    AgendaFilterForm,
    CancelForm,
    ClosureForm,
    PatternForm,
    SessionEditForm,
    SessionForm,
)
from courses.web.staff.lookups import all_venues, current_staff, pick, staff_only

AGENDA_DAYS = 14
MAX_AGENDA_DAYS = 93


# --- sessions --------------------------------------------------------------------------------

@bp.route("/sessions")
@staff_only
def sessions():
    venues = all_venues()
    form = AgendaFilterForm(request.args)
    venue_id = form.venue.data if request.args.get("venue", "").isdigit() else None
    venue = next((v for v in venues if v.id == venue_id), venues[0] if venues else None)
    if venue is None:
        return render_template("courses/staff/sessions.html", form=None, venue=None, days=[])
    venue_courses = db.session.scalars(select(Course).filter_by(venue_id=venue.id)
                                       .order_by(Course.position)).all()
    venue_lecturers = db.session.scalars(select(Lecturer).filter_by(venue_id=venue.id)
                                         .order_by(Lecturer.name)).all()
    form.set_choices(venues, venue_courses, venue_lecturers)
    form.validate()
    today = local_today(tz=venue.tz)
    first = form.start.data if form.start.data and not form.start.errors else today
    last = form.end.data if form.end.data and not form.end.errors else \
        first + timedelta(days=AGENDA_DAYS - 1)
    if last < first or (last - first).days >= MAX_AGENDA_DAYS:
        form.end.errors = [*form.end.errors, _("日期范围应在 %(n)s 天以内，且结束不早于开始。",
                                               n=MAX_AGENDA_DAYS)]
        last = first + timedelta(days=AGENDA_DAYS - 1)
    form.venue.data, form.start.data, form.end.data = venue.id, first, last
    course = next((c for c in venue_courses if c.id == form.course.data), None)
    lecturer = next((lec for lec in venue_lecturers if lec.id == form.lecturer.data), None)
    found = scheduling.agenda(db.session, venue, first, last, course=course, lecturer=lecturer)
    overrides = {d.day: d for d in db.session.scalars(
        select(VenueDay).where(VenueDay.venue_id == venue.id, VenueDay.day.between(first, last),
                               VenueDay.closed.is_(True)))}
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        day_sessions = [cs for cs in found if cs.slot.day == day]
        if day_sessions or day in overrides:
            days.append((day, overrides.get(day), day_sessions))
    return render_template("courses/staff/sessions.html", form=form, venue=venue, days=days,
                           count=len(found), state_labels=SLOT_STATE_LABELS)


def _course_from_args() -> Course | None:
    course_id = request.args.get("course", "")
    return db.get_or_404(Course, int(course_id)) if course_id.isdigit() else None


def _session_choices(form, course: Course) -> None:
    form.set_choices(course.venue.rooms, scheduling.qualified_lecturers(db.session, course))


def _course_picker(template: str):
    active = db.session.scalars(select(Course).join(Venue).where(Course.active)
                                .order_by(Venue.position, Course.position)).all()
    return render_template(template, course=None, courses=active, form=None)


@bp.route("/sessions/new", methods=["GET", "POST"])
@staff_only
def session_new():
    course = _course_from_args()
    if course is None:
        return _course_picker("courses/staff/session_new.html")
    form = SessionForm()
    _session_choices(form, course)
    if request.method == "GET" and request.args.get("day"):
        try:
            form.day.data = date.fromisoformat(request.args["day"])
        except ValueError:
            pass
    if form.validate_on_submit():
        try:
            created = usecases.schedule_single(
                db.session, course, form.day.data, form.start.data,
                lecturer=pick(Lecturer, form.lecturer.data), room=pick(Room, form.room.data),
                capacity=form.capacity.data, user=current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("已安排 %(day)s %(time)s《%(title)s》。", day=created.slot.day.isoformat(),
                    time=form.start.data.strftime("%H:%M"), title=course.title), "success")
            return redirect(url_for(".sessions", venue=course.venue_id,
                                    start=created.slot.day.isoformat()))
    return render_template("courses/staff/session_new.html", course=course, form=form), \
        422 if form.errors else 200


@bp.route("/sessions/pattern", methods=["GET", "POST"])
@staff_only
def session_pattern():
    course = _course_from_args()
    if course is None:
        return _course_picker("courses/staff/pattern.html")
    form = PatternForm()
    _session_choices(form, course)
    if request.method == "GET":
        form.weekdays.data = [1, 2, 3, 4, 5, 6]
        form.first_day.data = local_today(tz=course.venue.tz) + timedelta(days=1)
        form.last_day.data = form.first_day.data + timedelta(days=27)
    preview = None
    if form.validate_on_submit():
        pattern = dict(first_day=form.first_day.data, last_day=form.last_day.data,
                       weekdays=set(form.weekdays.data), times=form.parsed_times,
                       lecturer=pick(Lecturer, form.lecturer.data),
                       room=pick(Room, form.room.data), capacity=form.capacity.data)
        try:
            if form.action.data == "confirm":
                result = usecases.generate_pattern(db.session, course, user=current_staff(), **pattern)
                flash(_("已生成 %(n)s 个场次，跳过 %(m)s 天。", n=len(result.created),
                        m=len(result.skipped)), "success")
                return redirect(url_for(".sessions", venue=course.venue_id,
                                        start=form.first_day.data.isoformat(),
                                        end=form.last_day.data.isoformat(), course=course.id))
            preview = scheduling.preview_pattern(db.session, course, **pattern)
        except BookingError as error:
            show_error(form, error)
    form.action.data = "preview"
    return render_template("courses/staff/pattern.html", course=course, form=form,
                           preview=preview), 422 if form.errors else 200


def _session_or_404(session_id: int) -> CourseSession:
    return db.get_or_404(CourseSession, session_id)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@staff_only
def session_edit(session_id: int):
    course_session = _session_or_404(session_id)
    slot = course_session.slot
    form = SessionEditForm(obj=slot)
    _session_choices(form, course_session.course)
    current = course_session.lecturer
    if current is not None and current.id not in [c[0] for c in form.lecturer.choices]:
        form.lecturer.choices.append((current.id, current.name))
    if request.method == "GET":
        form.room.data = slot.room_id
        form.lecturer.data = course_session.lecturer_id or NONE
    if form.validate_on_submit():
        try:
            freed = usecases.change_session(
                db.session, course_session, lecturer=pick(Lecturer, form.lecturer.data),
                room=pick(Room, form.room.data), capacity=form.capacity.data, user=current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("场次已更新。") + (_("新增的座位将按顺序提供给候补名单。") if freed else ""),
                  "success")
            return redirect(url_for(".sessions", venue=slot.venue_id, start=slot.day.isoformat()))
    return render_template("courses/staff/session_edit.html", cs=course_session, slot=slot,
                           form=form, bookings=closures.active_bookings(db.session, slot),
                           state_labels=SLOT_STATE_LABELS), 422 if form.errors else 200


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@staff_only
def session_cancel(session_id: int):
    course_session = _session_or_404(session_id)
    slot = course_session.slot
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancelled = staff_cases.cancel_by_museum(db.session, slot, form.reason.data,
                                                     current_staff(), form.reason_en.data or "")
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("场次已取消；%(n)s 个预约已标记为“场馆取消”，预约单位可在预约管理页看到理由。",
                    n=len(cancelled)), "success")
            return redirect(url_for(".sessions", venue=slot.venue_id, start=slot.day.isoformat()))
    return render_template("courses/staff/session_cancel.html", cs=course_session, slot=slot,
                           form=form, bookings=closures.active_bookings(db.session, slot)), \
        422 if form.errors else 200


# --- closed days -----------------------------------------------------------------------------

def _closures_page(form, preview=None, status=200):
    today = local_today()
    overrides = [(venue, closures.upcoming_overrides(db.session, venue, today))
                 for venue in all_venues()]
    return render_template("courses/staff/closures.html", form=form, overrides=overrides,
                           preview=preview, action_form=ActionForm()), status


@bp.route("/closures", methods=["GET", "POST"], endpoint="closures")
@staff_only
def closures_page():
    form = ClosureForm()
    form.set_choices(all_venues())
    if not form.validate_on_submit():
        return _closures_page(form, status=422 if form.errors else 200)
    venue = db.get_or_404(Venue, form.venue.data)
    day = form.day.data
    try:
        if form.kind.data == "open":
            staff_cases.force_open_day(db.session, venue, day, form.reason.data, current_staff(),
                                       form.reason_en.data or "")
            message = _("%(day)s 已设为特别开放。", day=day.isoformat())
        elif form.action.data != "confirm":
            preview = closures.closure_plan(db.session, venue, day, form.reason.data)
            return _closures_page(form, preview={"venue": venue, "day": day, "slots": preview})
        else:
            closed = staff_cases.close_day(db.session, venue, day, form.reason.data,
                                           current_staff(), form.reason_en.data or "")
            message = _("%(day)s 已临时闭馆：取消 %(n)s 个场次，%(m)s 个预约已标记为“场馆取消”。",
                        day=day.isoformat(), n=len(closed.slots), m=len(closed.bookings))
    except BookingError as error:
        show_error(form, error)
        return _closures_page(form, status=422)
    flash(message, "success")
    return redirect(url_for(".closures"))


@bp.route("/closures/<int:venue_day_id>/remove", methods=["POST"])
@staff_only
def closure_remove(venue_day_id: int):
    venue_day = db.get_or_404(VenueDay, venue_day_id)
    if ActionForm().validate_on_submit():
        try:
            staff_cases.reopen_day(db.session, venue_day.venue, venue_day.day, current_staff())
        except BookingError as error:
            flash(str(error.message), "error")
        else:
            flash(_("%(day)s 已恢复按常规开放规则。", day=venue_day.day.isoformat()), "success")
    return redirect(url_for(".closures"))
