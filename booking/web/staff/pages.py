"""Staff pages under /staff/: sign-in, the dashboard, approvals, users and the audit log.

Every route except the login page carries ``@role_required`` (tests/test_staff_access.py
walks the URL map to make sure). Views parse a form, call one use case, and render or redirect.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from booking.clock import local_today
from booking.errors import BookingError
from booking.models import (
    Booking,
    BookingState,
    Role,
    Slot,
    SlotState,
    StaffUser,
    Venue,
)
from booking.models.db import db
from booking.rules import accounts, approval, message_log
from booking.usecases import mailer, staff
from booking.web import login_throttle
from booking.web.auth import must_enrol_totp, role_required
from booking.web.extensions import limiter
from booking.web.responses import safe_next_path
from booking.web.staff import bp, sign_in
from booking.web.staff.forms import (
    ActionForm,
    DeclineForm,
    LoginForm,
    PasswordResetForm,
    UserCreateForm,
    UserRoleForm,
    role_choices,
)

#: Any signed-in staff account (admins pass every check anyway).
ANY_ROLE = (Role.STAFF, Role.GUIDE)


# --- sign in and out ---------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    """Unknown user, wrong password and deactivated account get the same answer.

    Per address: 10 attempts a minute. Per account and address together: a delay that grows
    with each failure after the first few (login_throttle), so nobody elsewhere can lock an
    account out.
    """
    form = LoginForm(next=request.args.get("next", ""))
    target = safe_next_path(form.next.data, url_for("staff.dashboard"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if form.validate_on_submit():
        wait = login_throttle.seconds_to_wait(form.username.data)
        if wait:
            form.password.errors.append(_("登录失败次数过多，请 %(n)s 秒后再试。", n=wait))
            return render_template("staff/login.html", form=form), 429
        try:
            user = staff.sign_in(db.session, form.username.data, form.password.data)
        except BookingError as error:
            login_throttle.record_failure(form.username.data)
            form.password.errors.append(error.message)
            return render_template("staff/login.html", form=form), 200
        login_throttle.record_success(form.username.data)
        sign_in.fresh_session()
        if user.has_totp:  # not signed in yet: the code first
            return redirect(sign_in.await_code(user, target))
        login_user(user)
        return redirect(url_for("staff.account") if must_enrol_totp() else target)
    return render_template("staff/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@role_required(*ANY_ROLE, before_enrolment=True)
def logout():
    staff.sign_out(db.session, current_user)
    logout_user()
    sign_in.fresh_session()
    flash(_("您已退出登录。"), "message")
    return redirect(url_for("staff.login"))


# --- dashboard -------------------------------------------------------------------------

@bp.route("/")
@role_required(*ANY_ROLE)
def dashboard():
    """Today at a glance: pending approvals and each venue's sessions. Three queries."""
    today = local_today()
    query = (select(Slot).options(joinedload(Slot.venue), joinedload(Slot.room))
             .join(Venue, Venue.id == Slot.venue_id)
             .where(Slot.day == today).order_by(Venue.position, Venue.id, Slot.starts_at))
    if current_user.role is Role.GUIDE:
        query = query.where(Slot.guide_user_id == current_user.id)
    slots = list(db.session.scalars(query))
    groups = dict(db.session.execute(
        select(Booking.slot_id, func.count())
        .where(Booking.slot_id.in_([s.id for s in slots]),
               Booking.state.in_((BookingState.PENDING, BookingState.CONFIRMED,
                                  BookingState.CHECKED_IN, BookingState.COMPLETED)))
        .group_by(Booking.slot_id)).all()) if slots else {}
    venues: dict[int, dict] = {}
    for slot in slots:
        venues.setdefault(slot.venue_id, {"venue": slot.venue, "slots": []})["slots"].append(slot)
    pending = (approval.count_pending(db.session)
               if current_user.has_role(Role.STAFF) else None)
    return render_template("staff/dashboard.html", today=today, venues=list(venues.values()),
                           groups=groups, pending=pending, SlotState=SlotState)


# --- approvals -------------------------------------------------------------------------

@bp.route("/approvals")
@role_required(Role.STAFF)
def approvals():
    queue = approval.pending_queue(db.session, current_app.config["NO_SHOW_WINDOW_DAYS"])
    return render_template("staff/approvals.html", queue=queue, action_form=ActionForm(),
                           decline_form=DeclineForm(), window_days=
                           current_app.config["NO_SHOW_WINDOW_DAYS"])


def _render_booking(booking: Booking, decline_form: DeclineForm | None = None, status=200):
    history = approval.organisation_histories(
        db.session, {booking.organisation_id}, local_today(),
        current_app.config["NO_SHOW_WINDOW_DAYS"]).get(booking.organisation_id,
                                                       approval.OrganisationHistory())
    return render_template(
        "staff/booking.html", booking=booking, history=history,
        trail=approval.booking_audit_trail(db.session, booking), action_form=ActionForm(),
        decline_form=decline_form or DeclineForm(),
        messages=message_log.booking_messages(db.session, booking, mailer.MAX_ATTEMPTS),
        window_days=current_app.config["NO_SHOW_WINDOW_DAYS"]), status


