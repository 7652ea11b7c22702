"""Staff pages for the course scheduler under /staff/courses/: the catalogue, lecturers and
guides here; sessions, cancellations and closed days in :mod:`courses.web.staff.sessions`.

Every route is for staff and admins (``@role_required(Role.STAFF)``). Views parse a form,
call one use case (:mod:`courses.usecases`); a refusal shows its message beside the field.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from booking.clock import local_today, utcnow
from booking.errors import BookingError
from booking.models import Role, Room, StaffUser, Venue
from booking.models.db import db
from booking.web.responses import show_error
from booking.web.staff.forms import ActionForm
from courses import usecases
from courses.models import Course, CourseKind, Lecturer, LecturerAbsence
from courses.rules import catalogue
from courses.rules import lecturers as lecturer_rules
from courses.web.staff import bp
from courses.web.staff.forms import (
    NONE,
    AbsenceForm,
    CourseForm,
    LecturerForm,
)
from courses.web.staff.lookups import all_venues, current_staff, pick, staff_only


@bp.route("/")
@staff_only
def index():
    return redirect(url_for(".courses"))


# --- the catalogue ---------------------------------------------------------------------------

@bp.route("/catalogue")
@staff_only
def courses():
    return render_template(
        "courses/staff/courses.html", courses=catalogue.list_courses(db.session),
        upcoming=catalogue.upcoming_session_counts(db.session, utcnow()), action_form=ActionForm())


def _course_form(course: Course | None) -> CourseForm:
    form = CourseForm(obj=course) if course is not None else CourseForm()
    rooms = db.session.scalars(select(Room).join(Venue).order_by(Venue.position, Room.position,
                                                                 Room.id)).all()
    all_lecturers = db.session.scalars(select(Lecturer).join(Venue).where(Lecturer.active)
                                       .order_by(Venue.position, Lecturer.name)).all()
    if course is not None:  # keep a retired lecturer listed while still qualified
        all_lecturers += [lec for lec in course.lecturers if lec not in all_lecturers]
    form.set_choices(all_venues(), rooms, all_lecturers)
    if course is not None and request.method == "GET":
        form.venue.data = course.venue_id
        form.kind.data = course.kind.value
        form.default_room.data = course.default_room_id or NONE
        form.lecturers.data = [lec.id for lec in course.lecturers]
        form.modules_text.data = catalogue.modules_as_text(course)
    return form


def _course_data(form: CourseForm) -> catalogue.CourseData:
    chosen = form.lecturers.data or []
    return catalogue.CourseData(
        venue=pick(Venue, form.venue.data), kind=CourseKind(form.kind.data),
        code=form.code.data, title=form.title.data.strip(), title_en=form.title_en.data,
        summary=form.summary.data, summary_en=form.summary_en.data,
        description=form.description.data, description_en=form.description_en.data,
        audience=form.audience.data, audience_en=form.audience_en.data,
        modules=form.parsed_modules, training_hours=form.training_hours.data,
        group_min=form.group_min.data, group_max=form.group_max.data,
        requires_approval=form.requires_approval.data, requires_letter=form.requires_letter.data,
        min_working_days_ahead=form.min_working_days_ahead.data,
        max_days_ahead=form.max_days_ahead.data, default_room=pick(Room, form.default_room.data),
        lecturers=list(db.session.scalars(select(Lecturer).where(Lecturer.id.in_(chosen))))
        if chosen else [], equipment=form.equipment.data, equipment_en=form.equipment_en.data)


@bp.route("/catalogue/new", methods=["GET", "POST"])
@staff_only
def course_new():
    form = _course_form(None)
    if request.method == "GET":
        form.group_min.data, form.group_max.data, form.training_hours.data = 10, 50, None
    if form.validate_on_submit():
        try:
            course = usecases.create_course(db.session, _course_data(form), current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("已创建课程《%(title)s》。", title=course.title), "success")
            return redirect(url_for(".courses"))
    return render_template("courses/staff/course_form.html", form=form, course=None), \
        422 if form.errors else 200


@bp.route("/catalogue/<int:course_id>/edit", methods=["GET", "POST"])
@staff_only
def course_edit(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = _course_form(course)
    if form.validate_on_submit():
        try:
            refreshed = usecases.update_course(db.session, course, _course_data(form), current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("课程已保存。%(n)s 个尚未开始的场次已同步更新名称、人数范围、审核、预约窗口、环节和器材；"
                    "已开始或已结束的场次保留原信息，已安排场次的时间不变。", n=refreshed), "success")
            return redirect(url_for(".courses"))
    return render_template("courses/staff/course_form.html", form=form, course=course), \
        422 if form.errors else 200


@bp.route("/catalogue/<int:course_id>/<any(activate, deactivate):action>", methods=["POST"])
@staff_only
def course_set_active(course_id: int, action: str):
    course = db.get_or_404(Course, course_id)
    if ActionForm().validate_on_submit():
        usecases.set_course_active(db.session, course, action == "activate", current_staff())
        flash(_("《%(title)s》已停用，不能再安排新场次；已安排的场次不受影响。", title=course.title)
              if action == "deactivate" else _("《%(title)s》已恢复。", title=course.title),
              "success")
    return redirect(url_for(".courses"))


# --- lecturers and guides --------------------------------------------------------------------

@bp.route("/lecturers")
@staff_only
def lecturers():
    return render_template("courses/staff/lecturers.html",
                           lecturers=lecturer_rules.list_lecturers(db.session),
                           today=local_today())


def _lecturer_form(lecturer: Lecturer | None, submitted: bool = True) -> LecturerForm:
    """The lecturer form, read from the request when it was the form ``submitted``, else
    filled from the lecturer (as under an absence form that was posted instead)."""
    submitted = submitted and request.method == "POST"
    form = LecturerForm(obj=lecturer) if submitted else LecturerForm(formdata=None, obj=lecturer)
    guides = db.session.scalars(select(StaffUser).where(StaffUser.role == Role.GUIDE)
                                .order_by(StaffUser.username)).all()
    all_courses = db.session.scalars(select(Course).join(Venue)
                                     .order_by(Venue.position, Course.position)).all()
    form.set_choices(all_venues(), guides, all_courses)
    if lecturer is not None and not submitted:
        form.venue.data = lecturer.venue_id
        form.staff_user.data = lecturer.staff_user_id or NONE
        form.courses.data = [course.id for course in lecturer.courses]
    return form


def _lecturer_data(form: LecturerForm) -> lecturer_rules.LecturerData:
    chosen = form.courses.data or []
    return lecturer_rules.LecturerData(
        name=form.name.data, title=form.title.data, venue=pick(Venue, form.venue.data),
        staff_user=pick(StaffUser, form.staff_user.data),
        courses=list(db.session.scalars(select(Course).where(Course.id.in_(chosen))))
        if chosen else [], active=form.active.data)


def _lecturer_page(form, lecturer, absence_form=None, clashing=(), status=200):
    return render_template("courses/staff/lecturer_form.html", form=form, lecturer=lecturer,
                           absence_form=absence_form or AbsenceForm(formdata=None),
                           clashing=clashing, action_form=ActionForm(), today=local_today()), \
        status


@bp.route("/lecturers/new", methods=["GET", "POST"])
@staff_only
def lecturer_new():
    form = _lecturer_form(None)
    if form.validate_on_submit():
        try:
            lecturer = usecases.create_lecturer(db.session, _lecturer_data(form), current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("已添加 %(name)s。", name=lecturer.name), "success")
            return redirect(url_for(".lecturer_edit", lecturer_id=lecturer.id))
    return _lecturer_page(form, None, status=422 if form.errors else 200)


@bp.route("/lecturers/<int:lecturer_id>/edit", methods=["GET", "POST"])
@staff_only
def lecturer_edit(lecturer_id: int):
    lecturer = db.get_or_404(Lecturer, lecturer_id)
    form = _lecturer_form(lecturer)
    if form.validate_on_submit():
        try:
            refreshed = usecases.update_lecturer(db.session, lecturer, _lecturer_data(form),
                                                       current_staff())
        except BookingError as error:
            show_error(form, error)
        else:
            flash(_("已保存。%(n)s 个尚未开始的场次已同步更新讲解员信息。", n=refreshed), "success")
            return redirect(url_for(".lecturers"))
    return _lecturer_page(form, lecturer, status=422 if form.errors else 200)


@bp.route("/lecturers/<int:lecturer_id>/absences", methods=["POST"])
@staff_only
def absence_add(lecturer_id: int):
    lecturer = db.get_or_404(Lecturer, lecturer_id)
    form = AbsenceForm()
    clashing = []
    if form.validate_on_submit():
        try:
            usecases.add_absence(db.session, lecturer, form.day.data, form.note.data,
                                       current_staff())
        except BookingError as error:
            show_error(form, error)
            if error.code == "absence_has_sessions":
                clashing = lecturer_rules.sessions_on_day(db.session, lecturer, form.day.data)
        else:
            flash(_("已登记 %(name)s 在 %(day)s 不在岗。", name=lecturer.name,
                    day=form.day.data.isoformat()), "success")
            return redirect(url_for(".lecturer_edit", lecturer_id=lecturer.id) + "#absences")
    return _lecturer_page(_lecturer_form(lecturer, submitted=False), lecturer, form, clashing,
                          status=422)


@bp.route("/lecturers/<int:lecturer_id>/absences/<int:absence_id>/delete", methods=["POST"])
@staff_only
def absence_remove(lecturer_id: int, absence_id: int):
    absence = db.get_or_404(LecturerAbsence, absence_id)
    if absence.lecturer_id != lecturer_id:
        abort(404)
    if ActionForm().validate_on_submit():
        usecases.remove_absence(db.session, absence, current_staff())
        flash(_("已删除该不在岗日期。"), "success")
    return redirect(url_for(".lecturer_edit", lecturer_id=lecturer_id) + "#absences")


# The sessions and closed-days pages register on the same blueprint.
