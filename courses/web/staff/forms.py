"""Forms for the course scheduler's staff pages. They check shape; the rules check policy.

Choices that come from the database (venues, rooms, lecturers, courses) are filled in by the
view with ``set_choices`` before validation.
"""
from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from booking.errors import BookingError
from booking.i18n import localized
from booking.rules.vocabulary import WEEKDAY_LABELS, programme_kind_label
from courses.models import CourseKind
from courses.rules.catalogue import CODE_PATTERN, parse_modules

LECTURER_TITLES = {"宣讲员": _l("宣讲员"), "讲解员": _l("讲解员")}
NONE = 0  # the "no choice" value of optional selects
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    venue = SelectField(_l("场馆"), coerce=int)
    kind = SelectField(_l("类型"), choices=lambda: [(k.value, programme_kind_label(k)) for k in CourseKind])
    code = StringField(_l("代码"), validators=[DataRequired(_l("请填写代码。")), Length(max=60)],
                       filters=[lambda v: (v or "").strip().lower()])
    title = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), Length(max=200)])
    title_en = StringField(_l("英文名称"), validators=[Length(max=200)])
    summary = StringField(_l("简介"), validators=[Length(max=300)])
    summary_en = StringField(_l("英文简介"), validators=[Length(max=300)])
    description = TextAreaField(_l("详细介绍"), validators=[Length(max=5000)])
    description_en = TextAreaField(_l("英文详细介绍"), validators=[Length(max=5000)])
    audience = StringField(_l("适合对象"), validators=[Length(max=200)])
    audience_en = StringField(_l("英文适合对象"), validators=[Length(max=200)])
    modules_text = TextAreaField(_l("课程环节（按顺序）"),
                                 validators=[DataRequired(_l("请至少填写一个环节。"))])
    training_hours = DecimalField(_l("学时"), places=1, validators=[
        InputRequired(_l("请填写学时。")),
        NumberRange(min=0, max=99.5, message=_l("学时应在 0 至 99.5 之间。"))])
    group_min = IntegerField(_l("最少人数"), validators=[
        InputRequired(_l("请填写最少人数。")), NumberRange(min=1, message=_l("最少人数至少为 1。"))])
    group_max = IntegerField(_l("最多人数"), validators=[
        InputRequired(_l("请填写最多人数。")), NumberRange(min=1, message=_l("最多人数至少为 1。"))])
    requires_approval = BooleanField(_l("预约需审核"))
    requires_letter = BooleanField(_l("需要单位介绍信"))
    min_working_days_ahead = IntegerField(_l("最少提前（工作日）"), validators=[
        Optional(), NumberRange(min=0, max=365, message=_l("请填写 0 至 365 之间的整数。"))])
    max_days_ahead = IntegerField(_l("最多提前（天）"), validators=[
        Optional(), NumberRange(min=1, max=730, message=_l("请填写 1 至 730 之间的整数。"))])
    default_room = SelectField(_l("默认场地"), coerce=int)
    lecturers = MultiCheckboxField(_l("可讲授的宣讲员/讲解员"), coerce=int)
    equipment = TextAreaField(_l("所需器材（每行一项）"), validators=[Length(max=2000)])
    equipment_en = TextAreaField(_l("英文器材名称（每行一项，与中文逐行对应）"),
                                 validators=[Length(max=2000)])

    def set_choices(self, venues, rooms, lecturers) -> None:
        self.venue.choices = [(v.id, localized(v, "name")) for v in venues]
        self.default_room.choices = [(NONE, _l("— 不指定 —"))] + [
            (r.id, _l("%(venue)s · %(room)s（%(n)s 人）", venue=localized(r.venue, "name"),
                      room=localized(r, "name"), n=r.capacity)) for r in rooms]
        self.lecturers.choices = [
            (lec.id, _l("%(name)s（%(venue)s）", name=lec.name, venue=localized(lec.venue, "name")))
            for lec in lecturers]

    def validate_modules_text(self, field) -> None:
        try:
            self.parsed_modules = parse_modules(field.data)
        except BookingError as error:
            raise ValidationError(str(error.message)) from error

    def validate_code(self, field) -> None:
        if field.data and not CODE_PATTERN.match(field.data):
            raise ValidationError(_l("代码只能包含小写字母、数字和连字符，例如 party-day。"))

    def validate_group_max(self, field) -> None:
        if field.data is not None and self.group_min.data is not None \
                and field.data < self.group_min.data:
            raise ValidationError(_l("最多人数不能少于最少人数。"))

    def validate_training_hours(self, field) -> None:
        if field.data is not None and (field.data * 2) % 1 != 0:
            raise ValidationError(_l("学时以 0.5 为单位，例如 1、1.5、2。"))


class LecturerForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=60)])
    title = SelectField(_l("职务"), choices=list(LECTURER_TITLES.items()))
    venue = SelectField(_l("场馆"), coerce=int)
    staff_user = SelectField(_l("登录账号（角色为讲解员）"), coerce=int)
    courses = MultiCheckboxField(_l("可讲授的课程"), coerce=int)
    active = BooleanField(_l("在岗（可安排场次）"), default=True)

    def set_choices(self, venues, guides, courses) -> None:
        self.venue.choices = [(v.id, localized(v, "name")) for v in venues]
        self.staff_user.choices = [(NONE, _l("— 不关联 —"))] + [
            (u.id, _l("%(name)s（%(username)s）", name=u.display_name or u.username,
                      username=u.username)) for u in guides]
        self.courses.choices = [
            (c.id, _l("%(title)s（%(venue)s）", title=localized(c, "title"),
                      venue=localized(c.venue, "name"))) for c in courses]