def _load_booking(reference: str) -> Booking:
    try:
        return approval.get_booking(db.session, reference)
    except BookingError:
        abort(404)


@bp.route("/bookings/<reference>")
@role_required(Role.STAFF)
def booking_detail(reference: str):
    return _render_booking(_load_booking(reference))


def _back(booking: Booking) -> str:
    return safe_next_path(request.form.get("next"),
                          url_for("staff.booking_detail", reference=booking.reference))


@bp.route("/bookings/<reference>/approve", methods=["POST"])
@role_required(Role.STAFF)
def approve(reference: str):
    booking = _load_booking(reference)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        staff.approve(db.session, booking, current_user)
    except BookingError as error:
        flash(error.message, "error")
        return redirect(_back(booking))
    flash(_("已批准预约 %(ref)s（%(org)s）。", ref=booking.display_reference,
            org=booking.organisation.name), "success")
    return redirect(_back(booking))


@bp.route("/bookings/<reference>/decline", methods=["POST"])
@role_required(Role.STAFF)
def decline(reference: str):
    booking = _load_booking(reference)
    form = DeclineForm()
    if not form.validate_on_submit():  # the message shows beside the reason field
        return _render_booking(booking, form, status=422)
    try:
        staff.decline(db.session, booking, current_user, form.reason.data)
    except BookingError as error:
        if error.field == "reason":
            form.reason.errors.append(error.message)
            return _render_booking(booking, form, status=422)
        flash(error.message, "error")
        return redirect(_back(booking))
    flash(_("已拒绝预约 %(ref)s，座位已释放。", ref=booking.display_reference), "success")
    return redirect(_back(booking))


# --- users (admins) ----------------------------------------------------------------------

def _render_users(create_form: UserCreateForm | None = None, status: int = 200):
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(),
                                                          StaffUser.username)).all()
    return render_template("staff/users.html", users=users,
                           create_form=create_form or UserCreateForm(formdata=None),
                           roles=role_choices(), action_form=ActionForm()), status


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    return _render_users()


@bp.route("/users", methods=["POST"])
@role_required(Role.ADMIN)
def create_user():
    form = UserCreateForm()
    if not form.validate_on_submit():
        return _render_users(form, 422)
    try:
        user = staff.create_user(db.session, current_user, form.username.data,
                                 accounts.parse_role(form.role.data), form.password.data,
                                 form.display_name.data or "")
    except BookingError as error:
        getattr(form, error.field or "username").errors.append(error.message)
        return _render_users(form, 422)
    flash(_("已创建用户 %(name)s。", name=user.username), "success")
    return redirect(url_for("staff.users"))


def _change_user(user_id: int, form, change) -> object:
    """Validate ``form``, apply the use case ``change(user, form)``; flash the outcome."""
    user = db.session.get(StaffUser, user_id) or abort(404)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("staff.users"))
    try:
        change(user, form)
    except BookingError as error:
        flash(error.message, "error")
        return redirect(url_for("staff.users"))
    flash(_("已更新用户 %(name)s。", name=user.username), "success")
    return redirect(url_for("staff.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def change_role(user_id: int):
    return _change_user(user_id, UserRoleForm(), lambda user, form: staff.change_role(
        db.session, current_user, user, accounts.parse_role(form.role.data)))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@role_required(Role.ADMIN)
def deactivate_user(user_id: int):
    return _change_user(user_id, ActionForm(), lambda user, form: staff.set_active(
        db.session, current_user, user, False))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@role_required(Role.ADMIN)
def reactivate_user(user_id: int):
    return _change_user(user_id, ActionForm(), lambda user, form: staff.set_active(
        db.session, current_user, user, True))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@role_required(Role.ADMIN)
def reset_password(user_id: int):
    return _change_user(user_id, PasswordResetForm(), lambda user, form: staff.reset_password(
        db.session, current_user, user, form.password.data))


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
@role_required(Role.ADMIN)
def sign_out_everywhere(user_id: int):
    """End every session of the user (a lost phone, a shared desk computer)."""
    return _change_user(user_id, ActionForm(), lambda user, form: staff.sign_out_everywhere(
        db.session, current_user, user))


@bp.route("/users/<int:user_id>/totp-reset", methods=["POST"])
@role_required(Role.ADMIN)
def reset_totp(user_id: int):
    """Remove a user's TOTP (a lost phone): they sign in with the password and enrol again."""
    return _change_user(user_id, ActionForm(), lambda user, form: staff.reset_totp(
        db.session, current_user, user))
