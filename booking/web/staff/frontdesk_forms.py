"""Front-desk forms: book for a group, edit, move, cancel, search. Shape only; the rules in
:mod:`booking.rules.frontdesk` check policy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
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
)

from booking.i18n import LANGUAGES
from booking.models import BookingState
from booking.rules.frontdesk import BookingEdit, StaffOverrides
from booking.rules.party_makeup import PartyMakeup
from booking.rules.vocabulary import state_label
from booking.web.input_guard import MAX_URL_INT
from booking.web.public.forms import (
    AttendeeFields,
    _credit_code,
    _mobile,
    _strip,
    organisation_kind_field,
)


class OverrideFields:
    """Staff-only exceptions to the public rules: each needs a reason (audited)."""

    override_lead_time = BooleanField(_l("不受提前预约天数限制"))
    override_party_size = BooleanField(_l("不受本项目人数范围限制"))
    override_reason = StringField(_l("放宽限制的理由"), filters=[_strip], validators=[
        Length(max=300, message=_l("理由不能超过 %(max)d 个字符。"))])

    def overrides(self) -> StaffOverrides:
        limits = getattr(self, "override_limits", None)
        return StaffOverrides(lead_time=bool(self.override_lead_time.data),
                              party_size=bool(self.override_party_size.data),
                              limits=bool(limits is not None and limits.data),
                              reason=self.override_reason.data or "")


class ContactFields:
    contact_name = StringField(_l("联系人姓名"), filters=[_strip], validators=[
        DataRequired(_l("请填写联系人姓名。")),
        Length(max=60, message=_l("姓名不能超过 %(max)d 个字符。"))])
    contact_phone = TelField(_l("联系人手机号码"), filters=[_strip], validators=[
        DataRequired(_l("请填写联系人手机号码。")), _mobile])
    contact_email = EmailField(_l("电子邮箱（可选）"), filters=[_strip], validators=[
        Optional(), Email(_l("电子邮箱格式不正确。"), check_deliverability=False),
        Length(max=254, message=_l("电子邮箱过长。"))])
    party_size = IntegerField(_l("团体人数"), validators=[
        Optional(),
        NumberRange(min=1, max=1000, message=_l("团体人数须在 %(min)s 至 %(max)s 人之间。"))])
    # A study tour's adults and minors (booking.rules.party_makeup); the size may be left to
    # their sum.
    adults = IntegerField(_l("带队成人人数（研学项目必填）"), validators=[
        Optional(), NumberRange(min=0, max=1000, message=_l("人数应在 %(min)s 至 %(max)s 之间。"))])
    minors = IntegerField(_l("学生（未成年人）人数（研学项目必填）"), validators=[
        Optional(), NumberRange(min=0, max=1000, message=_l("人数应在 %(min)s 至 %(max)s 之间。"))])
    notes = TextAreaField(_l("备注（可选）"), filters=[_strip], validators=[
        Length(max=1000, message=_l("备注不能超过 %(max)d 个字符。"))])


class StaffAttendeeFields(AttendeeFields):
    """The public form's list and file upload (read into the list on the first submit)."""

    attendees = TextAreaField(_l("参加人员名单（每行一人，可选）"), filters=[_strip],
                              validators=[Length(max=20000, message=_l("名单过长。"))])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.party_size.data is None and not self.party_size.errors:
            if self.adults.data is not None and self.minors.data is not None:
                self.party_size.data = self.adults.data + self.minors.data
            else:
                self.party_size.errors.append(_l("请填写团体人数（研学项目可只填成人和学生人数）。"))
                valid = False
        return valid


class StaffBookingForm(OverrideFields, StaffAttendeeFields, ContactFields, FlaskForm):
    slot = SelectField(_l("场次"), coerce=int, validate_choice=False,
                       validators=[InputRequired(_l("请选择场次。"))])
    organisation_name = StringField(_l("单位名称"), filters=[_strip], validators=[
        DataRequired(_l("请填写单位名称。")),
        Length(max=120, message=_l("单位名称不能超过 %(max)d 个字符。"))])
    organisation_kind = organisation_kind_field()
    credit_code = StringField(_l("统一社会信用代码（可选）"), filters=[_strip],
                              validators=[_credit_code])
    language = SelectField(_l("通知语言"), default="zh", choices=[
        SelectChoice(code, label) for code, label in LANGUAGES.items()])
    override_limits = BooleanField(_l("不受每个单位或电话的预约数量限制"))


class EditBookingForm(OverrideFields, StaffAttendeeFields, ContactFields, FlaskForm):
    def edit(self) -> BookingEdit:
        return BookingEdit(contact_name=self.contact_name.data,
                           contact_phone=self.contact_phone.data,
                           contact_email=self.contact_email.data or "",
                           notes=self.notes.data or "", party_size=self.party_size.data,
                           attendee_names=self.typed_names(),
                           adults=self.adults.data, minors=self.minors.data)


class MoveBookingForm(OverrideFields, FlaskForm):
    slot = SelectField(_l("新的场次"), coerce=int, validate_choice=False,
                       validators=[InputRequired(_l("请选择场次。")),
                                   NumberRange(min=1, max=MAX_URL_INT,
                                               message=_l("请选择场次。"))])
    # Only for a group moving into a study tour without its adults and minors on record.
    adults = ContactFields.adults
    minors = ContactFields.minors

    def makeup(self) -> PartyMakeup:
        return PartyMakeup(self.adults.data, self.minors.data)


class StaffCancelForm(FlaskForm):
    reason = TextAreaField(_l("取消理由"), filters=[_strip], validators=[
        DataRequired(_l("请填写取消理由，预约单位会看到它。")),
        Length(max=300, message=_l("理由不能超过 %(max)d 个字符。"))])


def state_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("全部状态"))] + [SelectChoice(s.value, state_label(s))
                                             for s in BookingState]


class SearchForm(FlaskForm):
    """Read from the query string: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("编号、单位、信用代码或手机号"), filters=[_strip],
                    validators=[Optional(), Length(max=120)])
    date_from = DateField(_l("从"), validators=[Optional()])
    date_to = DateField(_l("至"), validators=[Optional()])
    state = SelectField(_l("状态"), choices=state_choices, default="")
