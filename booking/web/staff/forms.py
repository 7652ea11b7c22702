"""Forms for staff pages: login, approval decisions, user management, audit filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from booking.models import Role
from booking.rules.vocabulary import role_label

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,60}$"


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role_label(role)) for role in Role]




class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")),
                                                   Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")),
                                                   Length(max=200)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("拒绝理由"), validators=[
        DataRequired(_l("请填写拒绝理由，预约单位会看到它。")),
        Length(max=300, message=_l("理由不能超过 300 个字符。"))])


def _password_fields():
    return (
        PasswordField(_l("密码"), validators=[
            DataRequired(_l("请输入密码。")),
            Length(min=MIN_PASSWORD_LENGTH, max=200,
                   message=_l("密码至少 %(n)s 个字符。", n=MIN_PASSWORD_LENGTH))]),
        PasswordField(_l("再次输入密码"), validators=[
            DataRequired(_l("请再次输入密码。")),
            EqualTo("password", message=_l("两次输入的密码不一致。"))]),
    )


class UserCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请输入用户名。")),
        Regexp(USERNAME_PATTERN, message=_l("用户名为 3–60 个字母、数字、点、横线或下划线。"))])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=60)])
    role = SelectField(_l("角色"), choices=role_choices, default=Role.STAFF.value)
    password, confirm = _password_fields()


class UserRoleForm(FlaskForm):
    role = SelectField(_l("角色"), choices=role_choices)


class PasswordResetForm(FlaskForm):
    password, confirm = _password_fields()


class AuditFilterForm(FlaskForm):
    """Read from the query string: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    action = StringField(_l("操作"), validators=[Optional(), Length(max=60)])
    object_type = StringField(_l("对象类型"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("对象编号"), validators=[Optional(), Length(max=40)])


def _code_field():
    return StringField(_l("验证码"), validators=[
        DataRequired(_l("请输入验证器应用中的 6 位验证码。")),
        Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("验证码为 6 位数字。"))])


class TotpCodeForm(FlaskForm):
    """The second sign-in step, and the first code that confirms an enrolment."""

    code = _code_field()


class TotpDisableForm(FlaskForm):
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")),
                                                   Length(max=200)])
    code = _code_field()
