"""Public booking forms. They check shape; the rules in :mod:`booking.rules.workflow` check policy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from booking.models import OrganisationKind
from booking.rules.channels import NotifyBy, needs_email
from booking.rules.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_digit,
    is_mainland_mobile,
    normalise_phone,
)
from booking.rules.vocabulary import NOTIFY_BY_LABELS, ORGANISATION_KIND_LABELS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _credit_code(form, field) -> None:
    code = (field.data or "").strip().upper().replace(" ", "")
    field.data = code
    if not code:
        return
    if len(code) != 18:
        raise ValidationError(_l("统一社会信用代码应为 18 位（当前 %(n)s 位）。", n=len(code)))
    wrong = [ch for ch in code if ch not in CREDIT_CODE_ALPHABET]
    if wrong:
        raise ValidationError(_l("统一社会信用代码含有无效字符：%(chars)s（不使用 I、O、Z、S、V）。",
                                 chars="".join(dict.fromkeys(wrong))))
    if credit_code_check_digit(code[:17]) != code[17]:
        raise ValidationError(_l("统一社会信用代码校验位不正确，请逐位核对。"))


def _mobile(form, field) -> None:
    if not is_mainland_mobile(field.data or ""):
        raise ValidationError(_l("请填写 11 位中国大陆手机号码，例如 13812345678。"))
    field.data = normalise_phone(field.data)


class AttendeeFields:
    """The attendee list: typed one per line, and/or uploaded as CSV or XLSX."""

    attendees = TextAreaField(_l("参加人员名单"), filters=[_strip],
                              validators=[Length(max=20000, message=_l("名单过长。"))])
    attendee_file = FileField(_l("或上传名单文件（CSV / Excel .xlsx）"))

    def typed_names(self) -> list[str]:
        return [line.strip() for line in (self.attendees.data or "").splitlines()
                if line.strip()]

    def uploaded_file(self):
        upload = self.attendee_file.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload


class BookingForm(AttendeeFields, FlaskForm):
    organisation_name = StringField(_l("单位名称"), filters=[_strip], validators=[
        DataRequired(_l("请填写单位名称。")),
        Length(max=120, message=_l("单位名称不能超过 %(max)d 个字符。"))])
    organisation_kind = SelectField(
        _l("单位类型"), choices=[SelectChoice("", _l("— 请选择 —"))] + [
            SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()],
        validators=[DataRequired(_l("请选择单位类型。"))])
    credit_code = StringField(_l("统一社会信用代码（可选）"), filters=[_strip],
                              validators=[_credit_code])
    contact_name = StringField(_l("联系人姓名"), filters=[_strip], validators=[
        DataRequired(_l("请填写联系人姓名。")),
        Length(max=60, message=_l("姓名不能超过 %(max)d 个字符。"))])
    contact_phone = TelField(_l("联系人手机号码"), filters=[_strip], validators=[
        DataRequired(_l("请填写联系人手机号码。")), _mobile])
    contact_email = EmailField(_l("电子邮箱（可选）"), filters=[_strip], validators=[
        Optional(), Email(_l("电子邮箱格式不正确。"), check_deliverability=False),
        Length(max=254, message=_l("电子邮箱过长。"))])
    notify_by = RadioField(
        _l("通知方式"), default=NotifyBy.BOTH.value, validators=[Optional()],
        choices=[SelectChoice(choice.value, label) for choice, label in NOTIFY_BY_LABELS.items()])
    party_size = IntegerField(_l("团体人数"), validators=[
        InputRequired(_l("请填写团体人数。"))])
    notes = TextAreaField(_l("备注（可选）"), filters=[_strip], validators=[
        Length(max=1000, message=_l("备注不能超过 %(max)d 个字符。"))])
    consent = BooleanField(_l("我已阅读并同意参观须知和隐私说明"), validators=[
        DataRequired(_l("请阅读并同意参观须知和隐私说明后再提交。"))])

    def __init__(self, *args, party_size_min: int = 1, party_size_max: int = 50, **kwargs):
        super().__init__(*args, **kwargs)
        self.party_size_min = party_size_min
        self.party_size_max = party_size_max

    def validate_party_size(self, field) -> None:
        NumberRange(self.party_size_min, self.party_size_max,
                    message=_l("团体人数须在 %(min)s 至 %(max)s 人之间。",
                               min=self.party_size_min, max=self.party_size_max))(self, field)

    def validate_notify_by(self, field) -> None:
        if needs_email(field.data, self.contact_email.data):
            raise ValidationError(_l("选择“电子邮件”时请填写电子邮箱，或改选短信。"))

    @property
    def kind(self) -> OrganisationKind:
        return OrganisationKind(self.organisation_kind.data)


class AttendeesForm(AttendeeFields, FlaskForm):
    """Replace the attendee list of an existing booking."""


class PartySizeForm(FlaskForm):
    party_size = IntegerField(_l("新的团体人数"), validators=[
        InputRequired(_l("请填写团体人数。")),
        NumberRange(min=1, message=_l("团体人数至少为 1 人。"))])


class CancelForm(FlaskForm):
    confirm = HiddenField(default="yes")
    reason = TextAreaField(_l("取消原因（可选）"), filters=[_strip], validators=[
        Length(max=300, message=_l("取消原因不能超过 %(max)d 个字符。"))])


class FindBookingForm(FlaskForm):
    reference = StringField(_l("预约编号"), filters=[_strip], validators=[
        DataRequired(_l("请填写预约编号。")), Length(max=20, message=_l("预约编号格式不正确。"))])
    contact_phone = TelField(_l("预约时填写的手机号码"), filters=[_strip], validators=[
        DataRequired(_l("请填写手机号码。")), Length(max=20, message=_l("手机号码格式不正确。"))])
