"""Forms for the certificate pages. They check shape; :mod:`courses.rules.issuing` checks policy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from courses.rules.issuing import MAX_NAME, MAX_REASON


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class VisitorCertificateForm(FlaskForm):
    """A visitor asks for their certificate with the booking reference and their own name."""

    reference = StringField(_l("预约编号"), filters=[_strip], validators=[
        DataRequired(_l("请填写预约编号。")), Length(max=20, message=_l("预约编号格式不正确。"))])
    name = StringField(_l("您的姓名"), filters=[_strip], validators=[
        DataRequired(_l("请填写您的姓名。")),
        Length(max=MAX_NAME, message=_l("姓名不能超过 %(n)s 个字符。", n=MAX_NAME))])


class VerifyForm(FlaskForm):
    """Type a verification code (a GET form: it changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    code = StringField(_l("验证码"), filters=[_strip], validators=[
        DataRequired(_l("请输入证书上的验证码。")), Length(max=30, message=_l("验证码格式不正确。"))])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("撤销原因"), filters=[_strip], validators=[
        DataRequired(_l("请填写撤销原因。")),
        Length(max=MAX_REASON, message=_l("原因不能超过 %(n)s 个字符。", n=MAX_REASON))])


class ReissueForm(FlaskForm):
    name = StringField(_l("更正后的姓名"), filters=[_strip], validators=[
        Optional(), Length(max=MAX_NAME, message=_l("姓名不能超过 %(n)s 个字符。", n=MAX_NAME))])
