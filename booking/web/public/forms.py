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
    StopValidation,
    ValidationError,
)

from booking.errors import BookingError
from booking.models import OrganisationKind
from booking.rules.attendee_files import MAX_FILE_BYTES, parse_attendee_file
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


def organisation_kind_choices() -> list[SelectChoice]:
    """The kinds after a blank first choice, so the kind is picked on purpose (a school must
    not go through as the first option by default)."""
    return [SelectChoice("", _l("请选择单位类型"))] + [
        SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()]


def organisation_kind_field() -> SelectField:
    """单位类型, required, starting blank (public form, waiting list, front desk)."""
    return SelectField(_l("单位类型"), choices=organisation_kind_choices, default="",
                       validators=[DataRequired(_l("请选择单位类型。"))])


class AttendeeFields:
    """The attendee list: typed one per line, and/or uploaded as CSV or XLSX."""

    attendees = TextAreaField(_l("参加人员名单"), filters=[_strip],
                              validators=[Length(max=20000, message=_l("名单过长。"))])
    attendee_file = FileField(_l("或上传名单文件（CSV / Excel .xlsx）"))

    names_read_from_file: int | None = None

    def typed_names(self) -> list[str]:
        """The names in the list, the uploaded file's included once :meth:`validate` ran."""
        return [line.strip() for line in (self.attendees.data or "").splitlines()
                if line.strip()]

    def uploaded_file(self):
        field = getattr(self, "attendee_file", None)  # None where a subclass drops it
        upload = field.data if field is not None else None
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload

    def validate(self, extra_validators=None) -> bool:
        """Read an uploaded file into the names list first, so a submit that fails for
        another reason shows the names (a file input cannot be refilled) and says so."""
        refusal = self._read_attendee_file()
        valid = super().validate(extra_validators)
        if refusal is not None:
            self.attendee_file.errors = [*self.attendee_file.errors, refusal]
            return False
        return valid

    def _read_attendee_file(self) -> str | None:
        upload = self.uploaded_file()
        if upload is None:
            return None
        try:
            names = parse_attendee_file(upload.filename, upload.read(MAX_FILE_BYTES + 1))
        except BookingError as refused:
            return str(refused.message)
        self.attendees.data = "\n".join(self.typed_names() + names)
        self.attendee_file.data = None
        self.names_read_from_file = len(names)
        return None


class LetterField:
    """The introduction letter (介绍信), when the programme asks for one."""

    letter = FileField(_l("介绍信文件"))

    def letter_bytes(self, max_bytes: int) -> bytes | None:
        """The uploaded letter, read no further than ``max_bytes + 1`` (enough to tell it is
        too large); None when no file was chosen."""
        upload = self.letter.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return upload.stream.read(max_bytes + 1)



class PartyFields:
    """The party's size, or for a study tour (``makeup``) its adults and minors, whose sum is
    the size. Shape only: the ratio is :mod:`booking.rules.party_makeup`'s."""

    party_size = IntegerField(_l("团体人数"), validators=[
        InputRequired(_l("请填写团体人数。"))])
    adults = IntegerField(_l("带队成人（教师等）人数"))
    minors = IntegerField(_l("学生（未成年人）人数"))

    def init_party(self, party_size_min: int, party_size_max: int, makeup: bool) -> None:
        self.party_size_min, self.party_size_max, self.makeup = (
            party_size_min, party_size_max, makeup)
        if makeup:  # the size is the sum, not an input of its own
            self.party_size.validators = []

    def validate_party_size(self, field) -> None:
        if self.makeup:
            if self.adults.data is None or self.minors.data is None:
                raise StopValidation()  # the adults and minors fields say what is missing
            field.data = self.adults.data + self.minors.data
        NumberRange(self.party_size_min, self.party_size_max,
                    message=_l("团体人数须在 %(min)s 至 %(max)s 人之间。",
                               min=self.party_size_min, max=self.party_size_max))(self, field)

    def _count(self, field, missing) -> None:
        if not self.makeup:
            field.errors[:] = []
            field.data = None
            raise StopValidation()
        if field.data is None:
            blank = not field.raw_data or not str(field.raw_data[0]).strip()
            field.errors[:] = []
            raise StopValidation(missing if blank else _l("请填写整数。"))
        NumberRange(min=0, max=1000, message=_l("人数应在 %(min)s 至 %(max)s 之间。"))(self, field)

    def validate_adults(self, field) -> None:
        self._count(field, _l("请填写带队成人人数（没有请填 0）。"))

    def validate_minors(self, field) -> None:
        self._count(field, _l("请填写学生（未成年人）人数（没有请填 0）。"))

    def party_makeup(self) -> dict:
        """The adults and minors as BookingRequest fields (none unless a study tour)."""
        if not self.makeup:
            return {}
        return {"adults": self.adults.data, "minors": self.minors.data}


class BookingForm(PartyFields, AttendeeFields, LetterField, FlaskForm):
    organisation_name = StringField(_l("单位名称"), filters=[_strip], validators=[
        DataRequired(_l("请填写单位名称。")),
        Length(max=120, message=_l("单位名称不能超过 %(max)d 个字符。"))])
    organisation_kind = organisation_kind_field()
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
    notes = TextAreaField(_l("备注（可选）"), filters=[_strip], validators=[
        Length(max=1000, message=_l("备注不能超过 %(max)d 个字符。"))])
    consent = BooleanField(_l("我已阅读并同意参观须知和隐私说明"), validators=[
        DataRequired(_l("请阅读并同意参观须知和隐私说明后再提交。"))])

    def __init__(self, *args, party_size_min: int = 1, party_size_max: int = 50,
                 makeup: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_party(party_size_min, party_size_max, makeup)

    def validate_notify_by(self, field) -> None:
        if needs_email(field.data, self.contact_email.data):
            raise ValidationError(_l("选择“电子邮件”时请填写电子邮箱，或改选短信。"))

    @property
    def kind(self) -> OrganisationKind:
        return OrganisationKind(self.organisation_kind.data)


class AttendeesForm(AttendeeFields, FlaskForm):
    """Replace the attendee list of an existing booking."""


class LetterForm(LetterField, FlaskForm):
    """Send or replace the introduction letter from the manage page."""


class PartySizeForm(PartyFields, FlaskForm):
    """Lower the party size (a study tour: its adults and minors)."""

    def __init__(self, *args, makeup: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_party(1, 1000, makeup)
        self.party_size.label.text = _l("新的团体人数")


class CancelForm(FlaskForm):
    confirm = HiddenField(default="yes")
    reason = TextAreaField(_l("取消原因（可选）"), filters=[_strip], validators=[
        Length(max=300, message=_l("取消原因不能超过 %(max)d 个字符。"))])


class FindBookingForm(FlaskForm):
    reference = StringField(_l("预约编号"), filters=[_strip], validators=[
        DataRequired(_l("请填写预约编号。")), Length(max=20, message=_l("预约编号格式不正确。"))])
    contact_phone = TelField(_l("预约时填写的手机号码"), filters=[_strip], validators=[
        DataRequired(_l("请填写手机号码。")), Length(max=20, message=_l("手机号码格式不正确。"))])