class AbsenceForm(FlaskForm):
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期。"))])
    note = StringField(_l("备注"), validators=[Length(max=200)])


def _session_choices(form, rooms, lecturers) -> None:
    form.room.choices = [(NONE, _l("— 课程默认场地 —"))] + [
        (r.id, _l("%(room)s（%(n)s 人）", room=localized(r, "name"), n=r.capacity)) for r in rooms]
    form.lecturer.choices = [(NONE, _l("— 暂不指定 —"))] + [
        (lec.id, _l("%(name)s（%(title)s）", name=lec.name,
                    title=LECTURER_TITLES.get(lec.title, lec.title))) for lec in lecturers]


class SessionForm(FlaskForm):
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期。"))])
    start = TimeField(_l("开始时间"), validators=[InputRequired(_l("请填写开始时间。"))])
    room = SelectField(_l("场地"), coerce=int)
    lecturer = SelectField(_l("宣讲员/讲解员"), coerce=int)
    capacity = IntegerField(_l("容量（人）"), validators=[
        Optional(), NumberRange(min=1, max=10000, message=_l("容量应为正整数。"))])

    set_choices = _session_choices


def parse_times(text: str) -> list[time]:
    """``09:00, 10:30 14:00`` → sorted distinct times; ValidationError names a bad entry."""
    found: set[time] = set()
    for item in re.split(r"[\s,，、;；]+", (text or "").strip()):
        if not item:
            continue
        match = TIME_PATTERN.match(item)
        if match is None:
            raise ValidationError(_l("“%(item)s”不是有效的时间，请写成 09:00 这样的格式。", item=item))
        found.add(time(int(match.group(1)), int(match.group(2))))
    return sorted(found)


class PatternForm(FlaskForm):
    first_day = DateField(_l("开始日期"), validators=[InputRequired(_l("请选择开始日期。"))])
    last_day = DateField(_l("结束日期"), validators=[InputRequired(_l("请选择结束日期。"))])
    weekdays = MultiCheckboxField(_l("每周"), coerce=int, choices=list(enumerate(WEEKDAY_LABELS)))
    times = StringField(_l("开始时间（可填多个）"), default="09:00, 14:00",
                        validators=[DataRequired(_l("请至少填写一个开始时间。")), Length(max=200)])
    room = SelectField(_l("场地"), coerce=int)
    lecturer = SelectField(_l("宣讲员/讲解员"), coerce=int)
    capacity = IntegerField(_l("容量（人）"), validators=[
        Optional(), NumberRange(min=1, max=10000, message=_l("容量应为正整数。"))])
    action = HiddenField(default="preview")

    set_choices = _session_choices

    def validate_times(self, field) -> None:
        self.parsed_times = parse_times(field.data)
        if not self.parsed_times:
            raise ValidationError(_l("请至少填写一个开始时间。"))

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("请至少选择一个星期几。"))

    def validate_last_day(self, field) -> None:
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))


class SessionEditForm(FlaskForm):
    room = SelectField(_l("场地"), coerce=int)
    lecturer = SelectField(_l("宣讲员/讲解员"), coerce=int)
    capacity = IntegerField(_l("容量（人）"), validators=[
        InputRequired(_l("请填写容量。")), NumberRange(min=1, max=10000, message=_l("容量应为正整数。"))])

    def set_choices(self, rooms, lecturers) -> None:
        _session_choices(self, rooms, lecturers)
        self.room.choices = self.room.choices[1:]  # a scheduled session keeps a room


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("取消理由（预约单位会看到）"), validators=[
        Length(max=300, message=_l("理由不能超过 300 个字符。"))])
    reason_en = TextAreaField(_l("英文取消理由（可选，英文预约的单位会看到）"), validators=[
        Length(max=300, message=_l("理由不能超过 300 个字符。"))])


class ClosureForm(FlaskForm):
    venue = SelectField(_l("场馆"), coerce=int)
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期。"))])
    kind = RadioField(_l("设置"), default="close", choices=[
        ("close", _l("临时闭馆（取消当天所有场次）")), ("open", _l("特别开放（如节假日的周一）"))])
    reason = StringField(_l("原因（公众日历会显示）"), validators=[
        Length(max=200, message=_l("原因不能超过 200 个字符。"))])
    reason_en = StringField(_l("英文原因（可选，英文页面显示）"), validators=[
        Length(max=200, message=_l("原因不能超过 200 个字符。"))])
    action = HiddenField(default="preview")

    def set_choices(self, venues) -> None:
        self.venue.choices = [(v.id, localized(v, "name")) for v in venues]


class AgendaFilterForm(FlaskForm):
    """The sessions list's filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    venue = SelectField(_l("场馆"), coerce=int, validators=[Optional()])
    start = DateField(_l("从"), validators=[Optional()])
    end = DateField(_l("到"), validators=[Optional()])
    course = SelectField(_l("课程"), coerce=int, validators=[Optional()])
    lecturer = SelectField(_l("宣讲员/讲解员"), coerce=int, validators=[Optional()])

    def set_choices(self, venues, courses, lecturers) -> None:
        self.venue.choices = [(v.id, localized(v, "name")) for v in venues]
        self.course.choices = [(NONE, _l("全部课程"))] + [(c.id, localized(c, "title"))
                                                      for c in courses]
        self.lecturer.choices = [(NONE, _l("全部"))] + [(lec.id, lec.name) for lec in lecturers]
